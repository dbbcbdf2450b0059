"""What stands in front of every websocket: the HTTP API's origin rule and unknown paths.

Origins: a browser sends `Origin` with every websocket handshake and, unlike HTTP requests,
websockets have no CSRF token, so the origin check is the whole defence against another site
(or another local port, e.g. a dev server on http://localhost:3000) opening a run's stream
with the user's session cookie. The rule is the one Django's CSRF check applies to the HTTP
API: the origin must be the console's own (the same host and port as the request's Host, which
must itself be in ALLOWED_HOSTS) or listed in CSRF_TRUSTED_ORIGINS. A handshake without an
Origin (not a browser) is refused too: scripts use the REST API.

Unknown paths (`/ws/nope/`, `/ws/runs/abc/`) are closed with code 4404 instead of raising in
the router (which the server reports as an error).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

CLOSE_NOT_FOUND = 4404


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def origin_allowed(scope) -> bool:
    """Whether the handshake's Origin is one the HTTP API accepts (see the module docstring)."""
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or origin == "null":
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == host.lower()


class SameOriginValidator:
    """ASGI middleware: refuse a websocket handshake from an origin the API would refuse."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Every websocket path no route matches: closed at once with 4404."""

    async def connect(self) -> None:
        await self.close(code=CLOSE_NOT_FOUND)
