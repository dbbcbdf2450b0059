"""/api/v1/node-identity/, /api/v1/invitations/, /api/v1/routes/: who may do what."""

from __future__ import annotations

from console.nodes import invitations as inv
from console.nodes.identity import load_identity
from console.nodes.models import PeerRoute


def test_it_shows_this_nodes_identity(api_alice, alice_is_this_node):
    data = api_alice.get("/api/v1/node-identity/").json()
    assert data["name"] == "alice"
    assert data["fingerprint"] == load_identity().fingerprint
    assert data["deployment"] == "embedded"


def test_it_answers_404_without_an_identity(api_alice, identity_dir):
    response = api_alice.get("/api/v1/node-identity/")
    assert response.status_code == 404
    assert "node init" in response.json()["detail"]


def test_it_needs_login(api_anon):
    assert api_anon.get("/api/v1/routes/").status_code == 401


def test_only_platform_admins_create_invitations(api_alice, api_admin, alice_is_this_node):
    assert api_alice.post("/api/v1/invitations/").status_code == 403
    response = api_admin.post("/api/v1/invitations/", {"days": 2}, format="json")
    assert response.status_code == 201
    assert inv.parse(response.json()["invitation"]).node == "alice"


def test_it_validates_the_invitation_lifetime(api_admin, alice_is_this_node):
    response = api_admin.post("/api/v1/invitations/", {"days": 0}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("days:")


def test_an_invitation_stays_open_a_week_at_most(api_admin, alice_is_this_node):
    response = api_admin.post("/api/v1/invitations/", {"days": 8}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("days:")
    assert api_admin.post("/api/v1/invitations/", {"days": 7}, format="json").status_code == 201


def test_accepting_a_bad_invitation_is_a_400_naming_the_problem(api_admin, alice_is_this_node):
    response = api_admin.post("/api/v1/routes/", {"invitation": "nonsense"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_invitation"
    assert "This is not a PrivPad invitation" in body["detail"]


def test_an_unreachable_inviter_is_a_502_naming_it(api_admin, alice_is_this_node):
    invitation_id, secret = inv.new_secret()
    text = inv.InvitationText("zed", "127.0.0.1:9", "b" * 64, invitation_id, secret).render()
    response = api_admin.post("/api/v1/routes/", {"invitation": text}, format="json")
    assert response.status_code == 502
    assert response.json()["detail"].startswith("Node zed at 127.0.0.1:9")


def test_members_read_routes_but_only_admins_switch_them(api_alice, api_admin, route_to_zed):
    routes = api_alice.get("/api/v1/routes/").json()
    assert [r["name"] for r in routes] == ["zed"]
    assert routes[0]["fingerprint"] == route_to_zed.fingerprint
    assert api_alice.patch("/api/v1/routes/zed/", {"enabled": False}).status_code == 403
    response = api_admin.patch("/api/v1/routes/zed/", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    assert not PeerRoute.objects.get().enabled


def test_a_health_check_of_a_disabled_route_is_refused_without_calling(api_admin, route_to_zed):
    api_admin.patch("/api/v1/routes/zed/", {"enabled": False}, format="json")
    response = api_admin.post("/api/v1/routes/zed/health/")
    assert response.status_code == 502
    assert response.json()["code"] == "peer_disabled"
    assert "the route is disabled on this node" in response.json()["detail"]


def test_a_network_node_refuses_to_register_other_nodes(settings, api_admin):
    settings.PRIVPAD_DEPLOYMENT = "network"
    response = api_admin.post("/api/v1/nodes/", {"name": "mallory"}, format="json")
    assert response.status_code == 400
    assert "join by pairing" in response.json()["detail"]
