"""URL map of the console: pages per domain app, the REST API, its schema and docs, admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from console.api.docs import DocsView, SchemaView

urlpatterns = [
    path("", include("console.pages.urls")),
    path("accounts/", include("console.accounts.urls")),
    path("nodes/", include("console.nodes.urls")),
    path("projects/", include("console.projects.urls")),
    path("datasets/", include("console.datasets.urls")),
    path("audit/", include("console.audit.urls")),
    path("pipelines/", include("console.pipelines.urls")),
    path("approvals/", include("console.approvals.urls")),
    path("federation/", include("console.federation.urls")),
    path("runs/", include("console.pipelines.runs_urls")),
    path("api/v1/", include("console.api.urls")),
    # The translations the browser modules use (gettext() in static/console/js), served here.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
