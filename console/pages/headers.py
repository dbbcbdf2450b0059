"""Browser policy headers Django does not send by itself.

Django's SecurityMiddleware sends Referrer-Policy, Cross-Origin-Opener-Policy, nosniff and (with
TLS) HSTS; django-csp sends the Content-Security-Policy. This adds Permissions-Policy: the
console needs no camera, microphone, location or payment API, so no page (nor anything
injected into one) may ask for them.
"""

from __future__ import annotations

from django.conf import settings


class BrowserPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
