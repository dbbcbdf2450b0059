"""The party worker: one party's part of a pipeline run, in that party's own process.

`run_party(job, network, report)` is what a node runs when a run starts in network mode (its
worker for its part, `console.federation.member_runs`, or by hand `manage.py runpart`). Every
participating party runs it with the same run id and graph snapshot; each executes its part of
every node, in the same topological order, with the component code unchanged
(`workflows.placement.AtParty`: SecretFlow's production mode). With `network=None` every
party runs in this one process (`EMBEDDED`): the reference the network run is compared with,
and what tests and benchmarks use.

Steps (network mode):
1. Validate the snapshot against the project's parties and authorised datasets, as the executor
   does; an invalid snapshot refuses the run at this party.
2. Open the run's links (`core.device.deployment.Deployment`: mutual TLS). A party that
   cannot be reached within `connect_timeout` is named and the run refuses: nothing executes.
3. Check that every party runs the same run: each sends the run id and the snapshot's
   fingerprint; a mismatch refuses the run naming the parties.
4. Execute the nodes. Outputs go under `<storage root>/runs/<run id>/<node id>/` of this party
   only. After a node, every party confirms it over the links: a node has succeeded only when
   it has succeeded at every party.
5. A failure fails the node at every party: the failing party removes its partial outputs and
   aborts the links with the redacted reason (`workflows.redaction`; English words, and the
   message each party words for its own readers: `workflows.link_causes`), so a party blocked in a
   protocol anywhere fails at once instead of waiting; a party lost mid-run (process killed,
   network cut) is noticed by the others when its connection is not restored within
   `reconnect_grace`, and they name it. The run then stops at every party: the remaining nodes
   are skipped, outputs of finished nodes are kept, and a new run (new links) can start as soon
   as the party is back. (Embedded, a failure skips only the nodes that depend on it, as in the
   executor; a network run stops because the aborted links cannot carry other branches.)

`report(event)` receives JSON-ready events for the initiator's canvas: `node.status` (status,
message for this party's users, `public` message for the others, failing `party`),
`node.progress`, `node.log`, `node.warning` (`message` as this party may read it, `public`,
and `about`: the party whose data it is about, whose node alone reads it in full) and, last,
`run.status`; every event names `party` (this party, or "embedded"). Messages (events,
`NodeOutcome`, `PartyResult`) are in `workflows.messages`' stored form (`stored`: a
{"msgid", "params"} object, or plain text), rendered by each node for its own readers.

Consent: the caller starts the worker only for a run whose disclosure plan the data owners
approved (the executor's check); the worker checks the snapshot itself, not the approvals.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError, EngineError, LinkError, PartyFailure
from workflows import redaction, timeline
from workflows.components import registry
from workflows.components.context import ArtifactData, RunCancelled, RunContext
from workflows.disclosure.checks import min_group_size
from workflows.graph import GraphFormatError, parse_graph
from workflows.link_causes import link_error_message
from workflows.messages import Storable, render, said_by, stored, translatable
from workflows.party_jobs import Network, PartyJob
from workflows.placement import (
    EMBEDDED,
    AtParty,
    Placement,
    RemoteFailure,
    WorkflowLinkError,
    lost_peers,
)
from workflows.validation import validate

SUCCEEDED, FAILED, SKIPPED, RUNNING = "succeeded", "failed", "skipped", "running"
REFUSED = "refused"
EMBEDDED_PARTY = "embedded"


@dataclass
class NodeOutcome:
    status: str
    message: dict | str = ""  # stored forms (`workflows.messages.stored`)
    public: dict | str = ""
    party: str = ""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    bytes_sent: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    confirm_seconds: float = 0.0


@dataclass
class PartyResult:
    status: str
    message: dict | str
    nodes: dict[str, NodeOutcome]
    setup_seconds: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        nodes = {node_id: vars(outcome) for node_id, outcome in self.nodes.items()}
        return {
            "status": self.status,
            "message": self.message,
            "setup_seconds": self.setup_seconds,
            "seconds": self.seconds,
            "nodes": nodes,
        }


Report = Callable[[dict], None]
Keep = Callable[[str, dict[str, ArtifactData], dict[str, int]], None]


def run_party(
    job: PartyJob,
    network: Network | None = None,
    report: Report | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    keep: Keep | None = None,
):
    """Execute `job` as `job.party` over `network`'s links (or, without one, every party here);
    see the module docstring. `cancelled()` is polled at the components' progress points (a
    cancelled node fails and, in a network run, stops the run at every party). `keep(node_id,
    outputs, bytes_sent)` receives, in this process, each succeeded node's outputs with the
    files written here ({port: ArtifactData}, ports with no part here left out) and the bytes
    its parties here sent, before its success is reported: a node whose outputs cannot be
    kept fails here (the other parties, which have confirmed it, stop at their next node
    with this party's reason). Returns a PartyResult; a failed or refused run is a result,
    not an exception (ConfigError only for a job that gives another party's storage to a
    network run)."""
    started = time.monotonic()
    worker = _Worker(job, report or (lambda event: None), cancelled, keep)
    try:
        worker.prepare(network)
        setup = time.monotonic() - started
        if worker.refusal:
            return worker.finish(REFUSED, worker.refusal, setup, started)
        worker.execute()
        return worker.finish(None, "", setup, started)
    finally:
        worker.close()


def own_min_group(job: PartyJob) -> int:
    """k for this party's part of the run: the job's, never below this node's own setting
    (the job comes from the node that started the run; what this node's data gives the
    others is aggregated over groups of at least the k its own operator chose)."""
    return max(job.min_group_rows, min_group_size())


def snapshot_fingerprint(snapshot: dict) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode("utf-8")).hexdigest()


class _Worker:
    def __init__(
        self, job: PartyJob, report: Report, cancelled: Callable[[], bool], keep: Keep | None
    ):
        self.job, self.report, self.cancelled = job, report, cancelled
        self.keep = keep
        self.me = job.party or EMBEDDED_PARTY
        self.placement: Placement = EMBEDDED
        self.deployment = None
        self.outcomes: dict[str, NodeOutcome] = {}
        self.outputs: dict[str, dict[str, ArtifactData]] = {}
        self.refusal = ""
        self.stopped = ""

    # ----- start ------------------------------------------------------------------------
    def prepare(self, network: Network | None) -> None:
        job = self.job
        try:
            self.graph = parse_graph(job.snapshot)
        except GraphFormatError as error:
            self.graph, self.checked = None, None
            self.refusal = translatable(
                "the pipeline is not valid: %(error)s", error=said_by(error)
            )
            return
        self.checked = validate(self.graph, registry(), tuple(job.parties), job.sources)
        timeline.mark(job.run_id, "part.validated")
        if not self.checked.ok:
            problem = self.checked.problems[0]
            self.refusal = translatable(
                "the pipeline is not valid: %(node)s: %(problem)s",
                node=problem.node,
                problem=problem.what,
            )
            return
        if network is None:
            return
        if job.party is None or set(job.storage) != {job.party}:
            raise ConfigError(
                f"a network run writes only this party's storage: give storage for "
                f"{job.party!r} alone, not {sorted(job.storage)}"
            )
        self.refusal = self._connect(network)
        timeline.mark(job.run_id, "links.up", refused=bool(self.refusal))
        self.refusal = self.refusal or self._same_run()
        timeline.mark(job.run_id, "run.agreed", refused=bool(self.refusal))

    def _connect(self, network: Network) -> Storable:
        try:
            self.deployment = network.connect()
        except LinkError as error:
            # The cluster's other nodes: the parties, and a dealer node serving triples.
            others = [p for p in network.cluster_config["parties"] if p != self.me]
            named = [p for p in others if repr(p) in str(error)] or others
            return translatable(
                "cannot reach %(parties)s: the run refuses to start (%(error)s)",
                parties=named,
                error=link_error_message(error),
            )
        self.placement = AtParty(self.me, self.deployment)
        return ""

    def _same_run(self) -> Storable:
        mine = {"run": str(self.job.run_id), "graph": snapshot_fingerprint(self.job.snapshot)}
        try:
            theirs = self.placement.exchange(mine)
        except LinkError as error:
            return translatable(
                "the parties could not agree to start: %(error)s", error=link_error_message(error)
            )
        different = sorted(p for p, seen in theirs.items() if seen != mine)
        if different:
            return translatable(
                "%(parties)s run another run or pipeline version: refused", parties=different
            )
        return ""

    # ----- nodes ------------------------------------------------------------------------
    def execute(self) -> None:
        for node_id in self.checked.order:
            parents = sorted(self.graph.parents(node_id))
            blocked = [p for p in parents if self.outcomes[p].status != SUCCEEDED]
            if self.stopped:
                self._close_node(node_id, NodeOutcome(SKIPPED, self.stopped, self.stopped))
            elif blocked:
                message = stored(
                    translatable("needs %(nodes)s, which did not finish", nodes=blocked)
                )
                self._close_node(node_id, NodeOutcome(SKIPPED, message, message))
            else:
                self._close_node(node_id, self._run_node(node_id))

    def _context(self, node_id: str) -> RunContext:
        job, relative = self.job, Path("runs") / str(self.job.run_id) / node_id
        inputs = {
            edge.target_port: self.outputs[edge.source][edge.source_port]
            for edge in self.graph.inputs_of(node_id)
        }
        emit = self._emitter(node_id)
        return RunContext(
            params=self.checked.params[node_id],
            parties=tuple(job.parties),
            inputs=inputs,
            infos=self.checked.infos[node_id],
            output_dir=lambda party: job.storage[party] / relative,
            on_progress=lambda percent: emit("node.progress", percent=percent),
            on_log=lambda line: emit("node.log", line=stored(line)),
            on_warn=lambda message, party: emit("node.warning", **self._warning(message, party)),
            cancelled=self.cancelled,
            sources=job.sources,
            requested_by=job.requested_by,
            min_group_rows=own_min_group(job),
            placement=self.placement,
            node_id=node_id,
        )

    def _run_node(self, node_id: str) -> NodeOutcome:
        context = self._context(node_id)
        timeline.mark(self.job.run_id, "node.start", node=node_id)
        self._emitter(node_id)("node.status", status=RUNNING)
        started, sent = time.monotonic(), self._sent()
        try:
            self.checked.components[node_id].run(context)
            self._check_written(context)
            confirming = time.monotonic()
            timeline.mark(self.job.run_id, "node.ran", node=node_id)
            self._confirm(node_id)
            timeline.mark(self.job.run_id, "node.confirmed", node=node_id)
        except Exception as error:  # noqa: BLE001 - any failure fails only this node
            outcome = self._failed(node_id, error)
            self._remove_outputs(context, node_id)
            outcome.seconds = time.monotonic() - started
            outcome.bytes_sent = self._traffic(context, sent)
            return outcome
        outputs = {port: dict(files) for port, files in context.written.items()}
        # Every port, with the files of the parties here (none for a part held elsewhere).
        self.outputs[node_id] = {
            port: ArtifactData(info, dict(outputs.get(port, {})))
            for port, info in context.infos.items()
        }
        return NodeOutcome(
            SUCCEEDED,
            outputs={port: {p: str(path) for p, path in f.items()} for port, f in outputs.items()},
            bytes_sent=self._traffic(context, sent),
            seconds=time.monotonic() - started,
            confirm_seconds=time.monotonic() - confirming,
        )

    def _check_written(self, context: RunContext) -> None:
        for port, info in context.infos.items():
            missing = set(context.here(info.parties)) - set(context.written.get(port, {}))
            if missing:
                raise RuntimeError(f"output '{port}' was not written at {', '.join(missing)}")

    def _confirm(self, node_id: str) -> None:
        """Every party says it finished `node_id` (a party that failed has aborted the links,
        so this raises instead)."""
        if not self.placement.networked:
            return
        seen = self.placement.exchange(node_id)
        strays = sorted(p for p, finished in seen.items() if finished != node_id)
        if strays:
            raise WorkflowLinkError(
                f"{', '.join(strays)} reported another node than {node_id}",
                translatable(
                    "%(parties)s reported another node than %(node)s", parties=strays, node=node_id
                ),
            )

    # ----- failures ---------------------------------------------------------------------
    def _failed(self, node_id: str, error: BaseException) -> NodeOutcome:
        described = self._describe(node_id, error)
        full, public = stored(described.full), stored(described.public)
        outcome = NodeOutcome(FAILED, full, public, described.party)
        if self.placement.networked:
            self.stopped = stored(stopped_by(node_id, described.party))
            # The links carry English words (each party's log reads them as they are) and the
            # message, worded at each party in its readers' language (`workflows.link_causes`).
            public_words = render(described.public, "en")
            reason = f"{self.me!r} stopped at node {node_id}: {public_words}"
            said = translatable(
                "%(party)s stopped at node %(node)s: %(reason)s",
                party=self.me,
                node=node_id,
                reason=described.public,
            )
            self.deployment.transport.abort(reason, message=said.stored())
        return outcome

    def _describe(self, node_id: str, error: BaseException) -> redaction.NodeError:
        inner = error.error if isinstance(error, PartyFailure) else error
        if isinstance(inner, RunCancelled):
            message = translatable("cancelled at %(party)s", party=self.me)
            return redaction.NodeError("RunCancelled", self.me, message, message)
        if isinstance(inner, LinkError) and self.placement.networked:
            return self._link_failure(inner)
        if isinstance(inner, RemoteFailure):
            party = error.party if isinstance(error, PartyFailure) else ""
            return redaction.NodeError(inner.error_class, party, inner.public, inner.public)
        if isinstance(error, PartyFailure):
            return redaction.describe(error.error, node_id, error.party)
        if isinstance(error, EngineError) and self.placement.networked:
            # Raised by this party's own engine program (a deployment re-raises those as
            # they are): its text may quote this party's data, e.g. a duplicate key.
            return redaction.describe(error, node_id, self.me)
        return redaction.describe(error, node_id)

    def _link_failure(self, error: LinkError) -> redaction.NodeError:
        """Who made the links fail: a peer whose connection was lost, else the party at the
        root of the error (each party that fails on the links aborts them with the reason it
        got appended, so the last party the text names is where it began; it may be this
        one). Links carry party names and causes, never data: the text goes to everyone."""
        lost = lost_peers(self.deployment)
        if lost:
            said = link_error_message(error)
            message = translatable(
                "lost contact with %(party)s: %(error)s", party=lost[0], error=said
            )
            return redaction.NodeError("LinkError", lost[0], message, message)
        text, said = str(error), link_error_message(error)
        named = [p for p in self.job.parties if repr(p) in text]
        if not named:
            message = translatable("the links failed: %(error)s", error=said)
            return redaction.NodeError("LinkError", "", message, message)
        origin = max(named, key=lambda p: text.rfind(repr(p)))
        message = translatable("%(party)s failed: %(error)s", party=origin, error=said)
        return redaction.NodeError("LinkError", origin, message, message)

    def _remove_outputs(self, context: RunContext, node_id: str) -> None:
        self._remove_files(node_id, {p for files in context.written.values() for p in files})

    def _remove_files(self, node_id: str, parties: set[str]) -> None:
        relative = Path("runs") / str(self.job.run_id) / node_id
        for party in parties:
            shutil.rmtree(self.job.storage[party] / relative, ignore_errors=True)

    def _kept(self, node_id: str, outcome: NodeOutcome) -> NodeOutcome:
        """Hand the node's parts written here to `keep`; if they cannot be kept, the node
        fails (in a network run, at every party) and its files here are removed."""
        here = {port: data for port, data in self.outputs[node_id].items() if data.files}
        try:
            self.keep(node_id, here, dict(outcome.bytes_sent))
        except Exception as error:  # noqa: BLE001 - the node fails, the run goes on or stops
            failed = self._failed(node_id, error)
            del self.outputs[node_id]
            self._remove_files(node_id, {party for data in here.values() for party in data.files})
            failed.seconds, failed.bytes_sent = outcome.seconds, outcome.bytes_sent
            return failed
        return outcome

    # ----- events and figures -----------------------------------------------------------
    def _emitter(self, node_id: str) -> Callable[..., None]:
        def emit(kind: str, **detail: Any) -> None:
            self.report(
                {"event": kind, "run": str(self.job.run_id), "party": self.me}
                | {"node": node_id}
                | detail
            )

        return emit

    def _warning(self, message: Storable, party: str | None) -> dict:
        """A warning's event fields: `message` as this process's party may read it (a
        warning about another party's data only as its public text: `workflows.redaction`;
        embedded, every party is here), `public` for the others, `about` its party."""
        message = stored(message)
        public = stored(redaction.warning_public(party)) if party else message
        here = redaction.sees_details(self.me, party) or not self.placement.networked
        return {"message": message if here else public, "public": public, "about": party or ""}

    def _close_node(self, node_id: str, outcome: NodeOutcome) -> None:
        if outcome.status == SUCCEEDED and self.keep is not None:
            outcome = self._kept(node_id, outcome)
        self.outcomes[node_id] = outcome
        detail = {"status": outcome.status, "message": outcome.message}
        detail |= {"public": outcome.public, "failed_party": outcome.party}
        self._emitter(node_id)("node.status", **detail)
        timeline.mark(self.job.run_id, "node.closed", node=node_id, status=outcome.status)

    def _sent(self) -> int:
        return self.deployment.stats.sent_by(self.me) if self.deployment else 0

    def _traffic(self, context: RunContext, before: int) -> dict[str, int]:
        if self.deployment is not None:
            return {self.me: self._sent() - before}
        return {party: context.comm.sent_by(party) for party in self.job.parties}

    def finish(self, refusal: str | None, message: Storable, setup: float, started: float):
        """Close the run: refused (every node skipped with `message`) or as its nodes ended."""
        message = stored(message)
        if refusal is not None:
            status = refusal
            for node_id in list(self.graph.nodes) if self.graph else []:
                self._close_node(node_id, NodeOutcome(SKIPPED, message, message))
        else:
            status, message = self._summary()
        event = {"event": "run.status", "run": str(self.job.run_id), "party": self.me}
        self.report(event | {"status": status, "message": message})
        elapsed = time.monotonic() - started
        return PartyResult(status, message, self.outcomes, setup, elapsed)

    def _summary(self) -> tuple[str, dict | str]:
        """The run's status and message: the first failed node, by its public text."""
        failed = [(n, o) for n, o in self.outcomes.items() if o.status == FAILED]
        if failed:
            node_id, outcome = failed[0]
            return FAILED, stored(failed_at(node_id, outcome.party, outcome.public))
        if all(o.status == SUCCEEDED for o in self.outcomes.values()):
            return SUCCEEDED, ""
        return FAILED, stored(translatable("some nodes could not run"))

    def close(self) -> None:
        if self.deployment is not None:
            self.deployment.close()


def stopped_by(node_id: str, party: str):
    """Why a network run skipped its remaining nodes: a node failed (at a party)."""
    if party:
        return translatable(
            "the run stopped: node %(node)s failed at %(party)s", node=node_id, party=party
        )
    return translatable("the run stopped: node %(node)s failed", node=node_id)


def failed_at(node_id: str, party: str, reason: dict | str):
    """A run's message naming its first failed node (at a party) and the public reason."""
    if party:
        return translatable(
            "failed at %(node)s at %(party)s: %(reason)s", node=node_id, party=party, reason=reason
        )
    return translatable("failed at %(node)s: %(reason)s", node=node_id, reason=reason)
