"""Starting a run across nodes, at the initiating node (the project's owner node).

`start_across_nodes(run, sources)` follows the creation of the run here (validated, consent
obtained, `workflows.services.create_run`):

1. `RunStart` to every other participating node, now (not queued: a run does not wait for a
   node to come back). Each receives its own party job (the graph snapshot; no other party's
   storage path; its own sources named by their identity at their owner,
   `console.federation.sources.source_identity`) and decides on its own copy
   (`console.federation.runs`). A node that cannot be reached, or refuses, is named: the run
   is cancelled here and at the nodes that had accepted (`RunAbort`, through the outbox so a
   node that does not answer now is told later), and nothing executes.
   With a dealer node (the project's source of Beaver triples, `console.federation.dealers`;
   every member checked it against its own copy), once every member accepted the dealer is
   asked to serve the run (`DealerStart`, served as `console.federation.dealing` says) with each
   party's engine address; it answers with its own. A dealer that cannot be reached, refuses,
   or that this node is not paired with is named like a node, and the run is cancelled.
2. This node's own part is queued (`console.federation.member_runs.start_own_part`), then
   `RunLaunch` goes to every accepting node with each party's engine address, and the
   dealer's (this node's
   from `PRIVPAD_ENGINE_ADDRESS`, the others' from their replies). The own part goes first so
   that it opens its engine links while the members start theirs: a member answers
   `RunLaunch` only once its worker is under way, which would otherwise delay this node's
   part by that much. A node that cannot be reached for its launch is named as in step 1:
   the run is cancelled here and at every other node (those launched already stop their
   worker, and so does this node's own part if it started: `state.request_cancel`), and the
   dealer node, if the run has one, stops waiting for the parties (`DealerStop`).

Before step 1 every node of the run gets a part per party (`workflows.state.open_parts`): what
each party reports of its part as it runs (`console.federation.run_events`), and who is told
when the run is cancelled.

Each step calls the nodes at once (threads that touch no database: `outbox.prepare`), so a
run starts in the time of the slowest node; calls wait at most `outbox.TIMEOUT` seconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings

from console.federation import outbox, wire
from console.federation.engine import ADDRESS as ENGINE_ADDRESS
from console.federation.engine import EngineSetupError, pinned_dealer_certificate
from console.federation.models import PublishedPipeline, RunTripleSource, SharedProject
from console.federation.sources import source_identity
from console.nodes.link.envelope import EnvelopeError, error_message
from console.nodes.link.transport import NodeCallError
from console.nodes.models import Node
from console.nodes.pairing import PairingError
from workflows import state, timeline
from workflows.messages import Message, translatable, wire_text
from workflows.models import Run, Status
from workflows.party_jobs import PartyJob, job_to_dict
from workflows.ports import SourceTable

ELSEWHERE = Path("/nonexistent/elsewhere")  # a member's storage root: its own to fill in


class NodesUnavailable(Exception):
    """Nodes that could not take part in the run, each with why; the run did not start."""

    def __init__(self, reasons: dict[str, Message | str]):
        self.reasons = reasons
        self.message = translatable("the run cannot start: %(nodes)s", nodes=each_why(reasons))
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


def each_why(reasons: dict[str, Message | str]) -> list[Message]:
    """ "bob: <why>" for each node, in name order (messages, worded for each reader)."""
    return [
        translatable("%(node)s: %(reason)s", node=node, reason=reason)
        for node, reason in sorted(reasons.items())
    ]


def party_job(
    run: Run, sources: dict[int, SourceTable], parties: tuple[str, ...], party: str, storage: Path
) -> PartyJob:
    """`party`'s part of `run` (its JSON form carries no other party's storage path)."""
    return PartyJob(
        run_id=str(run.pk),
        snapshot=run.snapshot,
        parties=parties,
        sources=sources,
        storage={party: storage},
        party=party,
        # The starter's party, as the executor gives it (components decide by party).
        requested_by=getattr(getattr(run.created_by, "node", None), "name", None),
        min_group_rows=settings.PRIVPAD_DISCLOSURE_MIN_ROWS,
    )


def start_body(run: Run, shared: SharedProject, job: PartyJob) -> dict:
    published = PublishedPipeline.objects.filter(pipeline=run.pipeline).first()
    mine = [source for source in job.sources.values() if source.party == job.party]
    return {
        "project": str(shared.uid),
        "run": run.pk,
        "pipeline": {"id": run.pipeline_id, "version": published.version if published else 0},
        "fingerprint": run.disclosure_fingerprint,
        # Shown at the member as this node's statement: "alice (at node alice)".
        "started_by": run.created_by.get_username() if run.created_by else "",
        "job": wire.as_document(job_to_dict(job)),
        "sources": [source_identity(source) for source in mine],
        # The project's source of triples as this node's copy names it; each member checks it.
        "dealer": shared.dealer,
    }


def start_across_nodes(
    run: Run,
    sources: dict[int, SourceTable],
    parties: tuple[str, ...],
    me: Node,
    own_part: Callable[[dict[str, str]], None] = lambda engines: None,
) -> dict[str, str]:
    """Steps 1 and 2 of the module docstring (`own_part(engines)` queues this node's part);
    returns each party's engine address. Raises NodesUnavailable naming every node that could
    not take part (the run is cancelled)."""
    shared = SharedProject.objects.get(project_id=run.pipeline.project_id)
    state.open_parts(run, parties)  # each party's reports land there (`run_events`)
    RunTripleSource.objects.update_or_create(run=run, defaults={"dealer": shared.dealer})
    peers = {name: Node.objects.get(name=name) for name in parties if name != me.name}
    jobs = {name: party_job(run, sources, parties, name, ELSEWHERE) for name in peers}
    engines, reasons = {me.name: settings.PRIVPAD_ENGINE_ADDRESS}, {}
    if not settings.PRIVPAD_ENGINE_ADDRESS:
        reasons[me.name] = translatable("this node has no engine address (PRIVPAD_ENGINE_ADDRESS)")
    if shared.dealer:
        reasons.update(_unusable_dealer(shared.dealer, parties))
    bodies = {peer: start_body(run, shared, jobs[name]) for name, peer in peers.items()}
    timeline.mark(run.pk, "runstart.sending")
    for name, reply in _call_each("RunStart", bodies).items():
        try:
            if isinstance(reply, Exception):
                raise reply
            engines[name] = str(reply["engine"])
        except (*CALL_ERRORS, KeyError) as error:
            reasons[name] = _why(error)
    if not reasons and shared.dealer:  # the members accepted: now the dealer node
        try:
            engines[shared.dealer] = _ask_dealer(shared, run, parties, dict(engines))
        except (*CALL_ERRORS, KeyError) as error:
            reasons[shared.dealer] = translatable(
                "the dealer node cannot serve the run: %(reason)s", reason=_why(error)
            )
    if reasons:
        _abort(run, [peers[name] for name in engines if name in peers], reasons)
        raise NodesUnavailable(reasons)
    timeline.mark(run.pk, "runstart.replied")
    own_part(engines)
    timeline.mark(run.pk, "own_part.queued")
    replies = _call_each(
        "RunLaunch", {p: {"run": run.pk, "engines": engines} for p in peers.values()}
    )
    timeline.mark(run.pk, "runlaunch.replied")
    launched = []
    for name, reply in replies.items():
        if isinstance(reply, CALL_ERRORS):
            reasons[name] = _why(reply)
        elif isinstance(reply, Exception):
            raise reply
        else:
            launched.append(peers[name])
    if reasons:  # lost between its acceptance and the launch: every node is told, when it can
        _abort(run, list(peers.values()), reasons, launched)
        _stop_dealer(shared, run, reasons)
        state.request_cancel(run.pk)  # this node's part, if its worker claimed the run already
        raise NodesUnavailable(reasons)
    return engines


CALL_ERRORS = (NodeCallError, EnvelopeError, PairingError)


def _call_each(method: str, bodies: dict[Node, dict]) -> dict[str, dict | Exception]:
    """`method` at every peer at once (the run waits for the slowest node, not for the sum):
    each peer's reply body, or the error its call raised."""
    replies: dict[str, dict | Exception] = {}
    senders = {}
    for peer, body in bodies.items():
        try:
            senders[peer.name] = _prepare(peer, method, body)
        except CALL_ERRORS as error:
            replies[peer.name] = error
    if senders:
        with ThreadPoolExecutor(len(senders)) as pool:
            futures = {name: pool.submit(send) for name, send in senders.items()}
        for name, future in futures.items():
            error = future.exception()
            replies[name] = error if error is not None else future.result()
    return replies


def _prepare(peer: Node, method: str, body: dict) -> Callable[[], dict]:
    """The call of `method` at `peer`, read from the database here, sent by the caller
    (`outbox.prepare`: the sending half touches no database, so it may run in a thread)."""
    return outbox.prepare(peer, method, body, secrets.token_hex(16))


def _unusable_dealer(dealer: str, parties: tuple[str, ...]) -> dict[str, Message]:
    """{dealer: why} when this node cannot use the project's dealer node for this run."""
    if dealer in parties:  # the owner's setting refuses it; a member added since would not
        return {dealer: translatable("the dealer node is also a party of the run")}
    try:
        pinned_dealer_certificate(dealer)
    except EngineSetupError as error:
        return {dealer: error.message}
    return {}


def _ask_dealer(shared: SharedProject, run: Run, parties, engines: dict[str, str]) -> str:
    """`DealerStart` at the project's dealer node: its engine address once it accepted.
    Raises a call error (unreachable, refused) or KeyError (no engine address in its reply)."""
    body = {
        "project": str(shared.uid),
        "project_name": shared.project.name,
        "run": run.pk,
        "parties": list(parties),
        "engines": engines,
    }
    reply = _call_each("DealerStart", {Node.objects.get(name=shared.dealer): body})
    reply = reply[shared.dealer]
    if isinstance(reply, Exception):
        raise reply
    address = reply["engine"]
    if not isinstance(address, str) or not ENGINE_ADDRESS.match(address):
        raise KeyError("engine")
    return address


def _why(error: Exception) -> Message | str:
    if isinstance(error, NodeCallError):
        if error.code != "unavailable":
            return error.reason
        return translatable("unreachable (%(reason)s)", reason=error.reason)
    if isinstance(error, KeyError):
        return translatable("its reply gave no engine address")
    return error_message(error)  # an EnvelopeError's or PairingError's message, else its text


def _abort(
    run: Run,
    accepted: list[Node],
    reasons: dict[str, Message | str],
    launched: list[Node] = (),
) -> None:
    """Cancel the run here and at the nodes that accepted it; a launched node's worker may
    have started, so it is told to stop (`cancel`) rather than only not to start."""
    why = each_why(reasons)
    stopped = translatable("not started: %(reason)s", reason=why)
    state.stop_pending_run(run.pk, Status.CANCELLED, stopped, stopped)
    # Reasons travel as msgid and params: each node words them for its own readers.
    told = translatable("nodes that could not take part: %(nodes)s", nodes=why)
    for peer in accepted:  # queued: a node that is slow to answer is told when it can be
        if peer in launched:
            body = {"run": run.pk, "cancel": True, "reason": wire_text(stopped, limit=500)}
        else:
            body = {"run": run.pk, "reason": wire_text(told, limit=500)}
        outbox.send(peer, "RunAbort", body)


def _stop_dealer(shared: SharedProject, run: Run, reasons: dict[str, Message | str]) -> None:
    """The dealer node accepted the run, which will not start: it stops waiting for the
    parties' links (`DealerStop`, queued like `RunAbort`)."""
    if shared.dealer:
        told = translatable("nodes that could not take part: %(nodes)s", nodes=each_why(reasons))
        body = {"run": run.pk, "reason": wire_text(told, limit=500)}
        outbox.send(Node.objects.get(name=shared.dealer), "DealerStop", body)


def runs_across_nodes(project_id: int) -> bool:
    """A project this node owns, shared with other installations, in network mode."""
    if settings.PRIVPAD_DEPLOYMENT != "network":
        return False
    shared = SharedProject.objects.filter(project_id=project_id).select_related("project")
    shared = shared.first()
    if shared is None or not shared.project.owner_node.is_self:
        return False
    return shared.project.members.exclude(is_self=True).exists()


def launch(run: Run) -> None:
    """After `workflows.services.start_run` recorded `run` (validated, consent obtained):
    start it at every member and here (`start_across_nodes`)."""
    from console.federation import member_runs
    from console.federation.projects import self_node
    from workflows.ports import console_port

    project = console_port().project(run.pipeline.project_id)
    sources, parties, me = console_port().sources(project.id), tuple(project.parties), self_node()
    own = job_to_dict(party_job(run, sources, parties, me.name, me.storage_root))
    start_across_nodes(
        run, sources, parties, me, lambda engines: member_runs.start_own_part(run, own, engines)
    )
