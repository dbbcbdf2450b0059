"""ASGI entry point served by daphne: HTTP pages and API (websockets join with runs)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402 - needs Django set up first
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# The console serves its own static files so that `make run` needs no web server in front;
# a deployment behind nginx can turn this off with PRIVPAD_SERVE_STATIC=false.
http_app = ASGIStaticFilesHandler(django_http) if settings.PRIVPAD_SERVE_STATIC else django_http

application = ProtocolTypeRouter({"http": http_app})
