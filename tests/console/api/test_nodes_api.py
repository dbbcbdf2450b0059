"""/api/v1/nodes/: everyone signed in reads; platform admins register and change nodes."""

from __future__ import annotations

from console.audit.models import AuditEvent
from console.nodes.models import Node
from tests.console.api.helpers import assert_error

LIST = "/api/v1/nodes/"


def test_it_lists_nodes_to_any_signed_in_user(api_carol, alice, bob):
    body = api_carol.get(LIST).json()
    assert [n["name"] for n in body["results"]] == ["alice", "bob", "carol"]
    assert set(body["results"][0]) == {
        "name", "display_name", "institution", "kind", "status", "created_at",
    }  # fmt: skip


def test_it_never_shows_storage_paths(api_admin, alice):
    text = api_admin.get(LIST).content.decode() + api_admin.get(f"{LIST}alice/").content.decode()
    assert str(alice.storage_root) not in text
    assert "storage" not in text


def test_it_shows_addresses_to_platform_admins_only(api_admin, api_alice, alice):
    assert api_admin.get(f"{LIST}alice/").json()["address"] == ""
    assert "address" not in api_alice.get(f"{LIST}alice/").json()


def test_it_reads_one_node(api_bob, alice):
    assert api_bob.get(f"{LIST}alice/").json()["institution"] == "Alice Bank"
    assert_error(api_bob.get(f"{LIST}nobody/"), 404, "not_found")


def test_it_requires_login(api_anon, alice):
    assert_error(api_anon.get(LIST), 401)
    assert_error(api_anon.get(f"{LIST}alice/"), 401)
    assert_error(api_anon.post(LIST, {"name": "dave"}, format="json"), 401)


def test_it_lets_platform_admins_register_nodes(api_admin):
    body = {"name": "dave", "display_name": "Dave", "institution": "Dave Hospital"}
    response = api_admin.post(LIST, body, format="json")
    assert response.status_code == 201, response.json()
    node = Node.objects.get(name="dave")
    assert (node.storage_root / "datasets").is_dir()
    assert AuditEvent.objects.filter(action="node_register", target_id=str(node.pk)).exists()


def test_it_refuses_registration_by_node_admins(api_alice, alice):
    body = assert_error(api_alice.post(LIST, {"name": "dave"}, format="json"), 403)
    assert "platform admins" in body["detail"]
    assert not Node.objects.filter(name="dave").exists()


def test_it_validates_new_nodes(api_admin, alice):
    assert_error(api_admin.post(LIST, {"name": "alice"}, format="json"), 400, "unique")
    assert_error(api_admin.post(LIST, {"name": "no spaces"}, format="json"), 400, "invalid")
    body = assert_error(api_admin.post(LIST, {"name": "r", "kind": "remote"}, format="json"), 400)
    assert body["detail"].startswith("address:")
    assert not Node.objects.filter(name__in=["r", "no spaces"]).exists()


def test_it_lets_platform_admins_change_nodes(api_admin, alice):
    url = f"{LIST}alice/"
    response = api_admin.patch(url, {"status": "offline", "name": "eve"}, format="json")
    assert response.status_code == 200, response.json()
    alice.refresh_from_db()
    assert (alice.name, alice.status) == ("alice", "offline")


def test_it_refuses_changes_by_others(api_alice, alice):
    assert_error(api_alice.patch(f"{LIST}alice/", {"status": "offline"}, format="json"), 403)
    alice.refresh_from_db()
    assert alice.status == "online"


def test_it_refuses_deleting_nodes(api_admin, alice):
    assert_error(api_admin.delete(f"{LIST}alice/"), 405)
