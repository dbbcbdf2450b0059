"""The nodes page's identity, invitations and routes: platform admin vs node users."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from console.audit.models import AuditEvent
from console.nodes import invitations as inv
from console.nodes.identity import fingerprint, load_identity
from console.nodes.models import Invitation, PeerRoute
from workflows.messages import render


def test_it_shows_this_nodes_fingerprint_to_every_user(alice_client, alice_is_this_node):
    html = alice_client.get("/nodes/").content.decode()
    assert load_identity().fingerprint in html
    assert "127.0.0.1:7443" in html


def test_it_tells_an_admin_how_to_make_this_installation_a_node(admin_client, identity_dir):
    html = admin_client.get("/nodes/").content.decode()
    assert "manage.py node init --name NAME --address HOST:PORT" in html
    assert "Create invitation" not in html


def test_it_hides_pairing_controls_from_node_users(alice_client, route_to_zed):
    html = alice_client.get("/nodes/").content.decode()
    assert "zed" in html
    assert "Create invitation" not in html
    assert "Accept an invitation" not in html
    assert ">Disable<" not in html


def test_it_forbids_node_users_every_pairing_action(alice_client, route_to_zed):
    for url in (
        "/nodes/invitations/",
        "/nodes/invitations/accept/",
        "/nodes/routes/zed/health/",
        "/nodes/routes/zed/switch/",
    ):
        assert alice_client.post(url, {"enabled": "false"}).status_code == 403, url
    assert PeerRoute.objects.get().enabled
    assert not Invitation.objects.exists()


def test_it_creates_an_invitation_shown_once(admin_client, alice_is_this_node):
    response = admin_client.post("/nodes/invitations/")
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    text = html.split('id="invitation-text"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    parsed = inv.parse(text)
    assert parsed.fingerprint == load_identity().fingerprint
    assert parsed.address == "127.0.0.1:7443"
    stored = Invitation.objects.get()
    assert stored.public_id == parsed.id
    assert text.rsplit("secret=", 1)[1] not in stored.authority_certificate
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_CREATE).count() == 1


def test_it_creates_an_invitation_file(admin_client, alice_is_this_node):
    response = admin_client.post("/nodes/invitations/", {"as_file": "1"})
    assert response["Content-Disposition"].startswith('attachment; filename="privpad-invitation-')
    assert inv.parse(response.content.decode()).node == "alice"


def test_it_says_an_invitation_needs_an_identity(admin_client, identity_dir):
    response = admin_client.post("/nodes/invitations/", follow=True)
    assert "This installation is not a node yet" in response.content.decode()


def test_it_shows_a_bad_invitation_text_error(admin_client, alice_is_this_node):
    response = admin_client.post("/nodes/invitations/accept/", {"text": "privpad-invitation/1;"})
    assert response.status_code == 400
    assert "The invitation has no node, address, fingerprint, id, secret" in (
        response.content.decode()
    )


def test_it_asks_for_text_or_file(admin_client, alice_is_this_node):
    response = admin_client.post("/nodes/invitations/accept/", {"text": ""})
    assert "Paste the invitation or upload its file" in response.content.decode()


def test_the_accept_form_marks_neither_of_its_two_ways_optional(admin_client, alice_is_this_node):
    html = admin_client.get("/nodes/").content.decode()
    form = html[html.index('action="/nodes/invitations/accept/"') :]
    form = form[: form.index("</form>")]
    assert "(optional)" not in form
    assert "…or the invitation file" in form


def test_it_reads_an_uploaded_invitation_file(admin_client, alice_is_this_node):
    upload = SimpleUploadedFile("invite.txt", b"not an invitation\n")
    response = admin_client.post("/nodes/invitations/accept/", {"file": upload})
    assert "This is not a PrivPad invitation" in response.content.decode()


def test_it_names_an_unreachable_inviter(admin_client, alice_is_this_node):
    invitation_id, secret = inv.new_secret()
    text = inv.InvitationText("zed", "127.0.0.1:9", "b" * 64, invitation_id, secret).render()
    response = admin_client.post("/nodes/invitations/accept/", {"text": text})
    assert response.status_code == 400
    assert "Node zed at 127.0.0.1:9: cannot connect" in response.content.decode()
    assert not PeerRoute.objects.exists()


def test_it_shows_routes_with_health_and_switches_them(admin_client, route_to_zed):
    html = admin_client.get("/nodes/").content.decode()
    assert route_to_zed.fingerprint[:16] in html
    assert ">Disable<" in html
    admin_client.post("/nodes/routes/zed/switch/", {"enabled": "false"})
    route_to_zed.refresh_from_db()
    assert not route_to_zed.enabled
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROUTE_UPDATE).count() == 1
    html = admin_client.get("/nodes/").content.decode()
    assert "Disabled" in html
    assert ">Enable<" in html


def test_a_health_check_of_an_unreachable_peer_records_the_error(admin_client, route_to_zed):
    response = admin_client.post("/nodes/routes/zed/health/", follow=True)
    assert "Node zed at 127.0.0.1:9: cannot connect" in response.content.decode()
    route_to_zed.refresh_from_db()
    assert render(route_to_zed.last_error).startswith("Node zed at 127.0.0.1:9")
    assert route_to_zed.last_checked_at is not None
    failed = AuditEvent.objects.get(action=AuditEvent.Action.NODE_CALL)
    assert (failed.outcome, failed.detail["method"]) == ("failed", "Health")


def test_the_route_pins_the_peer_certificate(route_to_zed):
    assert route_to_zed.fingerprint == fingerprint(route_to_zed.certificate)


def test_every_page_says_it_is_an_embedded_deployment(alice_client, anon_client):
    assert "Embedded deployment" in alice_client.get("/").content.decode()
    assert "All parties trust its operator" in alice_client.get("/nodes/").content.decode()
    assert "Embedded deployment" in anon_client.get("/accounts/login/").content.decode()


def test_a_network_deployment_says_which_node_this_is(settings, alice_client, alice_is_this_node):
    settings.PRIVPAD_DEPLOYMENT = "network"
    html = alice_client.get("/").content.decode()
    assert "Network deployment" in html
    assert "this console is node <code>alice</code>" in html
    assert "trust its operator" not in html


def test_a_network_node_lists_itself_as_this_node_not_as_embedded(
    settings, admin_client, route_to_zed
):
    settings.PRIVPAD_DEPLOYMENT = "network"
    html = admin_client.get("/nodes/").content.decode()
    cells = re.findall(r'<td data-field="kind">(.*?)</td>', html, re.S)
    kinds = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    assert kinds == ["This node 127.0.0.1:7443", "Remote 127.0.0.1:9"]


def test_the_routes_table_is_wired_for_live_health(alice_client, route_to_zed):
    html = alice_client.get("/nodes/").content.decode()
    assert '<tr data-route="zed">' in html
    assert 'data-field="latency"' in html
    assert "console/js/nodes.js" in html


def test_an_admin_revokes_an_open_invitation(admin_client, alice_is_this_node):
    admin_client.post("/nodes/invitations/")
    invitation = Invitation.objects.get()
    html = admin_client.get("/nodes/").content.decode()
    assert f'data-invitation="{invitation.public_id}"' in html
    response = admin_client.post(f"/nodes/invitations/{invitation.public_id}/revoke/", follow=True)
    assert f"Invitation {invitation.public_id} revoked" in response.content.decode()
    invitation.refresh_from_db()
    assert not invitation.is_open
    assert f'data-invitation="{invitation.public_id}"' not in response.content.decode()
    again = admin_client.post(f"/nodes/invitations/{invitation.public_id}/revoke/", follow=True)
    assert "already used or expired" in again.content.decode()


def test_node_users_cannot_see_or_revoke_invitations(alice_client, alice_is_this_node):
    from console.nodes import pairing

    invitation, _ = pairing.create_invitation(pairing.OPERATOR)
    assert invitation.public_id not in alice_client.get("/nodes/").content.decode()
    url = f"/nodes/invitations/{invitation.public_id}/revoke/"
    assert alice_client.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.is_open


def test_a_certificate_close_to_expiry_is_flagged(alice_client, route_to_zed):
    import datetime

    from django.utils import timezone

    assert "expires in under 30 days" not in alice_client.get("/nodes/").content.decode()
    route_to_zed.certificate_expires_at = timezone.now() + datetime.timedelta(days=10)
    route_to_zed.save()
    assert "expires in under 30 days: its node must rotate it" in (
        alice_client.get("/nodes/").content.decode()
    )


def test_init_refuses_a_name_peers_could_not_be_given(alice, identity_dir):
    import pytest

    from console.nodes import pairing

    with pytest.raises(inv.InvitationError, match="node name “Alice Bank” must be"):
        pairing.init_node("Alice Bank", "127.0.0.1:7443")
    with pytest.raises(inv.InvitationError, match="is not host:port"):
        pairing.init_node("alice", "localhost")
    assert not (identity_dir / "node.key").exists()
