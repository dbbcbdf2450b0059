"""Sign-in protection: lockout with the wait, bad-token throttling, disabled nodes, idle
sessions and re-authentication for sensitive actions."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from console.accounts.models import ApiToken
from console.accounts.sessions import AUTHENTICATED_AT_KEY, LAST_SEEN_KEY
from console.audit.models import AuditEvent
from console.datasets.models import Dataset
from console.nodes.models import Node
from tests.console.accounts.conftest import token_for
from tests.console.api.helpers import assert_error, make_dataset
from tests.console.conftest import PASSWORD

LOGIN = "/accounts/login/"


def _sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 5
    return 5


def test_the_right_password_is_refused_after_the_limit_with_the_wait(alice_user, limit):
    client = Client()
    for _ in range(limit - 1):
        assert _sign_in(client, alice_user.username, "wrong").status_code == 200
    assert _sign_in(client, alice_user.username, "wrong").status_code == 429  # the limit-th
    response = _sign_in(client, alice_user.username, PASSWORD)
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    assert int(response["Retry-After"]) > 14 * 60
    assert "_auth_user_id" not in client.session
    # Each refused attempt while locked out is audited: the limit-th and the right password.
    lockouts = AuditEvent.objects.filter(action="login_failed", outcome="denied")
    assert lockouts.count() == 2
    lockout = lockouts.first()
    assert lockout.actor_username == alice_user.username
    assert lockout.detail["locked_out"] is True
    assert AuditEvent.objects.filter(action="login_failed", outcome="failed").count() >= limit


def test_another_address_is_not_locked_out(alice_user, limit):
    for _ in range(limit):
        _sign_in(Client(REMOTE_ADDR="10.0.0.1"), alice_user.username, "wrong")
    response = _sign_in(Client(REMOTE_ADDR="10.0.0.2"), alice_user.username, PASSWORD)
    assert response.status_code == 302


def test_a_success_before_the_limit_resets_the_count(alice_user, limit):
    client = Client()
    for _ in range(limit - 1):
        _sign_in(client, alice_user.username, "wrong")
    assert _sign_in(client, alice_user.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(limit - 1):
        _sign_in(client, alice_user.username, "wrong")
    assert _sign_in(client, alice_user.username, PASSWORD).status_code == 302


def test_40_bad_tokens_end_in_429_with_the_wait(alice_user, settings):
    settings.AXES_FAILURE_LIMIT = 10
    client = APIClient()
    statuses = []
    for attempt in range(40):
        client.credentials(HTTP_AUTHORIZATION=f"Token bad{attempt:037d}")
        statuses.append(client.get("/api/v1/me/").status_code)
    assert statuses[:9] == [401] * 9
    assert set(statuses[9:]) == {429}
    client.credentials(HTTP_AUTHORIZATION=f"Token bad{0:037d}")
    response = client.get("/api/v1/me/")
    body = assert_error(response, 429, "throttled")
    assert "Too many bad API tokens" in body["detail"]
    assert "Try again in 15 minutes" in body["detail"]
    assert int(response["Retry-After"]) > 14 * 60
    # Even a good token waits: the client, not the token, is locked out.
    good = token_for(alice_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert client.get("/api/v1/me/").status_code == 429
    assert AuditEvent.objects.filter(action="login_failed", actor_username="(api token)").exists()


@pytest.fixture
def alice_disabled(alice):
    def disable():
        Node.objects.filter(pk=alice.pk).update(status=Node.Status.DISABLED)

    return disable


def test_a_disabled_nodes_user_cannot_sign_in_and_is_told_why(alice_user, alice_disabled):
    alice_disabled()
    response = _sign_in(Client(), alice_user.username, PASSWORD)
    assert response.status_code == 200
    assert "is disabled: its users cannot sign in" in response.content.decode()


def test_a_wrong_password_of_a_disabled_nodes_user_says_nothing_more(alice_user, alice_disabled):
    alice_disabled()
    response = _sign_in(Client(), alice_user.username, "wrong")
    assert "disabled" not in response.content.decode()


def test_open_sessions_of_a_disabled_node_stop_working(alice_client, alice_disabled):
    assert alice_client.get("/").status_code == 200
    alice_disabled()
    assert alice_client.get("/").status_code == 302
    assert alice_client.get("/api/v1/me/").status_code == 401


def test_a_disabled_nodes_tokens_stop_working(alice_user, alice_disabled, storage):
    token = token_for(alice_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 200
    alice_disabled()
    assert "node is disabled" in assert_error(client.get("/api/v1/me/"), 401)["detail"]
    body, content_type = _upload_body()
    assert client.post("/api/v1/datasets/", body, content_type=content_type).status_code == 401
    assert not Dataset.objects.exists()


def _upload_body():
    from tests.console.datasets.helpers import multipart

    return multipart("x.csv", b"id,age\n1,2\n", name="x")


def _age_session(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_ends(alice_client, settings):
    settings.PRIVPAD_SESSION_IDLE_MINUTES = 30
    _age_session(alice_client, LAST_SEEN_KEY, 31 * 60)
    assert alice_client.get("/").status_code == 302
    assert "_auth_user_id" not in alice_client.session


def test_an_active_session_continues(alice_client, settings):
    settings.PRIVPAD_SESSION_IDLE_MINUTES = 30
    _age_session(alice_client, LAST_SEEN_KEY, 29 * 60)
    assert alice_client.get("/").status_code == 200
    assert time.time() - alice_client.session[LAST_SEEN_KEY] < 5


@pytest.fixture
def stale_alice(alice_client, settings):
    settings.PRIVPAD_REAUTH_MINUTES = 15
    _age_session(alice_client, AUTHENTICATED_AT_KEY, 16 * 60)
    return alice_client


def test_deleting_a_dataset_through_the_api_needs_a_recent_sign_in(stale_alice, alice):
    dataset = make_dataset(alice)
    response = stale_alice.delete(f"/api/v1/datasets/{dataset.pk}/")
    assert_error(response, 403, "reauthentication_required")
    assert stale_alice.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 200
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_the_delete_page_asks_for_the_password_then_comes_back(stale_alice, alice):
    dataset = make_dataset(alice)
    page = f"/datasets/{dataset.pk}/delete/"
    response = stale_alice.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/?next=")
    wrong = stale_alice.post("/accounts/reauth/", {"password": "wrong", "next": page})
    assert "That is not your password." in wrong.content.decode()
    right = stale_alice.post("/accounts/reauth/", {"password": PASSWORD, "next": page})
    assert right["Location"] == page
    assert stale_alice.get(page).status_code == 200


def test_reauth_refuses_to_send_the_user_elsewhere(stale_alice):
    response = stale_alice.post(
        "/accounts/reauth/", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_issuing_a_token_needs_a_recent_sign_in(stale_alice):
    assert stale_alice.get("/accounts/tokens/").status_code == 200
    assert stale_alice.post("/accounts/tokens/")["Location"].startswith("/accounts/reauth/")
    assert_error(stale_alice.post("/api/v1/tokens/"), 403, "reauthentication_required")
    assert not ApiToken.objects.exists()


def test_a_fresh_sign_in_may_issue_a_token(alice_client):
    assert alice_client.post("/api/v1/tokens/", {"name": "script"}).status_code == 201
