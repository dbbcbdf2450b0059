"""Certificate rotation from the nodes page and the service layer, with a peer that is offline.

`zed` is a paired peer whose service is not running, so it can never be told: the rotation is
done, zed is listed as not told, and the old key is kept only for the grace period. The
exchange between two running nodes is in test_rotation.py.
"""

from __future__ import annotations

import functools

import pytest

from console.audit.models import AuditEvent
from console.nodes import identity as ids
from console.nodes import rotation
from console.nodes.link import credentials, transport
from console.nodes.models import CertificateRotation, RotationNotice
from console.nodes.pairing import OPERATOR, PairingError
from workflows.messages import render


@pytest.fixture(autouse=True)
def quick_calls(monkeypatch):
    """Nothing listens at zed's address: give up after 1 s instead of 10."""
    monkeypatch.setattr(transport, "call", functools.partial(transport.call, timeout=1.0))


def _rotate(client, grace: int = 3600, **extra):
    return client.post("/nodes/certificate/rotate/", {"grace_seconds": grace, **extra})


def test_an_admin_rotates_and_the_offline_peer_is_listed(admin_client, route_to_zed):
    before = ids.load_identity()
    response = _rotate(admin_client)
    assert response.status_code == 302
    after, previous = ids.load_identity(), ids.load_previous_identity()
    assert after.fingerprint != before.fingerprint
    assert previous.fingerprint == before.fingerprint
    notice = RotationNotice.objects.get()
    assert notice.status == RotationNotice.Status.FAILED
    assert "Node zed at 127.0.0.1:9" in render(notice.last_error)
    html = admin_client.get("/nodes/").content.decode()
    assert "zed was not told: Node zed at 127.0.0.1:9" in html
    assert "not told of our new certificate" in html
    assert "/nodes/routes/zed/notify-rotation/" in html
    assert "peers accept the old certificate until" in html
    event = AuditEvent.objects.get(action=AuditEvent.Action.NODE_ROTATE)
    assert (event.detail["old_fingerprint"], event.detail["new_fingerprint"]) == (
        before.fingerprint,
        after.fingerprint,
    )


def test_node_users_can_neither_rotate_nor_notify(alice_client, route_to_zed):
    before = ids.load_identity().fingerprint
    assert _rotate(alice_client).status_code == 403
    assert alice_client.post("/nodes/routes/zed/notify-rotation/").status_code == 403
    assert ids.load_identity().fingerprint == before
    assert not CertificateRotation.objects.exists()
    assert "Rotate certificate" not in alice_client.get("/nodes/").content.decode()


def test_telling_again_counts_attempts_and_names_the_error(admin_client, route_to_zed):
    _rotate(admin_client)
    response = admin_client.post("/nodes/routes/zed/notify-rotation/", follow=True)
    assert "zed was not told: Node zed at 127.0.0.1:9" in response.content.decode()
    assert RotationNotice.objects.get().attempts == 2


def test_an_untold_peer_presents_the_old_key_until_told(route_to_zed):
    rotation.rotate_certificate(OPERATOR, grace_seconds=3600)
    current, previous = ids.load_identity(), ids.load_previous_identity()
    assert credentials.for_route(route_to_zed, current).cert_chain == previous.cert_pem
    RotationNotice.objects.update(status=RotationNotice.Status.CONFIRMED)
    assert credentials.for_route(route_to_zed, current).cert_chain == current.cert_pem


def test_rotating_again_before_every_peer_was_told_needs_force(route_to_zed):
    first = rotation.rotate_certificate(OPERATOR, grace_seconds=3600)
    with pytest.raises(PairingError, match="zed not told of it yet"):
        rotation.rotate_certificate(OPERATOR, grace_seconds=3600)
    assert ids.load_identity().fingerprint == first.new_fingerprint
    second = rotation.rotate_certificate(OPERATOR, grace_seconds=3600, force=True)
    assert second.old_fingerprint == first.new_fingerprint


def test_with_no_grace_the_old_key_is_deleted_and_the_peer_must_pair_again(
    admin_client, route_to_zed
):
    _rotate(admin_client, grace=0)
    assert ids.load_previous_identity() is None
    html = admin_client.get("/nodes/").content.decode()
    assert "must pair again" in html
    assert "/nodes/routes/zed/notify-rotation/" not in html
    told = rotation.notify_rotation(OPERATOR, ["zed"])
    assert "The old key is gone (its grace period is over): zed must pair again" in (
        render(told[0].last_error)
    )


@pytest.mark.parametrize("grace", [-1, 8 * 86400])
def test_a_grace_period_out_of_range_is_refused(route_to_zed, grace):
    before = ids.load_identity().fingerprint
    with pytest.raises(PairingError, match="grace period must be from 0 seconds to 7 days"):
        rotation.rotate_certificate(OPERATOR, grace_seconds=grace)
    assert ids.load_identity().fingerprint == before
    assert ids.load_previous_identity() is None


def test_notifying_an_unknown_peer_or_without_rotation_is_refused(route_to_zed):
    with pytest.raises(PairingError, match="never rotated"):
        rotation.notify_rotation(OPERATOR)
    rotation.rotate_certificate(OPERATOR, grace_seconds=3600)
    with pytest.raises(PairingError, match="nobody: no peer of this node was paired"):
        rotation.notify_rotation(OPERATOR, ["nobody"])


def test_this_nodes_certificate_close_to_expiry_is_flagged(admin_client, alice_is_this_node):
    assert "expires in under 30 days: rotate it" not in admin_client.get("/nodes/").content.decode()
    key, cert = ids.make_key_and_certificate("alice", days=10)
    (ids.identity_dir() / ids.KEY_FILE).write_bytes(key)
    (ids.identity_dir() / ids.CERT_FILE).write_bytes(cert)
    assert "expires in under 30 days: rotate it" in admin_client.get("/nodes/").content.decode()


def test_check_warns_of_this_nodes_certificate_expiring_and_of_a_grace_too_long(
    alice_is_this_node, settings
):
    from django.core.checks import run_checks

    def ids_of_warnings():
        return {warning.id for warning in run_checks()}

    assert not {"privpad.nodes.W003", "privpad.nodes.W004"} & ids_of_warnings()
    key, cert = ids.make_key_and_certificate("alice", days=10)
    (ids.identity_dir() / ids.KEY_FILE).write_bytes(key)
    (ids.identity_dir() / ids.CERT_FILE).write_bytes(cert)
    settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS = 8 * 86400
    assert {"privpad.nodes.W003", "privpad.nodes.W004"} <= ids_of_warnings()


@pytest.fixture
def api_admin(platform_admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(platform_admin)
    return client


def test_the_api_rotates_and_lists_each_peers_notice(api_admin, route_to_zed):
    response = api_admin.post("/api/v1/node-identity/rotate/", {"grace_seconds": 60})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["new_fingerprint"] == ids.load_identity().fingerprint
    [notice] = body["notices"]
    assert (notice["peer"], notice["status"], notice["attempts"]) == ("zed", "failed", 1)
    assert "Node zed at 127.0.0.1:9" in notice["last_error"]
    again = api_admin.post("/api/v1/routes/zed/notify-rotation/")
    assert again.status_code == 200
    assert again.json()["attempts"] == 2
    route = api_admin.get("/api/v1/routes/zed/").json()
    assert route["previous_valid_until"] is None  # zed did not rotate: this node did


def test_the_api_refuses_bad_input_and_non_admins(api_admin, api_alice, route_to_zed):
    bad = api_admin.post("/api/v1/node-identity/rotate/", {"grace_seconds": 8 * 86400})
    assert bad.status_code == 400
    assert "grace period must be from 0 seconds to 7 days" in bad.json()["detail"]
    assert api_admin.post("/api/v1/routes/nobody/notify-rotation/").status_code == 404
    not_rotated = api_admin.post("/api/v1/routes/zed/notify-rotation/")
    assert not_rotated.status_code == 400
    assert "never rotated" in not_rotated.json()["detail"]
    assert api_alice.post("/api/v1/node-identity/rotate/").status_code == 403
    assert not CertificateRotation.objects.exists()


def test_a_rotation_that_cannot_be_recorded_leaves_the_old_key_in_use(route_to_zed, monkeypatch):
    from django.db import DatabaseError

    before = ids.load_identity().fingerprint

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(CertificateRotation.objects, "create", fail)
    with pytest.raises(DatabaseError):
        rotation.rotate_certificate(OPERATOR, grace_seconds=3600)
    assert ids.load_identity().fingerprint == before
    assert ids.load_previous_identity() is None
    assert not RotationNotice.objects.exists()
