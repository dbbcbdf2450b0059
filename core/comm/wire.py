"""What network links put on a gRPC stream: message kinds, frame chunks, control messages.

Every gRPC message starts with one kind byte. Data messages are chunks of a typed frame
(`core.comm.frames`): kind `D`, then (sequence number, frame length, offset, channel name
length) as big-endian u64 u64 u64 u8, the channel name, and at most `CHUNK_BYTES` of the
frame, so no gRPC message ever exceeds `MAX_GRPC_MESSAGE` whatever the array. Control messages
(hello, welcome, acknowledgement, abort, goodbye) are the kind byte and a small msgpack map.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import msgpack

from core.comm.causes import TLS_FAILURE, LinkCause
from core.errors import LinkError

HELLO, WELCOME, DATA, ACK, ABORT, BYE = b"H", b"W", b"D", b"K", b"A", b"B"
CHUNK_BYTES = 1 << 21
MAX_GRPC_MESSAGE = CHUNK_BYTES + (1 << 16)
MAX_CHANNEL = 64
SERVICE, METHOD = "privpad.link.v1.Link", "Exchange"
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE),
    ("grpc.max_send_message_length", MAX_GRPC_MESSAGE),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Servers accept the clients' 10 s keepalive pings (by default they allow one per 5 min
    # and answer more with GOAWAY, which would break an idle link between two rounds).
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
]
_CHUNK = struct.Struct(">QQQB")
CHUNK_HEAD = _CHUNK  # (seq, frame length, offset, channel name length) after the kind byte
DATA_HEAD_BYTES = 1 + _CHUNK.size  # a data message before its channel name


def control(kind: bytes, body: dict) -> bytes:
    return kind + msgpack.packb(body, use_bin_type=True)


def parse_control(message: bytes) -> dict:
    """The map of a control message; LinkError for anything else."""
    try:
        body = msgpack.unpackb(message[1:], raw=False, max_str_len=1 << 16, max_array_len=1 << 12)
    except Exception as exc:  # noqa: BLE001 - any garbage is one error
        problem = type(exc).__name__
        raise LinkError(LinkCause("malformed_control", problem=problem)) from None
    if not isinstance(body, dict):
        raise LinkError(LinkCause("malformed_control", problem="not a map"))
    return body


def frame_messages(seq: int, parts: list, total: int, channel: bytes) -> Iterator[bytes]:
    """The data messages of one frame, slicing its parts without copying them twice."""
    pending, size, offset = [], 0, 0
    for part in parts:
        view = memoryview(part)
        while len(view):
            take = min(len(view), CHUNK_BYTES - size)
            pending.append(view[:take])
            view, size = view[take:], size + take
            if size == CHUNK_BYTES:
                yield _chunk(seq, total, offset, channel, pending)
                offset += size
                pending, size = [], 0
    if pending:
        yield _chunk(seq, total, offset, channel, pending)


def _chunk(seq: int, total: int, offset: int, channel: bytes, pieces: list) -> bytes:
    return b"".join([data_head(seq, total, offset, channel), *pieces])


def data_head(seq: int, total: int, offset: int, channel: bytes) -> bytes:
    """A data message up to its body: kind, chunk header and channel name."""
    return b"".join([DATA, _CHUNK.pack(seq, total, offset, len(channel)), channel])


def parse_chunk(message: bytes) -> tuple[int, int, int, str, memoryview]:
    """(sequence number, frame length, offset, channel, body) of a data message."""
    if len(message) < 1 + _CHUNK.size:
        raise LinkError("truncated chunk")
    seq, total, offset, name_len = _CHUNK.unpack_from(message, 1)
    body_at = 1 + _CHUNK.size + name_len
    if name_len > MAX_CHANNEL or len(message) < body_at:
        raise LinkError("chunk with a malformed channel name")
    try:
        channel = bytes(message[1 + _CHUNK.size : body_at]).decode()
    except UnicodeDecodeError:
        raise LinkError("chunk with a malformed channel name") from None
    return seq, total, offset, channel, memoryview(message)[body_at:]


def speaks_other_transport(exc) -> bool:
    """Whether a gRPC failure says the server is no gRPC server: a TLS server that chose no
    HTTP/2 (ALPN "h2"), such as a party on the socket link transport."""
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return "alpn" in (details or "").lower()


def describe_rpc_error(exc) -> str:
    """A gRPC failure in words a user can act on (TLS, refused connection, other)."""
    details = exc.details() if hasattr(exc, "details") else str(exc)
    details = details or str(exc.code() if hasattr(exc, "code") else exc)
    lowered = details.lower()
    if "certificate" in lowered or "handshake" in lowered or "ssl" in lowered:
        return f"{TLS_FAILURE} (wrong or untrusted certificate): {details[:300]}"
    if "socket closed" in lowered:
        # What a TLS 1.3 client sees when the server rejects its certificate.
        return f"{TLS_FAILURE} (the peer closed the connection: it may not trust our certificate)"
    if "connection refused" in lowered or "failed to connect" in lowered:
        return f"connection refused ({details[:200]})"
    return details[:300]
