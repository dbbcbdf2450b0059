"""Writing a run's and a node's status: the only code that changes it on Run and NodeRun rows.

Every status change goes through `set_run_status`, `set_node_status`, `claim_run`,
`stop_pending_run` or `mark_interrupted`, and must be one the lifecycle allows
(`lifecycle.RUN_TRANSITIONS`, `lifecycle.NODE_TRANSITIONS`); any other raises
`IllegalTransition` naming it. Each change is saved and published on the run's channel group
(`workflows.events`), except `mark_interrupted`'s at restart, when nobody listens yet.

Messages are stored as `workflows.messages` keeps them; a node's has a full text and a public
one (`workflows.redaction`), and events carry only the public one.
"""

from __future__ import annotations

from django.utils import timezone

from workflows import events
from workflows.messages import Storable, stored_text
from workflows.models import FINISHED, NodePart, NodeRun, Run, Status
from workflows.state.lifecycle import NODE_TRANSITIONS, RUN_TRANSITIONS, check_transition
from workflows.state.parts import close_parts


def set_run_status(run: Run, status: str, message: Storable = "") -> None:
    """Save and publish a run's new status (`message`: why; empty keeps the current one)."""
    check_transition(RUN_TRANSITIONS, "run", run.pk, run.status, status)
    _write_run_status(run, status, message)


def _write_run_status(run: Run, status: str, message: Storable) -> None:
    run.status, run.message = status, stored_text(message) or run.message
    fields = ["status", "message"]
    if status in FINISHED:
        run.finished_at = timezone.now()
        fields.append("finished_at")
    run.save(update_fields=fields)
    events.publish(run.pk, "run.status", status=run.status, message=run.message)


def set_node_status(
    node: NodeRun,
    status: str,
    message: Storable = "",
    party: str = "",
    public: Storable | None = None,
) -> None:
    """Save and publish a node's status. `message` is the full text; `public` what other
    parties than `party` see (default: the same). Events carry only the public text: the
    websocket consumer gives `party`'s own users the full one."""
    what = f"node {node.node_id!r} of run"
    check_transition(NODE_TRANSITIONS, what, node.run_id, node.status, status)
    node.status, node.message, node.party = status, stored_text(message), party
    node.public_message = node.message if public is None else stored_text(public)
    fields = ["status", "message", "public_message", "party", "progress", "fingerprint"]
    if status == Status.RUNNING:
        node.started_at = timezone.now()
        fields.append("started_at")
    if status in FINISHED:
        node.finished_at = timezone.now()
        fields += ["finished_at", "comm_bytes", "reused_from"]
        if status == Status.SUCCEEDED:
            node.progress = 100
    node.save(update_fields=fields)
    events.publish(
        node.run_id,
        "node.status",
        node=node.node_id,
        status=node.status,
        message=node.public_message,
        party=node.party,
        progress=node.progress,
    )


def claim_run(run_id: int, executor: str) -> Run | None:
    """Start a pending run for `executor` ("host:pid"); None if it is not pending any more
    (claimed by another worker, cancelled, revoked): one compare-and-set, so two workers
    never both run it."""
    claimed = Run.objects.filter(pk=run_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=timezone.now(), executor=executor
    )
    if not claimed:
        return None
    run = Run.objects.select_related("pipeline").get(pk=run_id)
    events.publish(run.pk, "run.status", status=run.status, message=run.message)
    return run


def stop_pending_run(run_id: int, status: str, message: Storable, node_message: Storable) -> bool:
    """End a run nobody has claimed yet with `status` (cancelled or revoked), its nodes with
    `node_message`; False (nothing changed) if it was claimed or finished meanwhile."""
    check_transition(RUN_TRANSITIONS, "run", run_id, Status.PENDING, status)
    if not Run.objects.filter(pk=run_id, status=Status.PENDING).update(status=status):
        return False
    run = Run.objects.get(pk=run_id)
    for node in run.nodes.filter(status=Status.PENDING):
        set_node_status(node, status, node_message)
    _write_run_status(run, status, message)
    close_parts(run)
    return True


def mark_interrupted(run_ids: list[int], message: Storable) -> None:
    """Mark runs whose executor died, and their unfinished nodes, interrupted (restart
    recovery: nobody listens to these runs' groups yet, so nothing is published)."""
    now, unfinished = timezone.now(), [Status.PENDING, Status.RUNNING]
    message = stored_text(message)
    NodeRun.objects.filter(run_id__in=run_ids, status__in=unfinished).update(
        status=Status.INTERRUPTED, message=message, public_message=message, finished_at=now
    )
    Run.objects.filter(pk__in=run_ids, status__in=unfinished).update(
        status=Status.INTERRUPTED, message=message, finished_at=now
    )
    NodePart.objects.filter(node_run__run_id__in=run_ids, status__in=unfinished).update(
        status=Status.INTERRUPTED, message=message, closed_without_report=True
    )
