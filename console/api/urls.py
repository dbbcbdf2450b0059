"""The REST API under /api/v1/: each domain app contributes its own `api_urls`."""

from django.urls import include, path

urlpatterns = [
    path("", include("console.accounts.api_urls")),
    path("", include("console.nodes.api_urls")),
    path("", include("console.projects.api_urls")),
    path("", include("console.datasets.api_urls")),
    path("", include("console.audit.api_urls")),
]
