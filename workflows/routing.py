"""Websocket routes of workflows (mounted by console/asgi.py)."""

from django.urls import path

from workflows.consumers import RunConsumer

websocket_urlpatterns = [path("ws/runs/<int:run_id>/", RunConsumer.as_asgi())]
