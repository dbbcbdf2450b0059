"""The OpenAPI schema and Swagger UI, for signed-in users unless published.

The schema lists every endpoint and field of the console: useful to an attacker mapping it,
so by default only signed-in users (session or token) read it. PRIVPAD_PUBLISH_API_SCHEMA=true
publishes both (e.g. an internal developer portal). Read at each request, not at start-up.
Swagger UI is served by the split view: its start-up script is a file (`?script`), which the
Content-Security-Policy allows, where an inline one would be refused.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated


def _schema_permissions():
    return [AllowAny()] if settings.PRIVPAD_PUBLISH_API_SCHEMA else [IsAuthenticated()]


class SchemaView(SpectacularAPIView):
    def get_permissions(self):
        return _schema_permissions()


class DocsView(SpectacularSwaggerSplitView):
    def get_permissions(self):
        return _schema_permissions()

    def handle_exception(self, exc):
        # A page, not an API answer: an anonymous visitor is sent to sign in and back.
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
