"""The REST API under /api/v1/: each domain app contributes its own `api_urls`."""

from django.urls import include, path, re_path

from console.api.views import endpoint_not_found

urlpatterns = [
    path("", include("console.accounts.api_urls")),
    path("", include("console.nodes.api_urls")),
    path("", include("console.projects.api_urls")),
    path("", include("console.federation.api_urls")),
    path("", include("console.datasets.api_urls")),
    path("", include("console.audit.api_urls")),
    path("", include("workflows.api_urls")),
    # Last: anything else under /api/v1/ answers a JSON 404.
    re_path(r"^(?P<path>.*)$", endpoint_not_found),
]
