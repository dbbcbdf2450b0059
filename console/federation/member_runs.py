"""A member node executes its part of a run: its own worker, its own storage, its own record.

After `RunLaunch` (the initiator's engine addresses), the node's task back-end (Django Tasks,
as local runs) runs `run_member_part`; the initiating node runs its own part the same way
(`start_own_part`). Each part: it claims this node's `Run` row, builds the engine
links (`console.federation.engine`: addresses from the initiator, certificates pinned here; the
run's dealer node, if the project names one, as agreed at `RunStart`: `RunTripleSource`),
and runs `workflows.party.run_party` for this node's party only, so it reads only this node's
datasets and writes only under this node's storage root. The outcome of every node and of the
run is written through `workflows.state`, the only writer of run state, so the run page of
this node shows its part of the run. As it runs, the part is reported to the initiating node
and stopped when the run is cancelled there (`console.federation.part_reports`). At the
initiator, a party whose report says its part ended before it joined the engine links fails
this node's start of the links at once, naming it (`console.federation.run_events.EndedParties`).

Outputs (`KeptHere`): as each node succeeds, the parts of its outputs written at this node
(tables, models, this node's copy of each report) are recorded in this node's database by
`workflows.outputs.record_outputs`, as the embedded executor records every party's: artifact
rows owned by this node and the privacy ledger of what this node received. The run page,
canvas, downloads and run report of this node then show its own results; other parties' parts
never reach this node (their own nodes record them), and a part offered here for another
party, or outside this node's storage, is refused: the node fails rather than record it.
"""

from __future__ import annotations

from dataclasses import replace

from django_tasks import task

from console.federation.dealers import dealer_of_run
from console.federation.engine import engine_network
from console.federation.models import RunReplica
from console.federation.part_reports import PartReport
from console.federation.run_events import EndedParties
from core.errors import ConfigError
from workflows import heap, retention, state, timeline
from workflows.components.context import ArtifactData
from workflows.messages import translatable
from workflows.models import NodeRun, Run, Status
from workflows.outputs import record_outputs, storage_root
from workflows.party import run_party
from workflows.party_jobs import job_from_dict
from workflows.ports import console_port
from workflows.recovery import executor_id

# run_party's statuses -> this node's NodeRun statuses (a refused run executed nothing).
NODE_STATUSES = {
    "succeeded": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "skipped": Status.SKIPPED,
    "cancelled": Status.CANCELLED,
    "revoked": Status.REVOKED,
}
RUN_STATUSES = {  # else failed
    "succeeded": Status.SUCCEEDED,
    "cancelled": Status.CANCELLED,
    "revoked": Status.REVOKED,
}


@task()
def run_member_part_task(replica_id: int) -> str:
    return run_member_part(replica_id)


@task()
def run_own_part_task(run_id: int, job: dict, engines: dict) -> str:
    return execute_part(run_id, job, engines)


def start_worker(replica_id: int):
    """Queue this node's part of a run another node started, on the node's task back-end."""
    return run_member_part_task.enqueue(replica_id)


def start_own_part(run: Run, job: dict, engines: dict):
    """Queue the initiating node's own part of the run it started (`initiate`)."""
    return run_own_part_task.enqueue(run.pk, job, engines)


def run_member_part(replica_id: int) -> str:
    replica = RunReplica.objects.get(pk=replica_id)
    return execute_part(replica.run_id, replica.job, replica.cluster or {})


def execute_part(run_id: int, job_data: dict, engines: dict) -> str:
    """Execute this node's part of run `run_id` (its job's JSON form, every party's engine
    address); returns the run's final status here, or "not pending" (never twice)."""
    timeline.mark(job_data.get("run_id"), "worker.started")
    run = state.claim_run(run_id, executor_id())
    if run is None:
        return "not pending"
    job = job_from_dict(job_data)
    timeline.mark(job.run_id, "worker.claimed")
    # Reports and cancel (`part_reports`); parties that end before joining (`run_events`).
    with PartReport(run, job.party) as report, EndedParties(run.pk, job.party) as ended:
        try:
            network = engine_network(list(job.parties), job.party, engines, dealer_of_run(run))
            network = replace(network, peer_failures=ended.failures)
        except ConfigError as error:
            message = translatable(
                "this node could not join the run's links: %(error)s",
                error=getattr(error, "message", None) or str(error),
            )
            return finish(run, {}, "failed", message)
        kept = KeptHere(run, job.party, report.shown.nodes)
        result = run_party(job, network, report=report, cancelled=report.cancelled, keep=kept)
        outcomes = {node_id: vars(outcome) for node_id, outcome in result.nodes.items()}
        final = finish(run, *report.outcome(outcomes, result.status, result.message))
        timeline.mark(job.run_id, "part.recorded", status=final)
    timeline.mark(job.run_id, "part.reported")
    retention.apply_after_run(run)  # this node's outputs, as after an embedded run
    heap.settle_after_first_run()  # the next runs' full collections walk less (`heap`)
    return final


class ShownHere:
    """`run_party`'s events applied to this node's run as they come (`workflows.state`): the
    run page and the canvas websocket of this node follow its part live. Statuses are applied
    only where the lifecycle allows (`finish` records the outcome in any case)."""

    def __init__(self, run: Run):
        self.nodes = {node.node_id: node for node in run.nodes.all()}

    def __call__(self, event: dict) -> None:
        node = self.nodes.get(event.get("node", ""))
        if node is None:
            return  # `run.status`: recorded by `finish`
        kind = event.get("event")
        if kind == "node.status":
            self._status(node, event)
        elif kind == "node.progress":
            state.set_node_progress(node, int(event.get("percent", 0)))
        elif kind == "node.log":
            # Messages arrive in their stored form (`workflows.messages`): rendered when read.
            state.add_node_log(node, event.get("line", ""))
        elif kind == "node.warning":
            state.add_node_warning(node, event.get("message", ""), event.get("about") or None)

    def _status(self, node, event: dict) -> None:
        status = Status.RUNNING if event.get("status") == "running" else None
        status = status or NODE_STATUSES.get(event.get("status", ""))
        if status is None or status not in state.NODE_TRANSITIONS.get(node.status, ()):
            return
        state.set_node_status(
            node,
            status,
            event.get("message", ""),
            party=event.get("failed_party", ""),  # the event's `party` is who reports it
            public=event.get("public") or None,
        )


class KeptHere:
    """`run_party`'s `keep`: the parts of a succeeded node's outputs written at this node,
    recorded here (`workflows.outputs.record_outputs`) before the node shows as succeeded,
    with the bytes this node sent (saved with that status on the shared `nodes`)."""

    def __init__(self, run: Run, party: str, nodes: dict[str, NodeRun]):
        self.run, self.party, self.nodes = run, party, nodes
        self.root = storage_root(party).resolve()
        self.parties = console_port().project(run.pipeline.project_id).parties

    def __call__(self, node_id: str, outputs: dict[str, ArtifactData], sent: dict) -> None:
        node = self.nodes[node_id]
        # `here`: this party took part in the node, file or not, so what the node's protocol
        # opened to it while running (e.g. the others' input bounds) is in its ledger too.
        record_outputs(
            self.run,
            node,
            {p: self._own(p, d) for p, d in outputs.items()},
            self.parties,
            here=(self.party,),
        )
        node.comm_bytes = {self.party: int(sent.get(self.party, 0))}

    def _own(self, port: str, data: ArtifactData) -> ArtifactData:
        """`data` with this node's part only, checked: declared at this party, in its storage."""
        strangers = sorted(set(data.files) - {self.party})
        if strangers:
            raise ValueError(
                f"output '{port}' offers parts of {', '.join(strangers)} to record here"
            )
        path = data.files[self.party]
        if self.party not in data.info.parties:
            raise ValueError(f"output '{port}' has no part at {self.party}")
        if not path.resolve().is_relative_to(self.root):
            raise ValueError(f"output '{port}' was written outside {self.party}'s storage")
        return ArtifactData(data.info, {self.party: path})


def finish(run: Run, outcomes: dict[str, dict], status: str, message) -> str:
    """Record each node's outcome (a node without one did not execute: skipped) and the run's."""
    for node in run.nodes.order_by("position"):
        outcome = outcomes.get(node.node_id, {})
        node_status = NODE_STATUSES.get(outcome.get("status", ""), Status.SKIPPED)
        if node.status != node_status:
            state.set_node_status(
                node,
                node_status,
                outcome.get("message", ""),
                party=outcome.get("party", ""),
                public=outcome.get("public") or None,
            )
    final = RUN_STATUSES.get(status, Status.FAILED)
    state.set_run_status(run, final, message)
    return final
