"""A member node executes its part of a run: its own worker, its own storage, its own record.

After `RunLaunch` (the initiator's engine addresses), the node's task back-end (Django Tasks,
as local runs) runs `run_member_part`; the initiating node runs its own part the same way
(`start_own_part`). Each part: it claims this node's `Run` row, builds the engine
links (`console.federation.engine`: addresses from the initiator, certificates pinned here),
and runs `workflows.party.run_party` for this node's party only, so it reads only this node's
datasets and writes only under this node's storage root. The outcome of every node and of the
run is written through `workflows.state`, the only writer of run state, so the run page of
this node shows its part of the run.
"""

from __future__ import annotations

from django_tasks import task

from console.federation.engine import engine_network
from console.federation.models import RunReplica
from core.errors import ConfigError
from workflows import state
from workflows.messages import translatable
from workflows.models import Run, Status
from workflows.party import run_party
from workflows.party_jobs import job_from_dict
from workflows.recovery import executor_id

# run_party's statuses -> this node's NodeRun statuses (a refused run executed nothing).
NODE_STATUSES = {"succeeded": Status.SUCCEEDED, "failed": Status.FAILED, "skipped": Status.SKIPPED}


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
    run = state.claim_run(run_id, executor_id())
    if run is None:
        return "not pending"
    job = job_from_dict(job_data)
    try:
        network = engine_network(list(job.parties), job.party, engines)
    except ConfigError as error:
        reason = translatable(
            "this node could not join the run's links: %(error)s", error=str(error)
        )
        return finish(run, {}, "failed", reason)
    result = run_party(job, network, report=ShownHere(run))
    outcomes = {node_id: vars(outcome) for node_id, outcome in result.nodes.items()}
    return finish(run, outcomes, result.status, result.message)


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
            party=event.get("party", ""),
            public=event.get("public") or None,
        )


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
    final = Status.SUCCEEDED if status == "succeeded" else Status.FAILED
    state.set_run_status(run, final, message)
    return final
