"""/api/v1/users/: node admins manage their node's people, platform admins everyone's."""

from __future__ import annotations

import pytest
from django.test import Client

from console.accounts.models import User
from console.audit.models import AuditEvent
from tests.console.accounts.conftest import api_as, token_client, token_for
from tests.console.api.helpers import assert_error
from tests.console.conftest import PASSWORD

USERS = "/api/v1/users/"
NEW_PASSWORD = "a-long-enough-Passphrase-42"


def create(client, **body):
    return client.post(USERS, {"username": "dora", "role": "analyst", **body}, format="json")


def test_a_node_admin_lists_only_their_nodes_users(api_alice, alice_viewer, bob_user):
    names = [u["username"] for u in api_alice.get(USERS).json()]
    assert names == ["alice_admin", "alice_viewer"]


def test_a_platform_admin_lists_everybody(api_admin, alice_user, bob_user):
    names = {u["username"] for u in api_admin.get(USERS).json()}
    assert {"alice_admin", "bob_admin", "root"} <= names


@pytest.mark.parametrize("who", ["alice_approver", "alice_member_user", "alice_viewer"])
def test_other_roles_manage_nobody(request, who):
    client = api_as(request.getfixturevalue(who))
    assert_error(client.get(USERS), 403)
    assert_error(create(client), 403)
    assert not User.objects.filter(username="dora").exists()


def test_anonymous_gets_401(api_anon):
    assert_error(api_anon.get(USERS), 401)
    assert_error(create(api_anon), 401)


def test_a_node_admin_creates_a_user_with_a_generated_password(api_alice, alice):
    response = create(api_alice, email="dora@alice.example")
    assert response.status_code == 201, response.json()
    body = response.json()
    dora = User.objects.get(username="dora")
    assert (dora.node, dora.role) == (alice, "analyst")
    assert body["initial_password"]
    assert dora.check_password(body["initial_password"])
    event = AuditEvent.objects.get(action="user_create")
    assert event.target_repr == "dora"
    assert event.node == alice
    assert body["initial_password"] not in str(event.detail)
    assert Client().login(username="dora", password=body["initial_password"])


def test_a_chosen_password_is_not_echoed(api_alice):
    body = create(api_alice, password=NEW_PASSWORD).json()
    assert body["initial_password"] == ""
    assert User.objects.get(username="dora").check_password(NEW_PASSWORD)


def test_a_node_admin_cannot_create_for_another_node_or_appoint_admins(api_alice, bob, alice):
    assert_error(create(api_alice, node="bob"), 403)
    assert create(api_alice, node="alice").status_code == 201
    assert User.objects.get(username="dora").node == alice
    assert_error(create(api_alice, username="eve", role="admin"), 403)
    assert not User.objects.filter(username="eve").exists()


def test_a_platform_admin_appoints_a_node_admin(api_admin, bob):
    response = create(api_admin, username="bob2", role="admin", node="bob")
    assert response.status_code == 201, response.json()
    assert User.objects.get(username="bob2").is_node_admin


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "alice_admin"}, "username"),
        ({"username": "ALICE_ADMIN"}, "username"),
        ({"role": "superuser"}, "role"),
        ({"password": "123"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_it_rejects_bad_users(api_alice, alice_user, body, field):
    response = create(api_alice, **body)
    assert_error(response, 400)
    assert field in response.json()["errors"]
    assert User.objects.count() == 1


def test_a_platform_admin_must_name_a_known_node(api_admin):
    response = create(api_admin, node="nowhere")
    assert_error(response, 400)
    assert "node" in response.json()["errors"]


def test_a_node_admin_sets_a_role_and_it_is_audited(api_alice, alice_viewer):
    response = api_alice.patch(f"{USERS}{alice_viewer.pk}/", {"role": "approver"}, format="json")
    assert response.json()["role"] == "approver"
    event = AuditEvent.objects.get(action="user_update")
    assert event.detail == {"changes": {"role": ["viewer", "approver"]}}


def test_nothing_to_change_is_an_error(api_alice, alice_viewer):
    assert_error(api_alice.patch(f"{USERS}{alice_viewer.pk}/", {}, format="json"), 400)
    body = {"role": "viewer"}
    assert_error(api_alice.patch(f"{USERS}{alice_viewer.pk}/", body, format="json"), 400)


def test_deactivating_signs_the_user_out_and_stops_tokens(api_alice, alice_viewer):
    client = Client()
    assert client.login(username="alice_viewer", password=PASSWORD)
    key = token_for(alice_viewer, "read")
    body = {"is_active": False}
    assert api_alice.patch(f"{USERS}{alice_viewer.pk}/", body, format="json").status_code == 200
    assert client.get("/").status_code == 302  # back to the login page
    assert_error(token_client(key).get("/api/v1/me/"), 401)
    assert not Client().login(username="alice_viewer", password=PASSWORD)


def test_admins_of_other_nodes_see_no_user(api_bob, api_carol, alice_viewer):
    for client in (api_bob, api_carol):
        assert_error(client.get(f"{USERS}{alice_viewer.pk}/"), 404)
        body = {"role": "admin"}
        assert_error(client.patch(f"{USERS}{alice_viewer.pk}/", body, format="json"), 404)
        assert_error(client.post(f"{USERS}{alice_viewer.pk}/reset-password/"), 404)
    assert User.objects.get(pk=alice_viewer.pk).role == "viewer"


def test_a_node_admin_does_not_change_themself_or_another_admin(api_alice, alice_user, alice):
    other = User.objects.create_user("alice_admin2", password="x", node=alice, role="admin")
    for person in (alice_user, other):
        body = {"is_active": False}
        assert_error(api_alice.patch(f"{USERS}{person.pk}/", body, format="json"), 403)
        assert_error(api_alice.post(f"{USERS}{person.pk}/reset-password/"), 403)
    assert User.objects.filter(role="admin", is_active=True).count() == 2


def test_a_password_reset_signs_out_and_returns_a_generated_password_once(api_alice, alice_viewer):
    client = Client()
    assert client.login(username="alice_viewer", password=PASSWORD)
    body = api_alice.post(f"{USERS}{alice_viewer.pk}/reset-password/").json()
    assert client.get("/").status_code == 302
    assert Client().login(username="alice_viewer", password=body["new_password"])
    assert AuditEvent.objects.filter(action="password_reset").count() == 1


def test_a_reset_rejects_a_weak_password(api_alice, alice_viewer):
    response = api_alice.post(
        f"{USERS}{alice_viewer.pk}/reset-password/", {"password": "abc"}, format="json"
    )
    assert_error(response, 400, "weak_password")


def test_a_read_token_of_a_node_admin_cannot_manage_people(alice_user):
    client = token_client(token_for(alice_user, "read"))
    assert client.get(USERS).status_code == 200
    assert_error(create(client), 403)


@pytest.mark.parametrize("pk", ["0", "99999"])
def test_unknown_users_are_404(api_alice, pk):
    assert_error(api_alice.get(f"{USERS}{pk}/"), 404)
