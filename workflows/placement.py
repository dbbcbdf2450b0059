"""Where each party of a run executes: the one seam between embedded and network runs.

A component's `run` is written once. It reaches parties only through its `RunContext`, which
asks the run's placement:

- `Embedded` (`EMBEDDED`, today's console): every party runs in this process, so all of them
  trust its operator. `ctx.at(p, fn)` runs `fn` for every party; a value a party publishes is
  simply returned; engine sessions are simulations (a worker thread per party, in-memory
  links, SEMI2K's in-process dealer).
- `AtParty(me, deployment)`: this process is party `me` of a network run, SecretFlow's
  production mode: every party's process runs the same component code, in the same order.
  `ctx.at(p, fn)` runs `fn` only when `p` is me (the other parties' calls are made by their
  own processes); reads and writes touch only my storage; engine sessions use the run's
  `core.device.deployment.Deployment` (links under mutual TLS); SEMI2K's correlations
  then come from a trusted first party or the cluster's dealer node
  (`workflows.components.secure.make_spu`).

What one party needs from another (a row count, a PSI set size, a model's public manifest, a
report built for it) crosses as a typed frame on the `workflow` channel of the run's links
(`publish`): never pickled, and only what the component's disclosure declares. Every process
calls `publish` in the same order, which holds because the component's control flow depends
only on public facts (parameters, schemas, published values).

When the owner's code fails inside `publish`, it sends a failure marker instead of the value:
the error's class and its redacted text (`workflows.redaction`: never the exception's own
text, which may quote data). Every receiver then fails with `PartyFailure(owner,
RemoteFailure(...))`, so nobody waits for a value that will not come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from core.comm import CommStats
from core.device import runtime
from core.errors import LinkError, PartyFailure
from workflows.messages import Message, translatable

CHANNEL = "workflow"


class WorkflowLinkError(LinkError):
    """The run's links carried something the workflow did not expect (no engine cause):
    `message` says what, for each reader in their language (`workflows.link_causes`)."""

    def __init__(self, text: str, message: Message):
        super().__init__(text)
        self.message = message


class RemoteFailure(Exception):
    """Another party's code failed; only its error class and redacted text crossed over."""

    def __init__(self, error_class: str, public: str):
        super().__init__(public)
        self.error_class = error_class
        self.public = public


class Placement:
    """Which parties' code runs in this process, and how values cross between parties."""

    networked = False
    me: str | None = None

    def runs_here(self, party: str) -> bool:
        return True

    def here(self, parties: Sequence[str]) -> list[str]:
        """The parties among `parties` whose code runs in this process, in order."""
        return [party for party in parties if self.runs_here(party)]

    def session(
        self, parties: Sequence[str], stats: CommStats, *, among_only: bool = False
    ) -> AbstractContextManager:
        """The engine cluster a component computes on, current for this thread.

        `among_only`: the computation's messages stay among `parties` (PSI), so the parties
        of the run outside them may stand aside."""
        raise NotImplementedError

    def publish(self, owner: str, compute: Callable[[], Any], node_id: str = "") -> Any:
        """`compute()` run by `owner`; every party of the run receives its value."""
        raise NotImplementedError


class Embedded(Placement):
    """Every party in this process (see the module docstring)."""

    def session(
        self, parties: Sequence[str], stats: CommStats, *, among_only: bool = False
    ) -> AbstractContextManager:
        return runtime.using(runtime.Simulation(list(parties), stats=stats))

    def publish(self, owner: str, compute: Callable[[], Any], node_id: str = "") -> Any:
        return compute()


EMBEDDED = Embedded()


class AtParty(Placement):
    """This process is party `me` of a network run over `deployment`'s links."""

    networked = True

    def __init__(self, me: str, deployment):
        self.me = me
        self.deployment = deployment
        self.parties = list(deployment.program_parties)
        self.link = deployment.transport.link(self.parties, CHANNEL)

    def runs_here(self, party: str) -> bool:
        return party == self.me

    def session(
        self, parties: Sequence[str], stats: CommStats, *, among_only: bool = False
    ) -> AbstractContextManager:
        """The run's deployment, shared by its nodes: bound to this thread, not closed after.

        Unless the computation talks `among_only` its parties (PSI), every party of the run
        must take part: a party outside `parties` would still be sent the values the others
        reveal on the run's links (a deployment reveals to every party that runs the
        program), so a secure computation among only some of the run's parties is refused,
        naming the parties to leave out of the run."""
        if not among_only and set(self.parties) - set(parties):
            from workflows.components.checks import CheckFailed  # it imports the engine

            left_out = sorted(set(self.parties) - set(parties))
            raise CheckFailed(
                translatable(
                    "this secure computation runs among %(parties)s only, but the run also "
                    "includes %(others)s; a network run needs every participating party in each "
                    "secure computation. Fix: run the nodes of these parties without the others "
                    "(start the run at their nodes only).",
                    parties=list(parties),
                    others=left_out,
                )
            )
        return runtime.using(self.deployment, close=False)

    def publish(self, owner: str, compute: Callable[[], Any], node_id: str = "") -> Any:
        if owner != self.me:
            return self._receive(owner)
        try:
            value = compute()
        except BaseException as error:
            self._to_others(failure_marker(error, owner, node_id))
            raise
        self._to_others({"ok": True, "value": value})
        return value

    def exchange(self, value: Any) -> dict[str, Any]:
        """Every party's `value`, by party (mine included): all send, then all receive."""
        self._to_others({"ok": True, "value": value})
        received = {party: self._receive(party) for party in self.parties if party != self.me}
        return received | {self.me: value}

    def _to_others(self, message: dict) -> None:
        for rank, party in enumerate(self.parties):
            if party != self.me:
                self.link.send(rank, message)

    def _receive(self, owner: str) -> Any:
        message = self.link.recv(self.parties.index(owner))
        if not isinstance(message, dict) or not isinstance(message.get("ok"), bool):
            raise WorkflowLinkError(
                f"{owner!r} sent a malformed workflow message",
                translatable("%(party)s sent a malformed workflow message", party=owner),
            )
        if message["ok"]:
            return message.get("value")
        error = RemoteFailure(str(message.get("class", "Error")), str(message.get("public", "")))
        raise PartyFailure(owner, error)


def failure_marker(error: BaseException, owner: str, node_id: str) -> dict:
    """What the other parties learn of `owner`'s failure: its class and redacted text."""
    from workflows import redaction  # components import this module; redaction imports them

    inner = error.error if isinstance(error, PartyFailure) else error
    if isinstance(inner, RemoteFailure):
        return {"ok": False, "class": inner.error_class, "public": inner.public}
    described = redaction.describe(inner, node_id or "?", owner)
    return {"ok": False, "class": described.error_class, "public": described.public}


def lost_peers(deployment) -> list[str]:
    """Peers whose connection broke and was not restored (not those that aborted: an abort
    carries its reason, and the party it began at is named in it)."""
    peers = getattr(getattr(deployment, "transport", None), "peers", {})
    return sorted(
        name
        for name, peer in peers.items()
        if getattr(peer.error, "lost", False)  # a `core.comm.causes.LinkCause`
    )
