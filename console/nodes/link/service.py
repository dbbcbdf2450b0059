"""The node service (server side): Hello (pairing handshake), Health and RotateCertificate
(`console.nodes.rotation`), over pinned mTLS.

Who is calling is the certificate the caller presented in the TLS handshake, which gRPC has
verified against the server's current roots: the pinned certificates of its routes and the
one-time authorities of its open invitations (`certificate_configuration`, re-read at every
handshake, so a new pairing needs no restart). Then, for every call: the envelope is checked
(shape, size, timestamp window, a nonce not seen before from that certificate), the route
must be enabled, and the call is audited with its outcome.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import grpc
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from console.audit.log import Outcome
from console.nodes import identity as ids
from console.nodes.invitations import invitation_id_of
from console.nodes.link import audit
from console.nodes.link.envelope import (
    Envelope,
    EnvelopeError,
    check_fresh,
    error_message,
    seal,
    text_field,
    unseal,
)
from console.nodes.link.transport import GRPC_OPTIONS, SERVICE
from console.nodes.models import Invitation, Node, PeerRoute, SeenNonce
from console.nodes.versions import privpad_version
from workflows.actors import Actor
from workflows.messages import Message, render, translatable, wire_text

# Methods other apps serve to paired peers (the federation messages): name -> handler taking
# the caller's enabled route and the checked envelope, returning the reply body.
PEER_METHODS: dict[str, Callable[[PeerRoute, Envelope], dict]] = {}


def register_peer_method(name: str, handler: Callable[[PeerRoute, Envelope], dict]) -> None:
    """Serve `name` to paired peers: identity, envelope, route and audit as for Health."""
    PEER_METHODS[name] = handler


MAX_DETAILS = 2000


class Refused(Exception):
    """A call this node refuses: a gRPC status and a message for the caller and the audit.

    The message is a `workflows.messages` message (what to say, sent as its stored JSON in the
    gRPC details, so the calling node words it in its own reader's language) or plain text
    (sent as it is)."""

    def __init__(self, status: grpc.StatusCode, message: Message | str):
        super().__init__(message)
        self.status, self.message = status, message

    def __str__(self) -> str:
        return render(self.message, "en")

    def details(self) -> str:
        """The gRPC details sent to the caller (`workflows.messages.wire_text`; beyond
        `MAX_DETAILS` characters, the English words cut to it: gRPC details are a header)."""
        return wire_text(self.message, MAX_DETAILS)


def certificate_configuration(identity: ids.NodeIdentity | None = None):
    """This node's key pair, and the roots a caller's certificate must chain to right now.

    Re-read from the identity files and the database at every handshake: a rotated key pair
    (`console.nodes.rotation`) is presented, and a peer's new certificate trusted, at once.
    """
    close_old_connections()
    identity = identity or ids.load_identity()
    now = timezone.now()
    roots = [identity.cert_pem]
    roots += [route.trusted_certificates() for route in PeerRoute.objects.all()]
    open_invitations = Invitation.objects.filter(used_at__isnull=True, expires_at__gt=now)
    authorities = open_invitations.values_list("authority_certificate", flat=True)
    roots += [c.encode() for c in authorities]
    return grpc.ssl_server_certificate_configuration(
        [(identity.key_pem, identity.cert_pem)], root_certificates=b"".join(roots)
    )


def build_server(identity: ids.NodeIdentity, listen: str, max_workers: int = 8) -> grpc.Server:
    """A gRPC server for this node's service bound to `listen` (not started)."""
    from concurrent.futures import ThreadPoolExecutor

    from console.nodes import rotation

    credentials = grpc.dynamic_ssl_server_credentials(
        certificate_configuration(identity),
        certificate_configuration,
        require_client_authentication=True,
    )
    # No SO_REUSEPORT: a second service started on the same port must fail, not share it.
    options = [*GRPC_OPTIONS, ("grpc.so_reuseport", 0)]
    server = grpc.server(ThreadPoolExecutor(max_workers=max_workers), options=options)
    service = NodeService(identity)
    handlers = {
        "Hello": grpc.unary_unary_rpc_method_handler(service.handler("Hello", service.hello)),
        "Health": grpc.unary_unary_rpc_method_handler(service.handler("Health", service.health)),
        rotation.METHOD: grpc.unary_unary_rpc_method_handler(
            service.handler(rotation.METHOD, rotation.receive_rotation)
        ),
    }
    for name, peer_handler in PEER_METHODS.items():
        handlers[name] = grpc.unary_unary_rpc_method_handler(
            service.handler(name, service.for_peer(peer_handler))
        )
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    if not server.add_secure_port(listen, credentials):
        raise OSError(f"cannot listen on {listen}")
    return server


class NodeService:
    def __init__(self, identity: ids.NodeIdentity):
        self.identity = identity

    def handler(self, method: str, body_handler: Callable) -> Callable:
        """Wrap a method: identify the caller, check the envelope, audit, translate refusals."""

        def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
            close_old_connections()
            caller_cert = _presented_certificate(context)
            fingerprint = ids.fingerprint(caller_cert) if caller_cert else ""
            sender = ""
            try:
                envelope = _receive(request, fingerprint)
                sender = envelope.sender
                reply_body, peer_node = body_handler(envelope, caller_cert)
            except Refused as refusal:
                audit.call_received(method, sender, fingerprint, Outcome.DENIED, str(refusal))
                context.abort(refusal.status, refusal.details())
            audit.call_received(method, sender, fingerprint, Outcome.SUCCESS, node=peer_node)
            return seal(self.identity.name, reply_body)

        return handle

    def health(self, envelope: Envelope, caller_cert: bytes) -> tuple[dict, Node]:
        route = _enabled_route(envelope, caller_cert)
        PeerRoute.objects.filter(pk=route.pk).update(last_seen_at=timezone.now())
        return {"name": self.identity.name, "version": privpad_version()}, route.node

    def for_peer(self, peer_handler: Callable) -> Callable:
        """A body handler for a registered peer method: only from an enabled, pinned route."""

        def handle(envelope: Envelope, caller_cert: bytes) -> tuple[dict, Node]:
            route = _enabled_route(envelope, caller_cert)
            return peer_handler(route, envelope), route.node

        return handle

    def hello(self, envelope: Envelope, caller_cert: bytes) -> tuple[dict, Node]:
        """Complete a pairing: the caller holds one of our open invitations (its TLS proves it)."""
        invitation = _open_invitation(caller_cert)
        peer = _hello_peer(envelope, caller_cert)
        with transaction.atomic():
            route = _pair(peer, invitation)
        audit.paired(route, origin="invited", invitation=invitation.public_id)
        me = Node.objects.get(is_self=True)
        reply = {
            "name": self.identity.name,
            "display_name": me.display_name,
            "certificate": ids.load_identity().cert_pem.decode(),
            "version": privpad_version(),
        }
        return reply, route.node


def _presented_certificate(context: grpc.ServicerContext) -> bytes | None:
    certs = context.auth_context().get("x509_pem_cert") or []
    return certs[0] if certs else None


def _receive(request: bytes, fingerprint: str) -> Envelope:
    if not fingerprint:
        raise Refused(
            grpc.StatusCode.UNAUTHENTICATED, translatable("no client certificate was presented")
        )
    try:
        envelope = unseal(request)
        check_fresh(envelope, settings.PRIVPAD_NODE_CALL_WINDOW_SECONDS)
    except EnvelopeError as error:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, error.message) from None
    _remember_nonce(fingerprint, envelope.nonce)
    return envelope


def _remember_nonce(fingerprint: str, nonce: str) -> None:
    """Refuse a nonce already seen from this certificate; forget those older than the window."""
    now = timezone.now()
    horizon = now - datetime.timedelta(seconds=2 * settings.PRIVPAD_NODE_CALL_WINDOW_SECONDS)
    SeenNonce.objects.filter(seen_at__lt=horizon).delete()
    try:
        with transaction.atomic():
            SeenNonce.objects.create(fingerprint=fingerprint, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("replayed call: this nonce was already used"),
        ) from None


def _enabled_route(envelope: Envelope, caller_cert: bytes) -> PeerRoute:
    fingerprint = ids.fingerprint(caller_cert)
    route = PeerRoute.objects.select_related("node").pinned_to(fingerprint).first()
    if route is None:
        raise Refused(
            grpc.StatusCode.UNAUTHENTICATED,
            translatable(
                "no route is pinned to certificate %(fingerprint)s…: pair the nodes first",
                fingerprint=fingerprint[:16],
            ),
        )
    if envelope.sender != route.node.name:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable(
                "the certificate is %(node)s's but the call says it is from '%(sender)s'",
                node=route.node.name,
                sender=envelope.sender[:60],
            ),
        )
    if not route.enabled:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("this node has disabled its route to %(node)s", node=route.node.name),
        )
    return route


def peer_actor(envelope: Envelope, caller_cert: bytes) -> Actor:
    """The actor of a call from a paired node, for the services the call uses: the route
    pinned to the presented certificate must name the envelope's sender and be enabled (else
    Refused). The envelope was checked for freshness and replays on receipt (`_receive`)."""
    return Actor.peer(_enabled_route(envelope, caller_cert).node)


def _open_invitation(caller_cert: bytes) -> Invitation:
    invitation_id = invitation_id_of(caller_cert)
    invitation = Invitation.objects.filter(public_id=invitation_id or "").first()
    if invitation is None:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("Hello needs a certificate from an invitation"),
        )
    if invitation.used_at is not None:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED, translatable("this invitation was already used")
        )
    if invitation.expires_at <= timezone.now():
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED, translatable("this invitation has expired")
        )
    return invitation


def _hello_peer(envelope: Envelope, caller_cert: bytes) -> dict:
    try:
        body = envelope.body
        peer = {
            "name": text_field(body, "name", 40),
            "display_name": text_field(body, "display_name", 120),
            "address": text_field(body, "address", 255),
            "certificate": text_field(body, "certificate", 8000),
            "version": text_field(body, "version", 40),
        }
        name_in_cert = ids.certificate_name(peer["certificate"])
        same_key = ids.same_public_key(peer["certificate"], caller_cert)
    except (EnvelopeError, ids.IdentityError) as error:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, error_message(error)) from None
    if not same_key:
        raise Refused(
            grpc.StatusCode.PERMISSION_DENIED,
            translatable("the certificate sent is not for the key used in the TLS handshake"),
        )
    if name_in_cert != peer["name"] or peer["name"] != envelope.sender:
        raise Refused(
            grpc.StatusCode.INVALID_ARGUMENT, translatable("the node names in the hello disagree")
        )
    return peer


def _pair(peer: dict, invitation: Invitation) -> PeerRoute:
    from console.nodes.pairing import PairingError, create_route

    try:
        route = create_route(peer, origin=PeerRoute.Origin.INVITED)
    except PairingError as error:
        raise Refused(grpc.StatusCode.ALREADY_EXISTS, error_message(error)) from None
    invitation.used_at, invitation.used_by = timezone.now(), route
    invitation.save(update_fields=["used_at", "used_by"])
    return route
