"""API tokens: created once-shown, stored hashed, scoped, expiring, revocable; the command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from console.accounts.models import ApiToken
from console.accounts.tokens import digest_of
from console.audit.models import AuditEvent
from tests.console.accounts.conftest import api_as, token_client, token_for
from tests.console.api.helpers import assert_error


def test_it_describes_the_current_user(api_alice):
    assert api_alice.get("/api/v1/me/").json() == {
        "username": "alice_admin",
        "node": {"name": "alice", "display_name": "Alice", "institution": "Alice Bank"},
        "role": "admin",
        "is_node_admin": True,
        "is_platform_admin": False,
        "is_read_only": False,
    }


def test_it_requires_login_for_me_and_tokens(api_anon):
    assert_error(api_anon.get("/api/v1/me/"), 401, "not_authenticated")
    assert_error(api_anon.post("/api/v1/tokens/", {"name": "x"}), 401)
    assert_error(api_anon.get("/api/v1/tokens/"), 401)
    assert not ApiToken.objects.exists()


def test_it_creates_a_token_shown_once_and_stores_only_its_digest(api_bob, bob_user):
    body = api_bob.post(
        "/api/v1/tokens/", {"name": "nightly", "scope": "run", "expires_in_days": 7}
    ).json()
    key = body["token"]
    token = ApiToken.objects.get(user=bob_user)
    assert token.digest == digest_of(key)
    assert key not in (token.digest, token.prefix)
    assert body["scope"] == "run"
    assert body["prefix"] == f"pp_{token.prefix}"
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    listed = api_bob.get("/api/v1/tokens/").json()
    assert [t["name"] for t in listed] == ["nightly"]
    assert key not in str(listed)
    event = AuditEvent.objects.get(action="token_create", actor=bob_user)
    assert key not in str(event.detail) + event.target_repr


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scope": "read"}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "t", "scope": "root"}, "scope"),
        ({"name": "t", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "t", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "t", "expires_in_days": "soon"}, "expires_in_days"),
    ],
)
def test_it_rejects_bad_token_requests(api_bob, body, field):
    response = api_bob.post("/api/v1/tokens/", body, format="json")
    assert_error(response, 400)
    assert field in response.json()["errors"]
    assert not ApiToken.objects.exists()


def test_it_authenticates_with_a_token_from_the_api(api_alice):
    key = api_alice.post("/api/v1/tokens/", {"name": "n"}).json()["token"]
    assert token_client(key).get("/api/v1/me/").json()["username"] == "alice_admin"
    assert ApiToken.objects.get().last_used_at is not None


def test_an_expired_token_is_refused(bob_user):
    key = token_for(bob_user)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = token_client(key).get("/api/v1/me/")
    assert_error(response, 401, "authentication_failed")
    assert "expired" in response.json()["detail"]


def test_a_revoked_token_is_refused_and_revoking_is_audited(bob_user, api_bob):
    key = token_for(bob_user)
    token = ApiToken.objects.get()
    assert api_bob.delete(f"/api/v1/tokens/{token.pk}/").json()["revoked_at"]
    assert "revoked" in token_client(key).get("/api/v1/me/").json()["detail"]
    assert AuditEvent.objects.filter(action="token_revoke", actor=bob_user).exists()
    assert_error(api_bob.delete(f"/api/v1/tokens/{token.pk}/"), 400, "revoked")


def test_nobody_revokes_another_users_token(bob_user, api_carol, alice_user):
    token_for(bob_user)
    token = ApiToken.objects.get()
    assert_error(api_carol.delete(f"/api/v1/tokens/{token.pk}/"), 404)
    assert_error(api_as(alice_user).delete(f"/api/v1/tokens/{token.pk}/"), 404)
    assert ApiToken.objects.get().revoked_at is None


def test_a_token_of_an_inactive_user_or_disabled_node_is_refused(bob_user, bob):
    key = token_for(bob_user)
    bob.status = bob.Status.DISABLED
    bob.save()
    assert "disabled" in token_client(key).get("/api/v1/me/").json()["detail"]
    bob.status = bob.Status.ONLINE
    bob.save()
    bob_user.is_active = False
    bob_user.save()
    assert_error(token_client(key).get("/api/v1/me/"), 401)


@pytest.mark.parametrize("header", ["Token not-a-real-token", "Token", "Token a b"])
def test_it_answers_401_to_bad_tokens(db, header):
    client = token_client("")
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_read_token_only_reads(bob_user, project):
    client = token_client(token_for(bob_user, "read"))
    assert client.get("/api/v1/projects/").status_code == 200
    response = client.post("/api/v1/projects/", {"name": "By token"}, format="json")
    assert_error(response, 403)
    assert "scope is 'read'" in response.json()["detail"]
    # A read token cannot mint a stronger one either.
    assert_error(client.post("/api/v1/tokens/", {"name": "x", "scope": "admin"}), 403)


def test_a_run_token_runs_but_does_not_edit(bob_user, project):
    client = token_client(token_for(bob_user, "run"))
    assert_error(client.post("/api/v1/projects/", {"name": "No"}, format="json"), 403)
    # Starting a run passes the scope check and reaches the service (404: no such pipeline).
    assert_error(client.post("/api/v1/pipelines/999999/runs/", {}, format="json"), 404)
    assert_error(client.post("/api/v1/runs/999999/cancel/"), 404)


def test_an_admin_token_writes_without_csrf(bob_user, carol):
    client = token_client(token_for(bob_user, "admin"))
    response = client.post("/api/v1/projects/", {"name": "By token"}, format="json")
    assert response.status_code == 201, response.json()


def test_the_command_prints_a_working_token_with_options(alice_user):
    out = StringIO()
    call_command(
        "create_api_token", "alice_admin", "--name", "cron", "--scope", "read",
        "--expires-days", "3", stdout=out,
    )  # fmt: skip
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=alice_user)
    assert (token.name, token.scope, token.digest) == ("cron", "read", digest_of(key))
    assert token_client(key).get("/api/v1/me/").status_code == 200
    event = AuditEvent.objects.get(action="token_create")
    assert event.detail["via"] == "command"


def test_the_command_rejects_unknown_users_and_bad_options(alice_user):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody")
    with pytest.raises(CommandError, match="1 to 365 days"):
        call_command("create_api_token", "alice_admin", "--expires-days", "0")
    alice_user.is_active = False
    alice_user.save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "alice_admin")
