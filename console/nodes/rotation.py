"""Certificate rotation: this node replaces its key pair and tells each paired peer.

Protocol (`manage.py node rotate-certificate`, or the button on the nodes page):
1. This node keeps its current key pair as `previous.key`/`previous.crt`, makes a new one, and
   records a `CertificateRotation` with a grace period (`PRIVPAD_NODE_ROTATION_GRACE_SECONDS`
   by default) and one `RotationNotice` per peer. From now on its service presents the new
   certificate.
2. It calls `RotateCertificate` at every peer over the still-pinned link: mutual TLS with the
   *previous* key (the certificate the peer pins). The envelope (nonce, timestamp, as every
   call) carries the new certificate, both fingerprints, the end of the grace period, and a
   proof of possession: the new key's ECDSA signature over those values and the nonce.
3. The peer checks that the call comes from the route's pinned certificate, that the new
   certificate names the same node, is valid, and is signed for by its key; it pins the new
   certificate, keeps the old one accepted until the grace period ends (at most
   `MAX_GRACE`), audits the re-pin, and confirms with the fingerprint it pinned.
4. A peer that could not be told (offline) stays `pending`/`failed`: `node notify-rotation
   --peer NAME` tells it again, over the old link, while the previous key is kept. When the
   grace period ends the previous key is deleted; a peer never told must then pair again.

Threat model: the network is hostile and the old key may be compromised (that is often why
one rotates). The rotation message is accepted only from the certificate pinned for that peer
(a non-peer fails the TLS handshake; another peer fails the sender check), so it cannot be
forged by anyone without the old key; the proof of possession stops a peer from announcing
someone else's certificate. Whoever holds the old key can still act as this node towards a
peer until that peer is told and its grace period ends, and never after: the old certificate
leaves the peer's trusted roots then. A short grace (`--grace-seconds 0`) is for a key known
to be compromised.
"""

from __future__ import annotations

import datetime
import secrets

import grpc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.audit.log import Action, Outcome, record
from console.nodes import identity as ids
from console.nodes.link import audit, transport
from console.nodes.link.envelope import (
    Envelope,
    EnvelopeError,
    error_message,
    seal,
    text_field,
    unseal,
)
from console.nodes.link.service import Refused
from console.nodes.link.service import _enabled_route as enabled_route
from console.nodes.models import CertificateRotation, Node, PeerRoute, RotationNotice
from console.nodes.pairing import PairingError, require_identity, self_node
from workflows.actors import Actor
from workflows.messages import stored_within, translatable

METHOD = "RotateCertificate"
MAX_GRACE = datetime.timedelta(days=7)
_PROOF_CONTEXT = "privpad-rotation/1"


def _ensure_admin(actor: Actor, action: str) -> None:
    if not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins may %(action)s.") % {"action": action})


# --- this node rotates ---------------------------------------------------------------------


def rotate_certificate(
    actor: Actor, grace_seconds: int | None = None, force: bool = False
) -> CertificateRotation:
    """Replace this node's key pair and certificate, then tell every peer (see the module)."""
    _ensure_admin(actor, _("rotate the node certificate"))
    _identity, me = require_identity()
    forget_expired()
    grace = _grace(grace_seconds)
    untold = untold_peers()
    if untold and not force:
        raise PairingError(
            _(
                "The last rotation is not finished: %(peers)s not told of it yet. Tell them "
                "first (`manage.py node notify-rotation`), or rotate again with --force: they "
                "would then have to pair again."
            )
            % {"peers": ", ".join(untold)}
        )
    old, new = ids.rotate_identity()
    try:
        rotation = _record_rotation(actor, me, old, new, grace)
    except Exception:
        ids.restore_identity(old)  # no record, no rotation: peers would never be told of it
        raise
    for notice in rotation.notices.select_related("route__node"):
        notify_peer(notice)
    forget_expired()
    return rotation


def _grace(grace_seconds: int | None) -> datetime.timedelta:
    seconds = (
        settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS if grace_seconds is None else grace_seconds
    )
    grace = datetime.timedelta(seconds=seconds)
    if not datetime.timedelta(0) <= grace <= MAX_GRACE:
        raise PairingError(
            _("The grace period must be from 0 seconds to %(days)s days, not %(seconds)s seconds.")
            % {"days": MAX_GRACE.days, "seconds": seconds}
        )
    return grace


@transaction.atomic
def _record_rotation(actor: Actor, me: Node, old, new, grace) -> CertificateRotation:
    """The rotation, a notice for every peer, and the audit event."""
    rotation = CertificateRotation.objects.create(
        old_fingerprint=old.fingerprint,
        new_fingerprint=new.fingerprint,
        grace_until=timezone.now() + grace,
        rotated_by=actor.user,
    )
    routes = PeerRoute.objects.all()
    RotationNotice.objects.bulk_create(RotationNotice(rotation=rotation, route=r) for r in routes)
    record(
        actor,
        Action.NODE_ROTATE,
        target=me,
        node=me,
        old_fingerprint=rotation.old_fingerprint,
        new_fingerprint=rotation.new_fingerprint,
        grace_until=rotation.grace_until.isoformat(),
    )
    return rotation


def latest_rotation() -> CertificateRotation | None:
    return CertificateRotation.objects.order_by("-rotated_at", "-pk").first()


def untold_peers() -> list[str]:
    """Peers not yet told of the latest rotation while they still can be (in its grace)."""
    rotation = latest_rotation()
    if rotation is None or ids.load_previous_identity() is None:
        return []
    untold = rotation.notices.exclude(status=RotationNotice.Status.CONFIRMED)
    return list(untold.values_list("route__node__name", flat=True))


def notify_rotation(actor: Actor, peers: list[str] | None = None) -> list[RotationNotice]:
    """Tell the named peers (default: every peer not told yet) of the latest rotation again."""
    _ensure_admin(actor, _("notify peers of a rotation"))
    forget_expired()
    rotation = latest_rotation()
    if rotation is None:
        raise PairingError(_("This node has never rotated its certificate."))
    notices = rotation.notices.select_related("route__node")
    if peers:
        notices = notices.filter(route__node__name__in=peers)
        missing = set(peers) - {n.route.node.name for n in notices}
        if missing:
            raise PairingError(
                _("%(peers)s: no peer of this node was paired when the certificate was rotated.")
                % {"peers": ", ".join(sorted(missing))}
            )
    else:
        notices = notices.exclude(status=RotationNotice.Status.CONFIRMED)
    return [notify_peer(notice) for notice in notices]


def notify_peer(notice: RotationNotice) -> RotationNotice:
    """Tell one peer of the rotation over the old, still-pinned link; record the outcome."""
    if notice.status == RotationNotice.Status.CONFIRMED:
        return notice
    route, rotation = notice.route, notice.rotation
    notice.attempts += 1
    try:
        fingerprint = _announce(route, rotation)
    except (PairingError, transport.NodeCallError, EnvelopeError) as error:
        said = error_message(error)
        error_text = stored_within(said, 500)
        notice.status, notice.last_error = RotationNotice.Status.FAILED, error_text
        notice.save(update_fields=["status", "last_error", "attempts", "updated_at"])
        audit.call_made(route, METHOD, Outcome.FAILED, said)
        return notice
    notice.status, notice.last_error = RotationNotice.Status.CONFIRMED, ""
    notice.confirmed_at = timezone.now()
    notice.save(update_fields=["status", "last_error", "attempts", "confirmed_at", "updated_at"])
    audit.call_made(route, METHOD, Outcome.SUCCESS, fingerprint=fingerprint)
    return notice


def _announce(route: PeerRoute, rotation: CertificateRotation) -> str:
    """Call RotateCertificate at the peer with the previous key; the fingerprint it pinned."""
    current, me = require_identity()
    previous = ids.load_previous_identity()
    if previous is None or previous.fingerprint != rotation.old_fingerprint:
        raise PairingError(
            _("The old key is gone (its grace period is over): %(peer)s must pair again.")
            % {"peer": route.node.name}
        )
    if current.fingerprint != rotation.new_fingerprint:
        raise PairingError(_("This node rotated again since: tell the peer of the latest one."))
    if not route.enabled:
        raise PairingError(_("The route to %(peer)s is disabled.") % {"peer": route.node.name})
    body = announcement(
        me.name, previous, current, rotation.grace_until.timestamp(), nonce := _nonce()
    )
    reply, _seconds = transport.call(
        peer=route.node.name,
        address=route.address,
        root_cert=route.trusted_certificates(),
        key=previous.key_pem,
        cert_chain=previous.cert_pem,
        method=METHOD,
        payload=seal(me.name, body, nonce=nonce),
    )
    return _confirmed_fingerprint(route, reply, rotation.new_fingerprint)


def _nonce() -> str:
    return secrets.token_hex(16)


def announcement(
    sender: str, old: ids.NodeIdentity, new: ids.NodeIdentity, grace_until: float, nonce: str
) -> dict:
    """The body of a RotateCertificate call, with the new key's proof of possession."""
    key = load_pem_private_key(new.key_pem, password=None)
    message = proof_message(sender, old.fingerprint, new.fingerprint, grace_until, nonce)
    return {
        "certificate": new.cert_pem.decode(),
        "fingerprint": new.fingerprint,
        "previous_fingerprint": old.fingerprint,
        "grace_until": grace_until,
        "proof": key.sign(message, ec.ECDSA(hashes.SHA256())).hex(),
    }


def proof_message(sender: str, old: str, new: str, grace_until: float, nonce: str) -> bytes:
    """What the new key signs: who rotates, from and to which certificate, until when, nonce."""
    return "|".join([_PROOF_CONTEXT, sender, old, new, repr(float(grace_until)), nonce]).encode()


def _confirmed_fingerprint(route: PeerRoute, reply: bytes, expected: str) -> str:
    envelope = unseal(reply)
    pinned = text_field(envelope.body, "fingerprint", 64)
    if envelope.sender != route.node.name or pinned != expected:
        raise transport.NodeCallError(
            route.node.name,
            route.address,
            translatable("its confirmation names another node or certificate"),
        )
    return pinned


def forget_expired() -> None:
    """Delete this node's previous key once its grace period is over, and peers' old pins."""
    rotation = latest_rotation()
    if rotation is not None and not rotation.in_grace and ids.forget_previous_identity():
        me = self_node()
        record(
            None,
            Action.NODE_ROTATE,
            target=me,
            node=me,
            username="node:self",
            old_key_deleted=rotation.old_fingerprint,
        )
    expired = PeerRoute.objects.filter(previous_valid_until__lte=timezone.now())
    expired.exclude(previous_certificate="").update(
        previous_certificate="", previous_fingerprint="", previous_valid_until=None
    )


def peer_states() -> dict[str, dict]:
    """Per peer name, where the latest rotation stands with it (for pages and `node show`)."""
    rotation = latest_rotation()
    if rotation is None:
        return {}
    old_key_kept = ids.load_previous_identity() is not None and rotation.in_grace
    states = {}
    for notice in rotation.notices.select_related("route__node"):
        confirmed = notice.status == RotationNotice.Status.CONFIRMED
        states[notice.route.node.name] = {
            "notice": notice,
            "rotation": rotation,
            "confirmed": confirmed,
            "can_retry": not confirmed and old_key_kept,
            "must_pair_again": not confirmed and not old_key_kept,
        }
    return states


# --- a peer rotated (the service's RotateCertificate handler) -------------------------------


def receive_rotation(envelope: Envelope, caller_cert: bytes) -> tuple[dict, Node]:
    """Pin a peer's new certificate, announced over its currently pinned one (module docstring)."""
    route = enabled_route(envelope, caller_cert)
    announced = _announced(envelope, caller_cert, route)
    me = self_node()
    if announced["fingerprint"] == route.fingerprint:  # told again after a lost confirmation
        return {"name": me.name, "fingerprint": route.fingerprint}, route.node
    if announced["fingerprint"] in (ids.load_identity().fingerprint, ""):
        raise Refused(
            grpc.StatusCode.INVALID_ARGUMENT, translatable("the new certificate is this node's own")
        )
    old_fingerprint = route.fingerprint
    grace_until = min(announced["grace_until"], timezone.now() + MAX_GRACE)
    try:
        with transaction.atomic():
            _repin(route, announced["certificate"], caller_cert, grace_until)
    except IntegrityError:
        raise Refused(
            grpc.StatusCode.ALREADY_EXISTS,
            translatable("another route is already pinned to that certificate"),
        ) from None
    record(
        Actor.peer(route.node),
        Action.ROUTE_REPIN,
        target=route.node,
        node=route.node,
        old_fingerprint=old_fingerprint,
        new_fingerprint=route.fingerprint,
        old_accepted_until=grace_until.isoformat(),
    )
    return {"name": me.name, "fingerprint": route.fingerprint}, route.node


def _announced(envelope: Envelope, caller_cert: bytes, route: PeerRoute) -> dict:
    """The announced certificate and grace period, once every check holds; Refused otherwise."""
    body = envelope.body
    try:
        certificate = text_field(body, "certificate", 8000)
        fingerprint = text_field(body, "fingerprint", 64)
        previous = text_field(body, "previous_fingerprint", 64)
        proof = bytes.fromhex(text_field(body, "proof", 400))
        grace_until = body.get("grace_until")
        if isinstance(grace_until, bool) or not isinstance(grace_until, int | float):
            raise EnvelopeError(translatable("the message's 'grace_until' is not a number"))
        parsed = ids.load_certificate(certificate)
    except (EnvelopeError, ValueError, ids.IdentityError) as error:
        malformed = translatable("malformed rotation: %(error)s", error=error_message(error))
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, malformed) from None
    if ids.fingerprint(certificate) != fingerprint or ids.fingerprint(caller_cert) != previous:
        raise Refused(
            grpc.StatusCode.INVALID_ARGUMENT, translatable("the rotation's fingerprints disagree")
        )
    if ids.certificate_name(certificate) != route.node.name:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("the new certificate is not issued for %(node)s", node=route.node.name),
        )
    now = timezone.now()
    if not parsed.not_valid_before_utc <= now < parsed.not_valid_after_utc:
        raise Refused(
            grpc.StatusCode.INVALID_ARGUMENT, translatable("the new certificate is not valid now")
        )
    message = proof_message(envelope.sender, previous, fingerprint, grace_until, envelope.nonce)
    try:
        parsed.public_key().verify(proof, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, TypeError, ValueError):
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("the rotation's proof is not signed by the new certificate's key"),
        ) from None
    until = datetime.datetime.fromtimestamp(grace_until, datetime.UTC)
    return {"certificate": certificate, "fingerprint": fingerprint, "grace_until": until}


def _repin(route: PeerRoute, certificate: str, caller_cert: bytes, grace_until) -> None:
    route.previous_certificate = caller_cert.decode()
    route.previous_fingerprint = ids.fingerprint(caller_cert)
    route.previous_valid_until = grace_until
    route.certificate, route.fingerprint = certificate, ids.fingerprint(certificate)
    route.certificate_expires_at = ids.certificate_expiry(certificate)
    route.certificate_rotated_at, route.last_error = timezone.now(), ""
    route.save()
