"""/api/v1/me/, /api/v1/tokens/, `manage.py create_api_token`, and token authentication."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from console.audit.models import AuditEvent
from tests.console.api.helpers import assert_error


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_describes_the_current_user(api_alice):
    assert api_alice.get("/api/v1/me/").json() == {
        "username": "alice_admin",
        "node": {"name": "alice", "display_name": "Alice", "institution": "Alice Bank"},
        "role": "admin",
        "is_node_admin": True,
        "is_platform_admin": False,
    }


def test_it_describes_a_platform_admin_without_node(api_admin):
    body = api_admin.get("/api/v1/me/").json()
    assert body["node"] is None
    assert body["is_platform_admin"] is True


def test_it_requires_login_for_me(api_anon):
    assert_error(api_anon.get("/api/v1/me/"), 401, "not_authenticated")


def test_it_creates_and_rotates_my_token(api_bob, bob_user):
    first = api_bob.post("/api/v1/tokens/")
    assert first.status_code == 201
    second = api_bob.post("/api/v1/tokens/").json()
    assert second["username"] == "bob_admin"
    assert Token.objects.get(user=bob_user).key == second["token"] != first.json()["token"]
    assert AuditEvent.objects.filter(action="token_create", actor=bob_user).count() == 2


def test_it_requires_login_for_tokens(api_anon):
    assert_error(api_anon.post("/api/v1/tokens/"), 401)
    assert not Token.objects.exists()


def test_it_refuses_get_on_tokens(api_bob):
    assert_error(api_bob.get("/api/v1/tokens/"), 405, "method_not_allowed")


def test_it_authenticates_with_a_token_from_the_api(api_alice):
    key = api_alice.post("/api/v1/tokens/").json()["token"]
    assert token_client(key).get("/api/v1/me/").json()["username"] == "alice_admin"


def test_the_command_prints_a_working_token(alice_user):
    out = StringIO()
    call_command("create_api_token", "alice_admin", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=alice_user).key == key
    assert token_client(key).get("/api/v1/me/").status_code == 200
    event = AuditEvent.objects.get(action="token_create")
    assert event.detail["via"] == "command"
    assert key not in str(event.detail) + event.target_repr


def test_the_command_rejects_unknown_and_inactive_users(alice_user):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody")
    alice_user.is_active = False
    alice_user.save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "alice_admin")


@pytest.fixture
def bob_token(bob_user) -> APIClient:
    return token_client(Token.objects.create(user=bob_user).key)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/me/", 200),
        ("get", "/api/v1/nodes/", 200),
        ("get", "/api/v1/nodes/alice/", 200),
        ("get", "/api/v1/projects/", 200),
        ("get", "/api/v1/projects/{project}/", 200),
        ("get", "/api/v1/projects/{project}/members/", 200),
        ("get", "/api/v1/projects/{project}/members/bob/", 200),
        ("get", "/api/v1/audit/", 200),
        ("get", "/api/v1/datasets/", 200),
        ("get", "/api/v1/authorizations/", 200),
        ("post", "/api/v1/tokens/", 201),
    ],
)
def test_token_auth_works_on_every_endpoint(bob_token, project, method, url, status):
    response = getattr(bob_token, method)(url.format(project=project.pk))
    assert response.status_code == status, response.content


def test_token_auth_writes_without_csrf(bob_token, carol):
    response = bob_token.post("/api/v1/projects/", {"name": "By token"}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("header", ["Token not-a-real-token", "Token", "Token a b"])
def test_it_answers_401_to_bad_tokens(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Token")


def test_it_answers_401_to_a_token_of_an_inactive_user(bob_user, bob_token):
    bob_user.is_active = False
    bob_user.save()
    assert_error(bob_token.get("/api/v1/me/"), 401)
