"""Websockets: the HTTP API's origin rule, and unknown paths closed cleanly (4404)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from console.asgi import application
from console.websockets import CLOSE_NOT_FOUND, origin_allowed
from workflows.consumers import CLOSE_FORBIDDEN

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(path: str, origin: str | None, host: str = "127.0.0.1:8000", user=None):
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))

    async def attempt():
        communicator = WebsocketCommunicator(application, path, headers)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(attempt)()


def _scope(origin: str, host: str) -> dict:
    return {"headers": [(b"origin", origin.encode()), (b"host", host.encode())]}


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://localhost", "localhost", True),
        ("http://localhost:3000", "localhost:8000", False),
        ("http://localhost:3000", "127.0.0.1:8000", False),
        ("http://evil.example", "evil.example", False),  # not in ALLOWED_HOSTS
        ("null", "127.0.0.1:8000", False),
        ("", "127.0.0.1:8000", False),
        ("ftp://127.0.0.1:8000", "127.0.0.1:8000", False),
    ],
)
def test_the_origin_rule(origin, host, allowed):
    assert origin_allowed(_scope(origin, host)) is allowed


def test_csrf_trusted_origins_are_allowed(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://console.bank.example"]
    assert origin_allowed(_scope("https://console.bank.example", "10.0.0.5:8000"))


def test_the_http_api_refuses_the_same_origin(alice_user):
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost:8000")
    client.force_login(alice_user)
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/projects/",
        {"name": "p"},
        content_type="application/json",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 403


def test_a_foreign_localhost_origin_is_refused_on_the_socket(bob_user):
    assert _connect("/ws/runs/1/", "http://localhost:3000", "localhost:8000", bob_user) == (
        False,
        1000,
    )


def test_a_handshake_without_origin_is_refused(bob_user):
    assert _connect("/ws/runs/1/", None, user=bob_user)[0] is False


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/runs/abc/", "/ws/runs/1/extra/", "/other"])
def test_unknown_paths_close_with_4404(bob_user, path):
    assert _connect(path, "http://127.0.0.1:8000", user=bob_user) == (False, CLOSE_NOT_FOUND)


def test_a_run_id_no_row_can_have_is_an_unknown_run(bob_user):
    path = f"/ws/runs/{'9' * 30}/"
    assert _connect(path, "http://127.0.0.1:8000", user=bob_user) == (False, CLOSE_FORBIDDEN)
