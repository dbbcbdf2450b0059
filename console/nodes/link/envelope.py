"""The envelope of every node-to-node call and reply: typed, bounded, fresh, never pickled.

    {"protocol": "privpad-node/1", "from": <node name>, "nonce": <32 hex>, "ts": <unix s>,
     "body": {...}}

encoded with msgpack. The receiver refuses anything larger than `MAX_MESSAGE_BYTES`, any other
shape, a timestamp outside its window and (in `service`) a nonce it has already seen from that
certificate, so a recorded call cannot be replayed.

An `EnvelopeError` says what is wrong as a `workflows.messages` message: refused to a caller,
it travels as msgid and params (`service.Refused`), worded at the calling node in its reader's
language; `str(error)` is its English words (logs, audit entries).
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass

import msgpack

from workflows.messages import Message, render, translatable

PROTOCOL = "privpad-node/1"
MAX_MESSAGE_BYTES = 64 * 1024
_NONCE = re.compile(r"^[0-9a-f]{32}$")


class EnvelopeError(ValueError):
    """A message that is not a well-formed, fresh envelope (or a body field that is not
    what its call expects): `message` says why (see the module docstring)."""

    def __init__(self, message: Message | str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return render(self.message, "en")


def error_message(error: Exception) -> Message | str:
    """What `error` says, to send or store as a message: its `message` when it carries one
    (EnvelopeError, `transport.NodeCallError`, `pairing.PairingError`), else its text."""
    message = getattr(error, "message", None)
    return message if isinstance(message, Message | str) else str(error)


@dataclass(frozen=True)
class Envelope:
    sender: str
    nonce: str
    timestamp: float
    body: dict


def seal(
    sender: str, body: dict, *, nonce: str | None = None, timestamp: float | None = None
) -> bytes:
    """The bytes of an envelope from `sender` carrying `body` (fresh nonce and time by default)."""
    data = msgpack.packb(
        {
            "protocol": PROTOCOL,
            "from": sender,
            "nonce": nonce or secrets.token_hex(16),
            "ts": time.time() if timestamp is None else timestamp,
            "body": body,
        },
        use_bin_type=True,
    )
    if len(data) > MAX_MESSAGE_BYTES:
        raise _too_large(len(data))
    return data


def unseal(data: bytes) -> Envelope:
    """The envelope in `data`; EnvelopeError naming the problem otherwise (freshness unchecked)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise _too_large(len(data))
    try:
        message = msgpack.unpackb(
            data,
            raw=False,
            max_str_len=MAX_MESSAGE_BYTES,
            max_bin_len=MAX_MESSAGE_BYTES,
            max_array_len=1024,
            max_map_len=64,
            strict_map_key=True,
        )
    except Exception as error:  # noqa: BLE001 - any undecodable input is one kind of error
        problem = type(error).__name__
        raise EnvelopeError(
            translatable("malformed message (%(problem)s)", problem=problem)
        ) from None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        raise EnvelopeError(translatable("not a %(protocol)s message", protocol=PROTOCOL))
    sender, nonce, stamp, body = (message.get(k) for k in ("from", "nonce", "ts", "body"))
    if not isinstance(sender, str) or not sender:
        raise EnvelopeError(translatable("the message names no sender"))
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise EnvelopeError(translatable("the message's nonce is not 32 hex digits"))
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        raise EnvelopeError(translatable("the message's timestamp is not a number"))
    if not isinstance(body, dict):
        raise EnvelopeError(translatable("the message's body is not a map"))
    return Envelope(sender=sender, nonce=nonce, timestamp=float(stamp), body=body)


def check_fresh(envelope: Envelope, window_seconds: float, now: float | None = None) -> None:
    """EnvelopeError if the envelope's timestamp is further than the window from `now`."""
    now = time.time() if now is None else now
    skew = envelope.timestamp - now
    if abs(skew) <= window_seconds:
        return
    off = {"seconds": f"{abs(skew):.0f}", "window": f"{window_seconds:.0f}"}
    if skew > 0:
        said = translatable(
            "stale timestamp: %(seconds)s s ahead of this node's clock (calls are accepted "
            "within %(window)s s)",
            **off,
        )
    else:
        said = translatable(
            "stale timestamp: %(seconds)s s behind this node's clock (calls are accepted "
            "within %(window)s s)",
            **off,
        )
    raise EnvelopeError(said)


def text_field(body: dict, key: str, max_length: int = 200) -> str:
    """`body[key]` as a non-empty string of bounded length; EnvelopeError otherwise."""
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise EnvelopeError(
            translatable(
                "the message's '%(key)s' is missing or longer than %(max)s",
                key=key,
                max=max_length,
            )
        )
    return value


def _too_large(size: int) -> EnvelopeError:
    return EnvelopeError(
        translatable("message of %(size)s bytes exceeds %(max)s", size=size, max=MAX_MESSAGE_BYTES)
    )
