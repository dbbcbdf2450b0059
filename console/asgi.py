"""ASGI entry point served by daphne: HTTP pages and API (websockets join with runs)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import re_path  # noqa: E402

from console.websockets import NotFoundConsumer, SameOriginValidator  # noqa: E402

# The console serves its own static files so that `make run` needs no web server in front;
# a deployment behind nginx can turn this off with PRIVPAD_SERVE_STATIC=false.
http_app = ASGIStaticFilesHandler(django_http) if settings.PRIVPAD_SERVE_STATIC else django_http

from workflows.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(
                URLRouter([*websocket_urlpatterns, re_path(r"", NotFoundConsumer.as_asgi())])
            )
        ),
    }
)
