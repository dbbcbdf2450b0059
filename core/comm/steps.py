"""Program steps: which joint step of its program each message on a network link belongs to.

In a deployment every party runs its own copy of the program, and only the program text makes
their messages meet: FIFO order on each channel and nothing else. A party whose program
differs (it reveals a value to itself that the owner's program reveals to nobody, asks for a
PYU value its owner's program does not send, leaves a message of an earlier step behind)
would have its messages read as the ones the receiver expects, and read the receiver's later
messages as the answer to its own request: a share taken for another share, a wrong number
with a green run, and a peer that learns only from a timeout that something went wrong.

So the device layer numbers, per peer, the joint operations a party runs with that peer and
labels each in public words (the operation, the device, the parties: never a value; see
`Link.begin_step`, called by `core.device.deployment.Deployment.run_all`). A network link sends
every message as `(count, label, message)` with its sender's step for that peer, and the
receiver refuses a message of any step but its own current one with the peer: LinkError
`program_mismatch`, naming the peer, the channel and both steps. The party then fails and tells
its peers why (`Deployment._abort_peers`), so the peer that diverged ends at once with that
reason rather than at its timeout, and nobody goes on with a message of another step. A peer
that ends its program while a party still waits for its message of a step is reported as such
(`ended_during_step`), not only as a link shut down.

Counting per peer (not per program) keeps honest parties in step when some of them sit out an
operation (a PSI among two of three parties): each pair counts exactly the operations both of
its parties run. Simulations (one driver, in-memory links) cannot diverge and carry no steps.

Threat model: this catches a party that runs another program, or another configuration, on an
unmodified engine. An engine modified to forge steps gets no further than the protocols allow
a dishonest party (they are semi-honest: it may corrupt results); what it receives is still only
what the honest parties' programs send. (An HEU key owner's program decrypts what arrives at
its step: ciphertexts an evaluator computed otherwise than the program says are decrypted all
the same, so a program must reveal decryptions only as its disclosure allows.)
"""

from __future__ import annotations

from typing import Any

from core.comm.causes import LinkCause
from core.errors import LinkError

MAX_LABEL = 200  # characters of a peer's step label kept in an error


def tagged(step: tuple[int, str], message: Any) -> tuple[int, str, Any]:
    """`message` as it travels: with its sender's step (count, label)."""
    return (step[0], step[1], message)


def untagged(link, frm: int, received: Any, ours: tuple[int, str]) -> Any:
    """The message inside `received` from rank `frm` of `link`, if it is of our step `ours`;
    LinkError naming the peer and both steps otherwise."""
    peer = link.parties[frm]
    if not (
        isinstance(received, tuple)
        and len(received) == 3
        and isinstance(received[0], int)
        and isinstance(received[1], str)
    ):
        detail = "a message without its program step"
        raise LinkError(LinkCause("malformed_frame", peer=peer, detail=detail))
    count, label, message = received
    if (count, label) != ours:
        raise LinkError(
            LinkCause(
                "program_mismatch",
                peer=peer,
                party=link.party,
                channel=getattr(link, "channel", ""),
                theirs=describe((count, label[:MAX_LABEL])),
                ours=describe(ours),
            )
        )
    return message


def ended_during_step(link, frm: int, error: LinkError) -> LinkError:
    """`error` (waiting for rank `frm`), restated when the peer ended its program in good
    order while this party waits for its message of a step: the programs differ (or the peer's
    failed before it could say so), which "has shut down its link" alone does not tell."""
    cause = error.cause
    closed = cause is not None and cause.code == "at_party" and cause.params.get("reason")
    step = link.step_with(frm)
    if not (closed and getattr(closed, "code", None) == "peer_closed" and step[1]):
        return error
    return LinkError(
        LinkCause(
            "ended_during_step",
            peer=link.parties[frm],
            party=link.party,
            step=describe(step),
            channel=getattr(link, "channel", ""),
        )
    )


def describe(step: tuple[int, str]) -> str:
    """A step in words, e.g. "step 3 (spu/0: reveal to 'alice')"."""
    count, label = step
    return f"step {count} ({label or 'no operation'})"
