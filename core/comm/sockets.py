"""Raw sockets for network links: mutual TLS with Python's `ssl`, and messages on a byte stream.

The socket transport (`core.comm.socket_transport`) carries the messages of `core.comm.wire`
(kind byte, then a control map or a data chunk) on a TCP connection, each one preceded by its
length as a big-endian u64. A data message carries a whole frame in one chunk (offset 0, body
= the frame), so:

- a frame is written straight from the sender's arrays (`write_frame`: the small parts of the
  frame, its header and metadata, are joined into one write; every large buffer goes to the
  socket from the array's own memory);
- a frame is read straight into the numpy buffer its arrays will live in (`read_message`:
  `recv_into` a preallocated array placed so that the frame starts 8-byte aligned), and decoded
  in place. The only copies left are the kernel's and the cipher's.

Reading trusts nothing: a control message over `MAX_CONTROL_BYTES`, a frame over the link's
limit (refused *before* anything is allocated), a chunk longer than its frame or a channel name
over `wire.MAX_CHANNEL` is a `LinkError` naming the problem.

TLS: TLS 1.3, both ends authenticated, with the same keys, certificates and trust as the gRPC
transport (`core.comm.tls.TlsConfig`): a dialling party verifies the listener's certificate
against that party's pinned certificate (or the CA) for the party's name as host name; a
listening party asks for a client certificate that chains to one of the pinned certificates
(or the CA), and the transport then checks that it is the claimed party's. Python's `ssl` reads
keys only from files, so the key pair is handed to OpenSSL through an anonymous in-memory file
(`memfd`, Linux), never written to disk; where there is no `memfd`, through a file (0600) in a
private temporary directory, removed at once.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import struct
import tempfile

import numpy as np

from core.comm.frames import ALIGN
from core.comm.tls import TlsConfig
from core.comm.wire import CHUNK_HEAD, DATA, DATA_HEAD_BYTES, MAX_CHANNEL, TLS_FAILURE, data_head
from core.errors import ConfigError, LinkError

LENGTH = struct.Struct(">Q")
MAX_CONTROL_BYTES = 1 << 16
COALESCE_BYTES = 1 << 16  # frame parts smaller than this are joined into one write
KEEPALIVE = {"TCP_KEEPIDLE": 10, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 2}  # as gRPC's 10 s + 5 s
ALPN = "privpad-link/1"  # negotiated in the TLS handshake: tells a gRPC peer ("h2") apart
OTHER_TRANSPORT = (
    "the peer does not speak the socket link transport (every party must use the same "
    "link_transport)"
)


# ----- addresses and connections --------------------------------------------------------------
def split_address(address: str) -> tuple[str, int]:
    """(host, port) of 'host:port' ('[::1]:port' for IPv6)."""
    host, _, port = address.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ConfigError(f"address {address!r} needs a numeric port ('host:port')") from None


def listen(address: str) -> socket.socket:
    """A listening TCP socket on `address` (OSError if it is in use or invalid)."""
    return socket.create_server(split_address(address), backlog=64)


def connect(address: str, timeout: float) -> socket.socket:
    """A TCP connection to `address`, configured for a link (OSError if it cannot be made)."""
    sock = socket.create_connection(split_address(address), timeout=timeout)
    configure(sock)
    return sock


def configure(sock: socket.socket) -> None:
    """No Nagle delay (control messages are small) and keepalive probes (a silent dead peer is
    found in about 20 s, as gRPC's keepalive pings find it)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE.items():
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def interrupt(sock: socket.socket) -> None:
    """Wake every thread blocked on `sock` (reads end, writes fail); its owner closes it."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # (not SSLSocket's: it drops the TLS state)


def readable(sock: socket.socket, timeout_s: float) -> bool:
    """Whether `sock` has something to read, an end of stream or an error within `timeout_s`."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | getattr(select, "POLLRDHUP", 0))
    return bool(poller.poll(timeout_s * 1000))


# ----- TLS -----------------------------------------------------------------------------------
def server_context(tls: TlsConfig) -> ssl.SSLContext:
    """What a listening party presents and which client certificates it accepts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED
    context.num_tickets = 0  # no session resumption: nothing unread is left on a connection
    _trust(context, tls, tls.all_roots())
    return context


def client_context(tls: TlsConfig, peer: str) -> ssl.SSLContext:
    """What a party presents when it dials `peer`, trusting only `peer`'s certificate or the CA
    (`wrap_socket(..., server_hostname=peer)` then checks the certificate names `peer`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _trust(context, tls, tls.roots_for(peer))
    return context


def _trust(context: ssl.SSLContext, tls: TlsConfig, roots: bytes) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols([ALPN])
    try:
        context.load_verify_locations(cadata=roots.decode())
        _load_key_pair(context, tls)
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError(f"cannot use these TLS certificates and key: {exc}") from None
    if tls.ca is None:
        # A pinned certificate is trusted as it is, even when it is not a CA certificate.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN


def _load_key_pair(context: ssl.SSLContext, tls: TlsConfig) -> None:
    pem = tls.cert.rstrip(b"\n") + b"\n" + tls.key
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("privpad-link-key", os.MFD_CLOEXEC)
        try:
            os.write(fd, pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as directory:  # mode 0700, removed at once
        path = os.path.join(directory, "key-pair.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(path)


def peer_certificate(sock: socket.socket) -> bytes | None:
    """The certificate the other end presented (PEM), None on a plaintext socket."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    return ssl.DER_cert_to_PEM_cert(der).encode() if der else None


def describe(exc: BaseException) -> str:
    """A socket or TLS failure in words a user can act on (the wording of the gRPC transport's
    `wire.describe_rpc_error`, so the start-up logic reads both alike)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{TLS_FAILURE} (wrong or untrusted certificate): {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        if "APPLICATION_PROTOCOL" in reason.upper():
            return f"{TLS_FAILURE} ({OTHER_TRANSPORT})"
        if "ALERT" in reason.upper():  # TLS 1.3: the peer refuses our certificate after its
            return f"{TLS_FAILURE} (the peer refused our certificate: {reason.lower()})"
        return f"{TLS_FAILURE}: {reason.lower()}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc)[:300]


# ----- messages ------------------------------------------------------------------------------
def write_message(sock: socket.socket, message: bytes) -> None:
    """Write one control message (or any ready-made wire message)."""
    sock.sendall(LENGTH.pack(len(message)) + message)


def write_frame(sock: socket.socket, seq: int, parts: list, total: int, channel: bytes) -> None:
    """Write frame `seq` as one data message, its large buffers straight from their arrays."""
    head = data_head(seq, total, 0, channel)
    small = [LENGTH.pack(len(head) + total), head]
    for part in parts:
        if len(part) < COALESCE_BYTES:
            small.append(part)
            continue
        if small:
            sock.sendall(b"".join(small))
            small = []
        sock.sendall(part)
    if small:
        sock.sendall(b"".join(small))


class EndOfStream(ConnectionError):
    """The other end closed the connection between two messages."""


def read_message(sock: socket.socket, max_frame_bytes: int) -> bytes | memoryview:
    """The next wire message; a data message's body lands in an aligned numpy buffer.

    LinkError for a malformed or oversized message, EndOfStream when the stream ends between
    messages, another OSError when it breaks.
    """
    head = memoryview(bytearray(LENGTH.size + DATA_HEAD_BYTES))
    if not _fill(sock, head[: LENGTH.size], allow_end=True):
        raise EndOfStream("the peer closed the connection")
    (length,) = LENGTH.unpack_from(head)
    if length == 0:
        raise LinkError("empty message")
    first = head[LENGTH.size : LENGTH.size + min(length, DATA_HEAD_BYTES)]
    _fill(sock, first)
    if first[:1] != DATA:
        if length > MAX_CONTROL_BYTES:
            raise LinkError(f"control message of {length} bytes exceeds {MAX_CONTROL_BYTES}")
        message = bytearray(length)
        message[: len(first)] = first
        _fill(sock, memoryview(message)[len(first) :])
        return bytes(message)
    return _read_data(sock, length, first, max_frame_bytes)


def _read_data(sock, length: int, first: memoryview, max_frame_bytes: int) -> memoryview:
    if length < DATA_HEAD_BYTES:
        raise LinkError("truncated chunk")
    _seq, total, _offset, name_len = CHUNK_HEAD.unpack_from(first, 1)
    body = length - DATA_HEAD_BYTES - name_len
    if name_len > MAX_CHANNEL or body < 0:
        raise LinkError("chunk with a malformed channel name")
    if total > max_frame_bytes:
        raise LinkError(f"frame of {total} bytes exceeds the limit {max_frame_bytes}")
    if body > total:
        raise LinkError(f"chunk of {body} bytes for a frame of {total} bytes")
    # The frame's buffers are 8-byte aligned relative to the frame's start: start the frame on
    # an aligned address so that the arrays decoded in place are aligned too. np.empty: no
    # zero-filling of memory about to be overwritten.
    pad = -(DATA_HEAD_BYTES + name_len) % ALIGN
    message = memoryview(np.empty(pad + length, np.uint8))[pad:]
    message[:DATA_HEAD_BYTES] = first
    _fill(sock, message[DATA_HEAD_BYTES:])
    return message


def _fill(sock: socket.socket, view: memoryview, allow_end: bool = False) -> bool:
    """Receive exactly len(view) bytes into `view`; False if the stream ended before any byte
    and `allow_end`, ConnectionResetError if it ended in the middle."""
    got = 0
    while got < len(view):
        count = sock.recv_into(view[got:])
        if not count:
            if got == 0 and allow_end:
                return False
            raise ConnectionResetError(f"the connection ended after {got} of {len(view)} bytes")
        got += count
    return True
