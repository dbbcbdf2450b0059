"""Why a network link failed, as data: a stable code and its params.

A `LinkCause` is the English text a `LinkError` has always carried (so Python users, logs and
peers running an older version read the same words) and, beside it, what that text says as a
`code` plus `params` (party names, seconds, link versions, addresses, a nested cause). Layers
above the engine word a cause in their reader's language from the code alone: they never parse
the text. `CAUSES` is the one table of codes and their English templates (`str.format`);
`LinkError.cause` (`core.errors`) holds the cause of an error, `Peer.error` the cause of a
peer's failure.

A cause is a `str` (its English text), so every place that treats a failure as text keeps
working; `to_wire`/`from_wire` carry one inside control messages (a peer's abort, a refused
hello), where a peer's cause is checked like any other input: a known code, params of plain
types with bounded text, bounded nesting; anything else is dropped and the text used alone.

Params: text or numbers (party names are shown as `repr` in the English text, as before), a
nested cause, a list of those, or (only `message` of `aborted`) an opaque map the layers above
sent with their abort (`Transport.abort`), passed through as received.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.coded_text import CodedText

CAUSES: dict[str, str] = {
    # a hello refused by the receiving party (`core.comm.incoming`)
    "not_hello": "the first message was not a hello",
    "malformed_control": "malformed control message ({problem})",
    "stranger": "{peer!r} is not a party of {parties}",
    "version_mismatch": (
        "protocol mismatch: {peer!r} speaks link version {theirs!r}, {party!r} speaks {ours}"
    ),
    "misdialled": "{peer!r} dialled {dialled!r} but reached {party!r}",
    "parties_mismatch": (
        "configuration mismatch: {peer!r} has parties {theirs!r}, {party!r} has {ours}"
    ),
    "wrong_certificate": "wrong certificate: {problem}",
    "no_certificate": "a peer claiming to be {peer!r} presented no certificate",
    "foreign_certificate": "a peer claiming to be {peer!r} presented another party's certificate",
    "misnamed_certificate": (
        "a peer claiming to be {peer!r} presented a certificate issued for another name"
    ),
    "restarted": "{peer!r} restarted: what it held of the computation is gone",
    "setup_failed": "{party!r} could not set up its links: {reason}",
    "stale_dial": "stale or malformed dial {dial!r}",
    "other_transport": (
        "{peer!r} does not speak the {ours} link transport (every party must use the same "
        "link_transport)"
    ),
    # a link failing while it runs
    "aborted": "{peer!r} aborted: {reason}",
    "party_failed": "{party!r} failed with {error}",
    "party_failed_link": "{party!r} failed with {error}: {reason}",
    "malformed_frame": "{peer!r} sent a malformed frame: {detail}",
    "lost": (
        "lost connection to {peer!r} (its stream broke and was not restored within {seconds:.0f}s)"
    ),
    "lost_refused": "lost connection to {peer!r} ({reason}); it refused: {refusal}",
    "lost_not_restored": (
        "lost connection to {peer!r} ({reason}); not restored within {seconds:.0f}s"
    ),
    "cannot_resume": "cannot resume the link to {peer!r}: {reason}",
    "frame_dropped": (
        "{peer!r} expects frame {expected} but {party!r} holds frames from {kept} on "
        "(it acknowledged the earlier ones)"
    ),
    "frame_unsent": "{peer!r} expects frame {expected} but {party!r} sent frames up to {last}",
    "program_mismatch": (
        "{peer!r} runs another program: its message on channel {channel!r} is of {theirs}, "
        "where {party!r} is at {ours}"
    ),
    "unexpected_message": (
        "{peer!r} sent {got} where {party!r} expects {expected} ({what}, at {step} of channel "
        "{channel!r})"
    ),
    "malformed_message": "{peer!r} sent a malformed {what}: {problem}",
    "ended_during_step": (
        "{peer!r} ended its program while {party!r} waits for its message of {step} on channel "
        "{channel!r}: do the parties run the same program?"
    ),
    "flooded": (
        "{peer!r} sent {size} bytes that {party!r} does not read (on channels {channels}), "
        "filling its receive buffer while it waits for a message on channel {channel!r}"
    ),
    "closed": "the link was closed",
    "peer_closed": "{peer!r} has shut down its link",
    "timeout": "{party!r} timed out after {seconds:.0f}s waiting for {peer!r}",
    "send_timeout": (
        "{party!r} timed out after {seconds:.0f}s sending to {peer!r} (it stopped reading)"
    ),
    "too_large": "message of {size} bytes to {peer!r} exceeds the frame limit",
    "at_party": "{party!r}: {reason}",
    # start-up (`core.comm.network`, `core.comm.outgoing`)
    "dial_refused": "{peer!r} refused the link from {party!r}: {reason}",
    "unreachable": "{party!r} cannot reach {peer!r} at {address} within {seconds:.0f}s: {reason}",
    "gave_up": "{party!r} gave up dialling {peer!r}",
    "no_hello": "{party!r}: {peer!r} did not connect back within {seconds:.0f}s",
    "no_hello_at": (
        "{party!r}: {peer!r} did not connect back to {party!r} at {address} within "
        "{seconds:.0f}s (is that the address {peer!r} has for {party!r}?)"
    ),
    "listen_failed": "{party!r} cannot listen on {address}: {reason}",
    "address_in_use": "{party!r} cannot listen on {address} (in use or invalid)",
    "several": "{causes}",  # start-up failures of several peers, joined with "; "
}
LOST = frozenset({"lost", "lost_refused", "lost_not_restored"})  # the peer went away
# A refused hello saying that the peer stopped linking with us, and why: its start failed, or
# its link to us already failed (`core.comm.incoming`); the dialling party reads it as an abort.
PEER_STOPPED = frozenset({"setup_failed", "at_party"})
NOT_DIALLED_BACK = frozenset({"no_hello", "no_hello_at"})
TLS_FAILURE = "TLS handshake failed"  # how an unreachable's reason starts when TLS refused

MAX_TEXT = 500  # characters of one text param from a peer
MAX_DEPTH = 6  # nested causes from a peer
_PLAIN = (str, int, float, bool)


class LinkCause(CodedText):
    """A cause (see the module docstring): `str(cause)` is its English text."""

    TEMPLATES = CAUSES
    KIND = "link cause"

    @classmethod
    def _english(cls, code: str, params: Mapping[str, Any]) -> str:
        if code == "several":
            return "; ".join(str(cause) for cause in params.get("causes", ()))
        return CAUSES[code].format(**params)

    @property
    def lost(self) -> bool:
        """Whether the peer went away (its connection broke and was not restored)."""
        return self.code in LOST

    def to_wire(self) -> dict:
        """This cause as a map for a control message (nested causes as maps too)."""
        return {"code": self.code, "params": {k: _param_to_wire(v) for k, v in self.params.items()}}

    @classmethod
    def from_wire(cls, data: Any, depth: int = 0) -> LinkCause | None:
        """The cause a peer sent (`to_wire`), or None if it is not a well-formed one."""
        if depth > MAX_DEPTH or not isinstance(data, Mapping):
            return None
        code, params = data.get("code"), data.get("params")
        if code not in CAUSES or not isinstance(params, Mapping):
            return None
        checked = {}
        for name, value in params.items():
            if not isinstance(name, str):
                return None
            checked[name] = _param_from_wire(name, value, depth)
            if checked[name] is _INVALID:
                return None
        try:
            return cls(code, **checked)
        except (KeyError, ValueError, TypeError, IndexError):  # params missing or of a bad type
            return None


def _param_to_wire(value: Any) -> Any:
    if isinstance(value, LinkCause):
        return value.to_wire()
    if isinstance(value, list | tuple):
        return [_param_to_wire(item) for item in value]
    return value


_INVALID = object()


def _param_from_wire(name: str, value: Any, depth: int) -> Any:
    if value is None or isinstance(value, _PLAIN):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, Mapping):
        if name == "message":  # opaque to the engine (see the module docstring)
            return dict(value)
        cause = LinkCause.from_wire(value, depth + 1)
        return _INVALID if cause is None else cause
    if isinstance(value, list) and len(value) <= 64:
        items = [_param_from_wire(name, item, depth + 1) for item in value]
        return _INVALID if any(item is _INVALID for item in items) else items
    return _INVALID


def startup_order(cause: LinkCause, party: str) -> int:
    """Where `cause`, one of `party`'s start-up errors, comes in what `party` reports: the
    lowest are reported (together when several). The one rule for the start-up failures of
    several parties, as the simulation's `_blame_order` puts a party's own error before the
    copies the others hold (`core.device.runtime`):

    0. what a peer revealed: it refused our hello saying why, it aborted, its node reported it
       stopped (`core.comm.network.PeerFailures`);
    1. a failed TLS handshake (a certificate one side does not trust);
    2. a peer unreachable at the address `party` dialled;
    3. a peer's word that `party` did not connect back to it: a second-hand copy of `party`'s
       own failure to reach that peer, which `party` states first, naming the address (2);
    4. a dial given up without a reason of its own.
    """
    if cause.code == "unreachable":
        return 1 if str(cause.params.get("reason", "")).startswith(TLS_FAILURE) else 2
    if cause.code == "gave_up":
        return 4
    return 3 if _waited_for(cause, party) else 0


def _waited_for(cause: Any, party: str) -> bool:
    """Whether all that `cause` says is that a peer waited for `party` to connect back."""
    if not isinstance(cause, LinkCause):
        return False
    if cause.code in NOT_DIALLED_BACK:
        return cause.params.get("peer") == party
    if cause.code in ("aborted", "at_party", "setup_failed"):
        return _waited_for(cause.params.get("reason"), party)
    if cause.code == "several":
        causes = cause.params.get("causes") or ()
        return bool(causes) and all(_waited_for(item, party) for item in causes)
    return False
