"""Execute a run: nodes in topological order, each component's `run` with a RunContext.

- The run re-validates its snapshot against the project as it is now (parties, authorised
  datasets, nodes' availability): revoking a dataset stops later runs that read it. Its
  disclosure plan must still be the one it was started with, and every source party's consent
  to that plan must hold (`workflows.disclosure.consent`), or nothing runs.
- Each part of an output that a party receives is recorded with its artifact row and in the
  run's privacy ledger, with the plan's entries for it (`workflows.outputs`, which a node's
  part of a network run records its own parts with too).
- Nodes outside the run's scope that an in-scope node needs provide their latest output for
  the same fingerprint (component, version, parameters and inputs' fingerprints); with `reuse`,
  in-scope nodes whose fingerprint is unchanged reuse that output instead of running again.
- A failure marks its node failed with the error and the party it happened at, writes that
  reason as an error line of the node's log (so it streams to the log drawer), skips every
  node that depends on it, and keeps every finished output (other branches go on). The run's
  message names the first failed node by its component's label and id, with its reason:
  "failed at SS-LR training (train): <reason>".
- A component's warnings (`RunContext.warn`) are recorded on its node with the party whose data
  they are about, and logged (in full for that party only: `workflows.redaction`).
- Cancellation stops running work at its next progress point; nodes not started are cancelled.
- Revocation (`workflows.revocation`: consent behind the run withdrawn) stops it the same way,
  and the run ends "revoked": the running node's outputs are discarded, nodes not started are
  revoked, and any output recorded at or after the revocation is withdrawn.
- A failure at a party records its full text for that party and a redacted one for the others
  (`workflows.redaction`).
- Messages are stored as msgid and params (`workflows.messages`) and read in each reader's
  language; words only an exception holds are kept as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import translation

from core.errors import PartyFailure
from workflows import redaction, retention, state
from workflows.components import registry
from workflows.components.context import ArtifactData, RunCancelled, RunContext
from workflows.components.schema import ArtifactInfo
from workflows.disclosure import consent
from workflows.graph import Graph, parse_graph
from workflows.messages import stored, translatable
from workflows.models import Artifact, NodeRun, Run, Status
from workflows.outputs import record_outputs, storage_root
from workflows.placement import EMBEDDED
from workflows.ports import console_port
from workflows.recovery import executor_id
from workflows.validation import Validation, validate

logger = logging.getLogger(__name__)


def node_dir(run_id: int, node_id: str) -> Path:
    """Where a node's outputs live, relative to each owning party's storage root."""
    return Path("runs") / str(run_id) / node_id


def fingerprints(graph: Graph, checked: Validation, sources: dict) -> dict[str, str]:
    prints: dict[str, str] = {}
    for node_id in checked.order:
        node, component = graph.nodes[node_id], checked.components.get(node_id)
        params = checked.params.get(node_id, node.params)
        datasets = [
            sources[params[p.name]].fingerprint
            for p in (component.params if component else ())
            if p.kind == "dataset" and params.get(p.name) in sources
        ]
        inputs = sorted(
            (e.target_port, e.source_port, prints.get(e.source, ""))
            for e in graph.inputs_of(node_id)
        )
        document = [
            node.component,
            component.version if component else None,
            params,
            inputs,
            datasets,
        ]
        encoded = json.dumps(document, sort_keys=True, default=str).encode("utf-8")
        prints[node_id] = hashlib.sha256(encoded).hexdigest()
    return prints


def artifacts_data(node_run: NodeRun) -> dict[str, ArtifactData] | None:
    """The outputs of a finished node run, or None if a file has gone."""
    outputs: dict[str, ArtifactData] = {}
    for artifact in node_run.artifacts.all():
        if not artifact.path.exists():
            return None
        data = outputs.setdefault(
            artifact.port, ArtifactData(ArtifactInfo.from_dict(artifact.info), {})
        )
        data.files[artifact.party] = artifact.path
    return outputs or None


def previous_output(run: Run, node_id: str, fingerprint: str):
    candidates = (
        NodeRun.objects.filter(
            run__pipeline_id=run.pipeline_id,
            node_id=node_id,
            fingerprint=fingerprint,
            status=Status.SUCCEEDED,
        )
        .exclude(run_id=run.pk)
        .select_related("reused_from")
        .order_by("-finished_at", "-id")
    )
    for candidate in candidates[:5]:
        origin = candidate.reused_from or candidate
        outputs = artifacts_data(origin)
        if outputs is not None:
            return origin, outputs
    return None, None


def execute_run(run_id: int) -> str:
    """Execute a pending run; a run already claimed, finished or cancelled is left alone."""
    run = state.claim_run(run_id, executor_id())
    if run is None:
        return Run.objects.get(pk=run_id).status
    token = state.CancelToken(run.pk)
    execution = RunExecution(run, token)
    try:
        # Messages are stored to be read in each reader's language; what a component still
        # words as it goes (an engine's reason) is in the starter's.
        with translation.override(getattr(run.created_by, "language", "") or None):
            execution.execute()
    except Exception as error:
        logger.exception("Run %s broke", run.pk)
        broke = translatable("internal error: %(error)s", error=str(error))
        execution.close_all(Status.FAILED, broke)
        if not run.is_finished:  # it may break after recording how it ended
            state.set_run_status(run, Status.FAILED, broke)
    finally:
        token.close()
    retention.apply_after_run(run)
    return run.status


class RunExecution:
    def __init__(self, run: Run, cancelled: state.CancelToken):
        self.run, self.cancelled = run, cancelled
        self.nodes = {node.node_id: node for node in run.nodes.all()}
        self.outputs: dict[str, dict[str, ArtifactData]] = {}

    def execute(self) -> None:
        port = console_port()
        self.project = port.project(self.run.pipeline.project_id)
        self.sources = port.sources(self.project.id)
        self.graph = parse_graph(self.run.snapshot)
        parties, unavailable = tuple(self.project.parties), self.project.unavailable
        self.checked = validate(self.graph, registry(), parties, self.sources, unavailable)
        if not self.checked.ok:
            problem = self.checked.problems[0]
            self.close_all(Status.SKIPPED, translatable("the pipeline is not valid any more"))
            message = translatable(
                "the pipeline is not valid any more: %(node)s: %(problem)s",
                node=problem.node,
                problem=problem.what,
            )
            state.set_run_status(self.run, Status.FAILED, message)
            return
        refusal = self._consent_problem()
        if refusal:
            self.close_all(Status.SKIPPED, refusal)
            state.set_run_status(self.run, Status.FAILED, refusal)
            return
        self.prints = fingerprints(self.graph, self.checked, self.sources)
        needed = self._needed()
        for node_id in self.checked.order:
            self._step(self.nodes[node_id], needed)
        self._finish()

    def _consent_problem(self):
        """Why the run may not execute its plan (a message; empty when it may)."""
        plan, started_with = self.checked.plan, self.run.disclosure_fingerprint
        if started_with and plan.fingerprint != started_with:
            return translatable(
                "the disclosure plan changed since the run was started: start it again"
            )
        missing = consent.missing_consent(self.run.pipeline, plan)
        if missing:
            return translatable(
                "no approval of the disclosure plan by %(parties)s", parties=list(missing)
            )
        return ""

    def _needed(self) -> set[str]:
        """In-scope nodes and the out-of-scope nodes whose outputs they read."""
        scoped = {node_id for node_id, node in self.nodes.items() if node.in_scope}
        return scoped | {p for node_id in scoped for p in self.graph.parents(node_id)}

    def _step(self, node: NodeRun, needed: set[str]) -> None:
        node.fingerprint = self.prints[node.node_id]  # saved with the node's next status
        if node.node_id not in needed:
            state.set_node_status(node, Status.SKIPPED, translatable("outside the run's scope"))
            return
        if self.cancelled():
            self._stopped(node, translatable("the run was cancelled"))
            return
        if not node.in_scope:
            # Out of scope but read by an in-scope node: its latest output for this config.
            origin, outputs = previous_output(self.run, node.node_id, node.fingerprint)
            if origin is None:
                message = translatable(
                    "no output for its current configuration: run this node first"
                )
                state.set_node_status(node, Status.SKIPPED, message)
            else:
                self._reuse(node, origin, outputs)
            return
        blocked = [p for p in sorted(self.graph.parents(node.node_id)) if p not in self.outputs]
        if blocked:
            message = translatable("needs %(nodes)s, which did not finish", nodes=blocked)
            state.set_node_status(node, Status.SKIPPED, message)
            return
        if self.run.reuse:
            origin, outputs = previous_output(self.run, node.node_id, node.fingerprint)
            if origin is not None:
                self._reuse(node, origin, outputs)
                return
        self._run_node(node)

    def _reuse(self, node: NodeRun, origin: NodeRun, outputs: dict) -> None:
        node.reused_from, self.outputs[node.node_id] = origin, outputs
        for warning in origin.warnings:  # they hold for the output, wherever it is used
            state.add_node_warning(node, warning["message"], warning.get("party"))
        message = translatable("reused the output of run %(run)s", run=origin.run_id)
        state.set_node_status(node, Status.SUCCEEDED, message)

    def _inputs(self, node_id: str) -> dict[str, ArtifactData]:
        return {
            edge.target_port: self.outputs[edge.source][edge.source_port]
            for edge in self.graph.inputs_of(node_id)
        }

    def _requesting_party(self) -> str | None:
        node = getattr(self.run.created_by, "node", None)
        return node.name if node is not None else None

    def _run_node(self, node: NodeRun) -> None:
        component = self.checked.components[node.node_id]
        relative = node_dir(self.run.pk, node.node_id)
        context = RunContext(
            params=self.checked.params[node.node_id],
            parties=tuple(self.project.parties),
            inputs=self._inputs(node.node_id),
            infos=self.checked.infos[node.node_id],
            output_dir=lambda party: storage_root(party) / relative,
            on_progress=lambda percent: state.set_node_progress(node, percent),
            on_log=lambda message: state.add_node_log(node, message),
            on_warn=lambda message, party: state.add_node_warning(node, message, party),
            cancelled=self.cancelled,
            sources=self.sources,
            requested_by=self._requesting_party(),
            min_group_rows=settings.PRIVPAD_DISCLOSURE_MIN_ROWS,
            # Every party runs in this process; a network run executes each party's part in
            # that party's own process instead (`workflows.party`).
            placement=EMBEDDED,
            node_id=node.node_id,
        )
        state.set_node_status(node, Status.RUNNING)
        try:
            component.run(context)
            self._check_written(context)
        except RunCancelled:
            self._discard_stopped(context, node)
            return
        except PartyFailure as failure:
            if isinstance(failure.error, RunCancelled):
                # Raised at a progress point inside a party's thread (run_spmd wraps it).
                self._discard_stopped(context, node)
                return
            error = redaction.describe(failure.error, node.node_id, failure.party)
            self._discard(context, node, Status.FAILED, error)
            return
        except Exception as error:  # noqa: BLE001 - any component error fails only its node
            logger.info("Node %s of run %s failed", node.node_id, self.run.pk, exc_info=True)
            self._discard(context, node, Status.FAILED, redaction.describe(error, node.node_id))
            return
        if self.cancelled.revocation() is not None:
            # Consent went while the node ran: what it wrote is not delivered.
            self._discard_stopped(context, node)
            return
        node.comm_bytes = self._comm(context)
        written = context.written.items()
        outputs = {port: ArtifactData(context.infos[port], dict(f)) for port, f in written}
        # Every party runs in this process: each received what the node opened while it ran.
        here = self.project.parties
        record_outputs(self.run, node, outputs, self.project.parties, here)
        self.outputs[node.node_id] = outputs
        state.set_node_status(node, Status.SUCCEEDED)

    def _check_written(self, context: RunContext) -> None:
        for port, info in context.infos.items():
            missing = set(info.parties) - set(context.written.get(port, {}))
            if missing:
                raise RuntimeError(
                    translatable(
                        "output '%(port)s' was not written at %(parties)s",
                        port=port,
                        parties=sorted(missing),
                    )
                )

    def _comm(self, context: RunContext) -> dict[str, int]:
        return {party: context.comm.sent_by(party) for party in self.project.parties}

    def _stopped(self, node: NodeRun, cancelled) -> None:
        """Mark a node stopped by a cancel (`cancelled` says how) or by a revocation."""
        reason = self.cancelled.revocation()
        if reason is not None:
            state.set_node_status(node, Status.REVOKED, stopped_message(reason))
        else:
            state.set_node_status(node, Status.CANCELLED, cancelled)

    def _discard_stopped(self, context: RunContext, node: NodeRun) -> None:
        self._remove_outputs(context, node)
        node.comm_bytes = self._comm(context)
        self._stopped(node, translatable("cancelled by the user"))

    def _remove_outputs(self, context: RunContext, node: NodeRun) -> None:
        for party in {p for files in context.written.values() for p in files}:
            shutil.rmtree(storage_root(party) / node_dir(self.run.pk, node.node_id), True)

    def _discard(self, context, node, status, error: redaction.NodeError) -> None:
        """Remove a node's partial outputs; finished outputs of other nodes stay."""
        self._remove_outputs(context, node)
        node.comm_bytes = self._comm(context)
        state.set_node_status(node, status, error.full, error.party, error.public)
        if status == Status.FAILED:
            state.log_failure(node)

    def close_all(self, status: str, message) -> None:
        for node in self.nodes.values():
            running = node.status == Status.RUNNING
            if node.status in (Status.PENDING, Status.RUNNING):
                state.set_node_status(node, status, message)
            if running and status == Status.FAILED:
                state.log_failure(node)

    def _finish(self) -> None:
        statuses = {node.status for node in self.nodes.values()}
        failed = sorted(n.node_id for n in self.nodes.values() if n.status == Status.FAILED)
        reason = self.cancelled.revocation()
        if reason is not None:
            for node_run_id in withdraw_outputs(self.run):
                # Finished just as consent went: its outputs are withdrawn, so it is revoked.
                node = next(n for n in self.nodes.values() if n.pk == node_run_id)
                message = translatable("outputs withdrawn: %(reason)s", reason=stored(reason))
                state.set_node_status(node, Status.REVOKED, message)
            state.set_run_status(self.run, Status.REVOKED, stopped_message(reason))
        elif Status.CANCELLED in statuses:
            state.set_run_status(self.run, Status.CANCELLED, translatable("cancelled by the user"))
        elif failed:
            state.set_run_status(
                self.run, Status.FAILED, state.failure_summary(self.nodes.values())
            )
        elif any(n.in_scope and n.status != Status.SUCCEEDED for n in self.nodes.values()):
            state.set_run_status(self.run, Status.FAILED, translatable("some nodes could not run"))
        else:
            state.set_run_status(self.run, Status.SUCCEEDED, "")


def stopped_message(reason: str):
    """A revoked run's or node's message: "stopped: <why consent was withdrawn>"."""
    return translatable("stopped: %(reason)s", reason=stored(reason))


def withdraw_outputs(run: Run) -> set[int]:
    """Remove what the run recorded at or after its revocation (rows and files): once consent
    is withdrawn, nothing more is delivered to anyone. Returns the node runs concerned."""
    run.refresh_from_db(fields=["revoked_at", "revoke_reason"])
    late = Artifact.objects.filter(node_run__run=run, created_at__gte=run.revoked_at)
    withdrawn = set()
    for artifact in late:
        artifact.path.unlink(missing_ok=True)
        withdrawn.add(artifact.node_run_id)
        artifact.delete()
    return withdrawn
