"""gRPC channels between nodes: mutual TLS pinned to one certificate, errors naming the peer.

The caller trusts the peer's pinned certificate as the root of the server's chain (and checks
the node name in it): exactly one, or during a rotation's grace period also the one it
replaced (`console.nodes.link.credentials`); the server asks for the caller's certificate and
verifies it against the certificates of its routes (see `service`). No Django here.

Messages are raw bytes (envelopes); no protobuf classes, no pickle. A refusal's details are a
`workflows.messages` message in its stored JSON (or, from an older peer, English text): the
error keeps it as a message, so it is worded in the language of whoever reads it here.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import grpc

from console.nodes.link.envelope import MAX_MESSAGE_BYTES
from workflows.messages import Message, parse, translatable

SERVICE = "privpad.node.v1.Node"
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
DEFAULT_TIMEOUT = 10.0


class NodeCallError(Exception):
    """A call to a peer node failed; the message names the peer and the reason.

    `message` (and `reason`) are `workflows.messages` messages: `str(error)` words them in the
    active language, the reader's; `workflows.messages.stored_within` keeps them in a column."""

    def __init__(
        self, peer: str, address: str, reason: Message | str, code: str = "unavailable"
    ) -> None:
        self.message = translatable(
            "Node %(peer)s at %(address)s: %(reason)s", peer=peer, address=address, reason=reason
        )
        super().__init__(self.message)
        self.peer, self.address, self.reason, self.code = peer, address, reason, code

    def __str__(self) -> str:
        return str(self.message)


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
    channel = grpc.secure_channel(address, credentials, options=options)
    try:
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
    finally:
        _close_in_background(channel)


def _close_in_background(channel: grpc.Channel) -> None:
    """Close `channel` without waiting: once `channel_ready_future` has watched it, closing
    blocks until grpc's connectivity poll ends its current 0.2 s wait, which every call (a
    run's `RunStart`, `RunLaunch`, each `RunEvent` batch) would otherwise add to its time."""
    threading.Thread(target=channel.close, name="node-channel-close", daemon=True).start()


def _unreachable(peer: str, address: str, timeout: float) -> NodeCallError:
    """Tell "nothing listens there" from "TLS failed" (a refused or mismatched certificate)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=min(timeout, 3)):
            pass
    except OSError as error:
        reason = translatable("cannot connect (%(error)s)", error=str(error.strerror or error))
        return NodeCallError(peer, address, reason)
    return NodeCallError(
        peer,
        address,
        translatable(
            "the TLS handshake failed: the node there does not present the certificate pinned "
            "for it, or it does not accept this node's certificate (not paired, or its route "
            "was removed)"
        ),
        "tls",
    )


def _call_error(peer: str, address: str, error: grpc.RpcError) -> NodeCallError:
    code = error.code()
    # The peer's message (msgid and params), or its text if it sent words (an older peer).
    details = parse(error.details() or code.name)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return NodeCallError(peer, address, translatable("no answer in time"), "timeout")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        reason = translatable("refused the call: %(details)s", details=details)
        return NodeCallError(peer, address, reason, "refused")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        reason = translatable("rejected the message: %(details)s", details=details)
        return NodeCallError(peer, address, reason, "rejected")
    reason = translatable("%(code)s: %(details)s", code=code.name.lower(), details=details)
    return NodeCallError(peer, address, reason)


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
        reason = translatable("cannot connect (%(error)s)", error=str(error))
        raise NodeCallError(peer, address, reason) from None
    if not der:
        raise NodeCallError(peer, address, translatable("it presented no certificate"))
    return ssl.DER_cert_to_PEM_cert(der).encode()
