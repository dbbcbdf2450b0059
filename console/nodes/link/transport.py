"""gRPC channels between nodes: mutual TLS pinned to one certificate, errors naming the peer.

The caller trusts exactly one certificate, the peer's pinned one, as the root of the server's
chain (and checks the node name in it); the server asks for the caller's certificate and
verifies it against the certificates of its routes (see `service`). No Django here.

Messages are raw bytes (envelopes); no protobuf classes, no pickle.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import time
from pathlib import Path

import grpc
from django.utils.translation import gettext

from console.nodes.link.envelope import MAX_MESSAGE_BYTES

SERVICE = "privpad.node.v1.Node"
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
DEFAULT_TIMEOUT = 10.0


class NodeCallError(Exception):
    """A call to a peer node failed; the message names the peer and the reason."""

    def __init__(self, peer: str, address: str, reason: str, code: str = "unavailable"):
        message = gettext("Node %(peer)s at %(address)s: %(reason)s")
        super().__init__(message % {"peer": peer, "address": address, "reason": reason})
        self.peer, self.address, self.reason, self.code = peer, address, reason, code


def call(
    *,
    peer: str,
    address: str,
    root_cert: bytes,
    key: bytes,
    cert_chain: bytes,
    method: str,
    payload: bytes,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[bytes, float]:
    """Call `method` at `peer` and return (reply bytes, round-trip seconds on a ready channel).

    Raises NodeCallError naming the peer when it cannot be reached, presents another
    certificate than `root_cert`, refuses ours, or refuses the call.
    """
    credentials = grpc.ssl_channel_credentials(
        root_certificates=root_cert, private_key=key, certificate_chain=cert_chain
    )
    options = [*GRPC_OPTIONS, ("grpc.ssl_target_name_override", peer)]
    with grpc.secure_channel(address, credentials, options=options) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise _unreachable(peer, address, timeout) from None
        stub = channel.unary_unary(f"/{SERVICE}/{method}")
        started = time.perf_counter()
        try:
            reply = stub(payload, timeout=timeout)
        except grpc.RpcError as error:
            raise _call_error(peer, address, error) from None
        return reply, time.perf_counter() - started


def _unreachable(peer: str, address: str, timeout: float) -> NodeCallError:
    """Tell "nothing listens there" from "TLS failed" (a refused or mismatched certificate)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=min(timeout, 3)):
            pass
    except OSError as error:
        reason = gettext("cannot connect (%(error)s)") % {"error": error.strerror or error}
        return NodeCallError(peer, address, reason)
    return NodeCallError(
        peer,
        address,
        gettext(
            "the TLS handshake failed: the node there does not present the certificate pinned "
            "for it, or it does not accept this node's certificate (not paired, or its route "
            "was removed)"
        ),
        "tls",
    )


def _call_error(peer: str, address: str, error: grpc.RpcError) -> NodeCallError:
    code = error.code()
    details = error.details() or code.name
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return NodeCallError(peer, address, gettext("no answer in time"), "timeout")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        reason = gettext("refused the call: %(details)s") % {"details": details}
        return NodeCallError(peer, address, reason, "refused")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        reason = gettext("rejected the message: %(details)s") % {"details": details}
        return NodeCallError(peer, address, reason, "rejected")
    return NodeCallError(peer, address, f"{code.name.lower()}: {details}")


def fetch_certificate(
    peer: str, address: str, key: bytes, cert_chain: bytes, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """The certificate (PEM) the node at `address` presents, before anything is trusted.

    Used only while pairing, when the acceptor knows the inviter's fingerprint but not yet its
    certificate: the caller compares the fingerprint of what this returns with the invitation
    before using it as the pinned root. Our own `cert_chain` is presented because the server
    requires a client certificate it can verify.
    """
    host, _, port = address.rpartition(":")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # nothing is trusted from this; see the docstring
    context.set_alpn_protocols(["h2"])
    with tempfile.TemporaryDirectory(prefix="privpad-pairing-") as scratch:
        key_file, cert_file = Path(scratch, "key.pem"), Path(scratch, "cert.pem")
        key_file.write_bytes(key)
        cert_file.write_bytes(cert_chain)
        context.load_cert_chain(cert_file, key_file)
    try:
        with (
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw,
            context.wrap_socket(raw) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as error:
        reason = gettext("cannot connect (%(error)s)") % {"error": error}
        raise NodeCallError(peer, address, reason) from None
    if not der:
        raise NodeCallError(peer, address, gettext("it presented no certificate"))
    return ssl.DER_cert_to_PEM_cert(der).encode()
