"""Node identity and pairing use cases: init, invite, accept, routes, health.

Acting for a platform admin of this node: each use case takes the actor first (pages and API
pass the request's, `Actor.from_request`; the `node` command passes `OPERATOR`, the system
actor audited as `manage.py`). The network side of pairing and health is in
`console.nodes.link`.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from console.audit.log import Action, Outcome, record
from console.nodes import identity as ids
from console.nodes import invitations as inv
from console.nodes.link import audit, credentials, transport
from console.nodes.link.envelope import (
    EnvelopeError,
    error_message,
    seal,
    text_field,
    unseal,
)
from console.nodes.models import Invitation, Node, PeerRoute
from console.nodes.versions import privpad_version
from workflows.actors import Actor
from workflows.messages import Message, render, stored_within, translatable

# How long an invitation stays open, by default and at most: whoever holds its one-time secret
# can pair in the acceptor's place until it is used, so it is kept short (the CLI and the API
# refuse a longer lifetime; the nodes page always gives this one).
INVITATION_DAYS = 7


class PairingError(Exception):
    """A pairing step that cannot be done; the message says why and what to do.

    `message` is text in the active language or a `workflows.messages` message (one a peer
    may read: `console.nodes.link.service` refuses its Hello with it), which `str(error)`
    words in the active language."""

    def __init__(self, message: Message | str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return render(self.message)


# The `node` management command: an operator on the server (see `workflows.actors`).
OPERATOR = Actor.system("manage.py")
# The refusal for each action only platform admins may take.
ADMIN_ONLY = {
    "create invitations": gettext_lazy("Only platform admins may create invitations."),
    "revoke invitations": gettext_lazy("Only platform admins may revoke invitations."),
    "accept invitations": gettext_lazy("Only platform admins may accept invitations."),
    "change routes": gettext_lazy("Only platform admins may change routes."),
    "check routes": gettext_lazy("Only platform admins may check routes."),
}


def _ensure_admin(actor: Actor, action: str) -> None:
    if not actor.is_superuser:
        raise PermissionDenied(str(ADMIN_ONLY[action]))


def self_node() -> Node | None:
    return Node.objects.filter(is_self=True).first()


def what_init_would_lose() -> list[str]:
    """What `node init --force` throws away: said before doing it."""
    losses = []
    if ids.identity_exists():
        fingerprint = ids.load_identity().fingerprint
        losses.append(f"this node's key pair and certificate (fingerprint {fingerprint})")
    routes = PeerRoute.objects.count()
    if routes:
        losses.append(f"{routes} pairing(s): each peer pinned the old certificate, must pair again")
    return losses


def init_node(name: str, address: str, display_name: str = "", force: bool = False) -> Node:
    """Create this installation's key pair and certificate, and mark its Node row as self."""
    inv.check_node_name(name)
    inv.check_address(address)
    current = self_node()
    if (ids.identity_exists() or current is not None) and not force:
        lost = what_init_would_lose() or ["the current node identity"]
        raise PairingError(
            gettext(
                "This installation already has a node identity. Re-initialising would lose "
                "%(lost)s. Use --force to do it anyway."
            )
            % {"lost": "; ".join(lost)}
        )
    with transaction.atomic():
        if current is not None and current.name != name:
            Node.objects.filter(pk=current.pk).update(is_self=False)
        node, _ = Node.objects.get_or_create(
            name=name, defaults={"display_name": display_name or name}
        )
        if node.route_or_none() is not None:
            raise PairingError(
                gettext("%(name)s is a paired peer here: choose another name") % {"name": name}
            )
        node.is_self, node.kind, node.address = True, Node.Kind.EMBEDDED, address
        node.display_name = display_name or node.display_name or name
        node.full_clean()
        node.save()
        node.ensure_storage()
        identity = ids.write_identity(name)
        record(OPERATOR, Action.NODE_INIT, target=node, node=node, fingerprint=identity.fingerprint)
    return node


def require_identity() -> tuple[ids.NodeIdentity, Node]:
    node = self_node()
    if node is None:
        raise PairingError(
            gettext(
                "This installation is not a node yet: run "
                "`manage.py node init --name NAME --address HOST:PORT`."
            )
        )
    try:
        identity = ids.load_identity()
    except ids.IdentityError as error:
        raise PairingError(str(error)) from None
    if identity.name != node.name:
        raise PairingError(
            gettext(
                "The certificate is for %(certificate)r but this node is %(node)r: run "
                "`manage.py node init --force`."
            )
            % {"certificate": identity.name, "node": node.name}
        )
    return identity, node


def create_invitation(actor: Actor, days: int = INVITATION_DAYS) -> tuple[Invitation, str]:
    """A new invitation and its text (shown once: the secret is not stored)."""
    _ensure_admin(actor, "create invitations")
    identity, me = require_identity()
    invitation_id, secret = inv.new_secret()
    expires_at = timezone.now() + datetime.timedelta(days=days)
    invitation = Invitation.objects.create(
        public_id=invitation_id,
        authority_certificate=inv.authority_certificate(invitation_id, secret, expires_at).decode(),
        created_by=actor.user,
        expires_at=expires_at,
    )
    text = inv.InvitationText(me.name, me.address, identity.fingerprint, invitation_id, secret)
    record(actor, Action.INVITATION_CREATE, target=me, node=me, invitation=invitation_id)
    return invitation, text.render()


def open_invitations():
    return Invitation.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now())


def revoke_invitation(actor: Actor, invitation: Invitation) -> Invitation:
    """Close an open invitation at once: its authority leaves the service's trusted roots."""
    _ensure_admin(actor, "revoke invitations")
    if not invitation.is_open:
        raise PairingError(
            gettext("Invitation %(id)s is already used or expired.") % {"id": invitation.public_id}
        )
    invitation.expires_at = timezone.now()
    invitation.save(update_fields=["expires_at"])
    me = self_node()
    record(actor, Action.INVITATION_REVOKE, target=me, node=me, invitation=invitation.public_id)
    return invitation


def create_route(peer: dict, origin: str) -> PeerRoute:
    """The Node row and pinned route of a newly paired peer (both sides of a pairing)."""
    certificate = peer["certificate"]
    fingerprint = ids.fingerprint(certificate)
    existing = Node.objects.filter(name=peer["name"]).first()
    if existing is not None:
        name = peer["name"]
        if existing.is_self:
            message = translatable(
                "The name '%(name)s' is this node itself: it cannot be paired again.", name=name
            )
        else:
            message = translatable(
                "The name '%(name)s' is a node already known here: it cannot be paired again.",
                name=name,
            )
        raise PairingError(message)
    if PeerRoute.objects.filter(fingerprint=fingerprint).exists():
        raise PairingError(
            translatable(
                "A route is already pinned to certificate %(fingerprint)s….",
                fingerprint=fingerprint[:16],
            )
        )
    node = Node(
        name=peer["name"],
        display_name=peer.get("display_name") or peer["name"],
        kind=Node.Kind.REMOTE,
        address=peer["address"],
    )
    node.full_clean()
    node.save()
    node.ensure_storage()
    return PeerRoute.objects.create(
        node=node,
        address=peer["address"],
        fingerprint=fingerprint,
        certificate=certificate if isinstance(certificate, str) else certificate.decode(),
        certificate_expires_at=ids.certificate_expiry(certificate),
        origin=origin,
        peer_version=peer.get("version", "")[:40],
        last_seen_at=timezone.now(),
    )


def accept_invitation(actor: Actor, text: str) -> PeerRoute:
    """Pair with the inviting node: pin its certificate, say Hello, create the route.

    Raises InvitationError for a text that cannot be used, PairingError/NodeCallError (naming
    the inviting node) when the pairing fails; nothing is stored then.
    """
    _ensure_admin(actor, "accept invitations")
    invitation = inv.parse(text)
    identity, me = require_identity()
    if invitation.node == me.name or invitation.fingerprint == identity.fingerprint:
        raise PairingError(gettext("This invitation was created by this node itself."))
    if Node.objects.filter(name=invitation.node).exists():
        raise PairingError(
            gettext("A node named %(name)r is already known here.") % {"name": invitation.node}
        )
    client_cert = inv.acceptor_certificate(invitation, me.name, identity.cert_pem)
    peer_cert = _pinned_inviter_certificate(invitation, identity, client_cert)
    body = {
        "name": me.name,
        "display_name": me.display_name,
        "address": me.address,
        "certificate": identity.cert_pem.decode(),
        "version": privpad_version(),
    }
    try:
        reply, _ = transport.call(
            peer=invitation.node,
            address=invitation.address,
            root_cert=peer_cert,
            key=identity.key_pem,
            cert_chain=client_cert,
            method="Hello",
            payload=seal(me.name, body),
        )
        peer = _hello_reply(invitation, reply)
    except transport.NodeCallError as error:
        audit.call_made(invitation.node, "Hello", Outcome.FAILED, error.reason)
        if error.code == "tls":
            raise transport.NodeCallError(
                error.peer,
                error.address,
                translatable(
                    "it refused the invitation in the TLS handshake: the invitation was already "
                    "used, has expired, or was not issued by this node"
                ),
                "refused",
            ) from None
        raise
    with transaction.atomic():
        route = create_route(peer, origin=PeerRoute.Origin.ACCEPTED)
        audit.call_made(route, "Hello", Outcome.SUCCESS)
        audit.paired(route, actor, origin="accepted", invitation=invitation.id)
    return route


def _pinned_inviter_certificate(invitation, identity, client_cert: bytes) -> bytes:
    peer_cert = transport.fetch_certificate(
        invitation.node, invitation.address, identity.key_pem, client_cert
    )
    presented = ids.fingerprint(peer_cert)
    if presented != invitation.fingerprint:
        raise transport.NodeCallError(
            invitation.node,
            invitation.address,
            translatable(
                "it presents certificate %(presented)s, not %(expected)s as the invitation "
                "says: refused (another server at that address, or an interception)",
                presented=presented,
                expected=invitation.fingerprint,
            ),
            "wrong_certificate",
        )
    return peer_cert


def _hello_reply(invitation, reply: bytes) -> dict:
    try:
        envelope = unseal(reply)
        peer = {key: text_field(envelope.body, key, 8000) for key in ("name", "certificate")}
        peer["display_name"] = text_field(envelope.body, "display_name", 120)
        peer["version"] = text_field(envelope.body, "version", 40)
    except EnvelopeError as error:
        raise transport.NodeCallError(
            invitation.node,
            invitation.address,
            translatable("sent a malformed reply: %(error)s", error=error.message),
        ) from None
    same_certificate = ids.fingerprint(peer["certificate"]) == invitation.fingerprint
    if peer["name"] != invitation.node or not same_certificate:
        raise transport.NodeCallError(
            invitation.node,
            invitation.address,
            translatable("its reply names another node or certificate"),
        )
    peer["address"] = invitation.address
    return peer


def set_route_enabled(actor: Actor, route: PeerRoute, enabled: bool) -> PeerRoute:
    """Enable or disable a route: while disabled, calls in either direction are refused."""
    _ensure_admin(actor, "change routes")
    route.enabled = enabled
    route.save(update_fields=["enabled"])
    record(actor, Action.ROUTE_UPDATE, target=route.node, node=route.node, enabled=enabled)
    return route


def check_health(route: PeerRoute) -> PeerRoute:
    """Ping the peer: record latency and last seen, or the error naming the peer."""
    identity, me = require_identity()
    route.last_checked_at = timezone.now()
    fields = ["last_checked_at", "last_error", "last_seen_at", "latency_ms", "peer_version"]
    try:
        if not route.enabled:
            raise transport.NodeCallError(
                route.node.name,
                route.address,
                translatable("the route is disabled on this node"),
                "disabled",
            )
        link = credentials.for_route(route, identity)
        reply, seconds = transport.call(
            peer=route.node.name,
            address=route.address,
            root_cert=link.root_cert,
            key=link.key,
            cert_chain=link.cert_chain,
            method="Health",
            payload=seal(me.name, {}),
        )
        envelope = unseal(reply)
    except (transport.NodeCallError, EnvelopeError) as error:
        said = error_message(error)
        route.last_error = stored_within(said, 500)
        route.save(update_fields=fields)
        audit.call_made(route, "Health", Outcome.FAILED, said)
        raise
    route.last_error, route.last_seen_at = "", timezone.now()
    route.latency_ms = round(seconds * 1000, 2)
    route.peer_version = str(envelope.body.get("version", ""))[:40]
    route.save(update_fields=fields)
    audit.call_made(route, "Health", Outcome.SUCCESS, latency_ms=route.latency_ms)
    return route
