"""My account (password, sessions), the token page and the people pages, by who is asking."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from console.accounts.models import ApiToken, LoginSession, User
from console.accounts.tokens import digest_of
from console.audit.models import AuditEvent
from tests.console.conftest import PASSWORD

NEW_PASSWORD = "a-long-enough-Passphrase-42"


def logged_in(username: str) -> Client:
    client = Client(HTTP_USER_AGENT="pytest-browser")
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


@pytest.mark.parametrize(
    "url", ["/accounts/", "/accounts/tokens/", "/accounts/people/", "/accounts/people/1/"]
)
def test_anonymous_is_sent_to_login(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_old_token_page_redirects_to_the_token_list(alice_client):
    assert alice_client.get("/accounts/token/")["Location"] == "/accounts/tokens/"


def test_a_password_change_keeps_this_session_and_is_audited(alice_user):
    client = logged_in("alice_admin")
    body = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/accounts/", body).status_code == 302
    assert client.get("/accounts/").status_code == 200
    alice_user.refresh_from_db()
    assert alice_user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="password_change", actor=alice_user).exists()


def test_a_wrong_old_password_changes_nothing(alice_user):
    client = logged_in("alice_admin")
    body = {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post("/accounts/", body)
    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()
    alice_user.refresh_from_db()
    assert alice_user.check_password(PASSWORD)


def test_sessions_are_listed_and_another_one_revoked(alice_user):
    laptop, phone = logged_in("alice_admin"), logged_in("alice_admin")
    html = laptop.get("/accounts/").content.decode()
    assert html.count("pytest-browser") == 2
    assert "This session" in html
    phone_session = LoginSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(f"/accounts/sessions/{phone_session.pk}/revoke/")
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # signed out
    assert laptop.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="session_revoke").count() == 1


def test_nobody_revokes_another_users_session(alice_user, bob_user):
    alice = logged_in("alice_admin")
    bob = logged_in("bob_admin")
    alice_session = LoginSession.objects.get(user=alice_user)
    assert bob.post(f"/accounts/sessions/{alice_session.pk}/revoke/").status_code == 404
    assert alice.get("/").status_code == 200


def test_logout_forgets_the_session(alice_user):
    client = logged_in("alice_admin")
    client.post("/accounts/logout/")
    assert not LoginSession.objects.exists()


def test_the_sessions_api_lists_and_revokes(alice_user):
    client = logged_in("alice_admin")
    other = logged_in("alice_admin")
    listed = client.get("/api/v1/sessions/").json()
    assert sorted(s["current"] for s in listed) == [False, True]
    target = next(s for s in listed if not s["current"])
    assert client.delete(f"/api/v1/sessions/{target['id']}/").status_code == 204
    assert other.get("/").status_code == 302


def test_a_token_is_created_shown_once_and_revoked_on_the_page(alice_client, alice_user):
    body = {"name": "notebook", "scope": "run", "expires_in_days": "30"}
    html = alice_client.post("/accounts/tokens/", body).content.decode()
    key = re.search(r'id="token-value">([^<]+)<', html).group(1)
    token = ApiToken.objects.get(user=alice_user)
    assert token.digest == digest_of(key)
    assert token.scope == "run"
    assert key not in alice_client.get("/accounts/tokens/").content.decode()
    alice_client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "", "scope": "read", "expires_in_days": "30"}, "This field is required"),
        ({"name": "n", "scope": "root", "expires_in_days": "30"}, "Select a valid choice"),
        ({"name": "n", "scope": "read", "expires_in_days": "0"}, "greater than or equal to 1"),
    ],
)
def test_the_token_page_names_bad_inputs(alice_client, body, message):
    html = alice_client.post("/accounts/tokens/", body).content.decode()
    assert message in html
    assert not ApiToken.objects.exists()


def test_a_viewer_manages_their_own_tokens_and_password(alice_viewer):
    client = logged_in("alice_viewer")
    body = {"name": "look", "scope": "read", "expires_in_days": "7"}
    assert "token-value" in client.post("/accounts/tokens/", body).content.decode()
    assert client.get("/accounts/people/").status_code == 403


@pytest.mark.parametrize("who", ["alice_approver", "alice_member_user", "alice_viewer"])
def test_only_admins_open_the_people_pages(request, who, alice_user):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    assert client.get("/accounts/people/").status_code == 403
    assert client.get(f"/accounts/people/{alice_user.pk}/").status_code == 403
    assert "/accounts/people/" not in client.get("/accounts/").content.decode()


def test_a_node_admin_creates_a_user_on_the_page(alice_client, alice):
    response = alice_client.post(
        "/accounts/people/", {"username": "dora", "email": "", "role": "viewer", "password": ""}
    )
    html = response.content.decode()
    password = re.search(r'id="new-password">([^<]+)<', html).group(1)
    dora = User.objects.get(username="dora")
    assert (dora.node, dora.role) == (alice, "viewer")
    assert Client().login(username="dora", password=password)


def test_the_people_page_names_bad_inputs(alice_client, alice_user):
    body = {"username": "alice_admin", "role": "analyst", "password": ""}
    html = alice_client.post("/accounts/people/", body).content.decode()
    assert "already exists" in html
    body = {"username": "eve", "role": "admin", "password": ""}
    html = alice_client.post("/accounts/people/", body).content.decode()
    assert "Select a valid choice" in html  # node admins cannot appoint node admins
    assert User.objects.count() == 1


def test_the_people_page_lists_only_the_nodes_users(alice_client, alice_viewer, bob_user):
    html = alice_client.get("/accounts/people/").content.decode()
    assert "alice_viewer" in html
    assert "bob_admin" not in html


def test_a_node_admin_changes_role_deactivates_and_resets_on_the_page(alice_client, alice_viewer):
    url = f"/accounts/people/{alice_viewer.pk}/"
    alice_client.post(url, {"action": "role", "role": "analyst"})
    alice_client.post(url, {"action": "deactivate"})
    alice_viewer.refresh_from_db()
    assert (alice_viewer.role, alice_viewer.is_active) == ("analyst", False)
    html = alice_client.post(url, {"action": "reset_password", "password": ""}).content.decode()
    password = re.search(r'id="new-password">([^<]+)<', html).group(1)
    alice_viewer.refresh_from_db()
    assert alice_viewer.check_password(password)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user_update", "password_reset"} <= actions


def test_bad_actions_on_the_person_page_are_named(alice_client, alice_viewer, alice_user):
    url = f"/accounts/people/{alice_viewer.pk}/"
    response = alice_client.post(url, {"action": "explode"}, follow=True)
    assert "Unknown action" in response.content.decode()
    response = alice_client.post(url, {"action": "role", "role": "admin"}, follow=True)
    assert "Only platform admins appoint node admins" in response.content.decode()
    own = alice_client.post(f"/accounts/people/{alice_user.pk}/", {"action": "deactivate"})
    assert own.status_code == 302
    alice_user.refresh_from_db()
    assert alice_user.is_active


def test_other_nodes_admins_get_404_on_the_person_page(bob_client, carol_client, alice_viewer):
    for client in (bob_client, carol_client):
        url = f"/accounts/people/{alice_viewer.pk}/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "deactivate"}).status_code == 404
    alice_viewer.refresh_from_db()
    assert alice_viewer.is_active


def test_a_disabled_nodes_users_cannot_log_in(alice_user, alice):
    alice.status = alice.Status.DISABLED
    alice.save()
    assert not Client().login(username="alice_admin", password=PASSWORD)


def test_disabling_a_node_signs_its_users_out(alice_user, alice):
    client = logged_in("alice_admin")
    alice.status = alice.Status.DISABLED
    alice.save()
    assert client.get("/").status_code == 302


def test_a_platform_admin_appoints_a_node_admin_on_the_page(platform_admin, bob):
    client = Client()
    client.force_login(platform_admin)
    html = client.get("/accounts/people/").content.decode()
    assert 'name="node"' in html
    body = {"username": "bob2", "role": "admin", "node": "bob", "password": ""}
    response = client.post("/accounts/people/", body)
    assert "new-password" in response.content.decode()
    assert User.objects.get(username="bob2").is_node_admin
    response = client.post("/accounts/people/", {**body, "username": "x", "node": "nowhere"})
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="x").exists()


def test_the_sessions_api_does_not_revoke_another_users_session(alice_user, bob_user):
    logged_in("alice_admin")
    bob = logged_in("bob_admin")
    alice_session = LoginSession.objects.get(user=alice_user)
    assert bob.delete(f"/api/v1/sessions/{alice_session.pk}/").status_code == 404
    assert LoginSession.objects.filter(pk=alice_session.pk).exists()


def test_a_node_admin_is_not_offered_the_node_admin_role(alice_client, alice_viewer):
    html = alice_client.get(f"/accounts/people/{alice_viewer.pk}/").content.decode()
    assert '<option value="approver"' in html
    assert '<option value="admin"' not in html
