"""Writing run state: the only code that changes Run and NodeRun rows during a run.

Every change is saved and published on the run's channel group (see `workflows.events`), so
pages, the API and websocket clients see the same thing. Also: run/node state as plain dicts
(shared by the API and the websocket snapshot) and the cancel token.
"""

from __future__ import annotations

import threading
import time

from django.db.models import Sum
from django.utils import timezone

from workflows import events
from workflows.models import FINISHED, Artifact, NodeRun, Run, Status

MAX_LOG_LINES = 1000
CANCEL_POLL_SECONDS = 1.0
PROGRESS_SAVE_SECONDS = 0.5
PROGRESS_PUBLISH_SECONDS = 0.1
_cancel_events: dict[int, threading.Event] = {}
_cancel_lock = threading.Lock()


def node_state(node: NodeRun, output_bytes: dict[str, int] | None = None) -> dict:
    """A node run as plain data; `output_bytes`: its outputs' size on disk per party."""
    return {
        "node": node.node_id,
        "component": node.component,
        "version": node.version,
        "in_scope": node.in_scope,
        "status": node.status,
        "progress": node.progress,
        "message": node.message,
        "party": node.party,
        "comm_bytes": node.comm_bytes,
        "output_bytes": output_bytes or {},
        "reused_from_run": node.reused_from.run_id if node.reused_from_id else None,
        "started_at": node.started_at.isoformat() if node.started_at else None,
        "finished_at": node.finished_at.isoformat() if node.finished_at else None,
        "logs": node.logs,
    }


def run_summary(run: Run) -> dict:
    """A run without its nodes (run lists): who started it, the bytes its parties sent and
    the bytes its outputs take on disk (all parties; removed outputs no longer count).

    Both count only nodes computed in this run; a reused node's traffic and files belong to
    the run that produced them. Expects `created_by` selected and `nodes__artifacts`
    prefetched by callers that list many runs (queries per run otherwise).
    """
    sent = sum(
        int(count)
        for node in run.nodes.all()
        if node.reused_from_id is None
        for count in node.comm_bytes.values()
    )
    stored = sum(
        artifact.size_bytes
        for node in run.nodes.all()
        if node.reused_from_id is None
        for artifact in node.artifacts.all()
    )
    return _run_fields(run) | {
        "nodes": None,
        "comm_bytes": sent,
        "output_bytes": stored,
        "started_by": run.created_by.get_username() if run.created_by else "",
    }


def run_state(run: Run) -> dict:
    nodes = list(run.nodes.select_related("reused_from").order_by("position"))
    sizes = output_bytes(nodes)
    return _run_fields(run) | {
        "nodes": [node_state(node, sizes.get(_origin_id(node))) for node in nodes],
        "output_bytes": sum(
            count
            for node in nodes
            if node.reused_from_id is None
            for count in sizes.get(node.pk, {}).values()
        ),
    }


def _origin_id(node: NodeRun) -> int:
    """The node run whose files a node's outputs are (itself, or the one it reused)."""
    return node.reused_from_id or node.pk


def output_bytes(nodes: list[NodeRun]) -> dict[int, dict[str, int]]:
    """Bytes on disk of each node run's outputs, per owning party, in one query (outputs
    removed by the retention policy no longer count)."""
    rows = (
        Artifact.objects.filter(node_run_id__in={_origin_id(node) for node in nodes})
        .values("node_run_id", "party")
        .annotate(total=Sum("size_bytes"))
    )
    sizes: dict[int, dict[str, int]] = {}
    for row in rows:
        sizes.setdefault(row["node_run_id"], {})[row["party"]] = int(row["total"] or 0)
    return sizes


def _run_fields(run: Run) -> dict:
    return {
        "id": run.pk,
        "pipeline": run.pipeline_id,
        "status": run.status,
        "scope": run.scope,
        "scope_node": run.scope_node or None,
        "reuse": run.reuse,
        "message": run.message,
        "cancel_requested": run.cancel_requested,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def set_run_status(run: Run, status: str, message: str = "") -> None:
    run.status, run.message = status, message or run.message
    fields = ["status", "message"]
    if status in FINISHED:
        run.finished_at = timezone.now()
        fields.append("finished_at")
    run.save(update_fields=fields)
    events.publish(run.pk, "run.status", status=run.status, message=run.message)


def set_node_status(node: NodeRun, status: str, message: str = "", party: str = "") -> None:
    node.status, node.message, node.party = status, message, party
    fields = ["status", "message", "party", "progress", "fingerprint"]
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
        message=node.message,
        party=node.party,
        progress=node.progress,
    )


def set_node_progress(node: NodeRun, percent: int) -> None:
    """Publish a change at most every PROGRESS_PUBLISH_SECONDS and write it to the database at
    most every PROGRESS_SAVE_SECONDS (a status change carries and saves the latest value).

    Fine-grained engine progress stays cheap, and a burst of it cannot fill a listener's
    channel (channel layers drop what does not fit) and crowd out the status events after it.
    """
    if percent == node.progress:
        return
    node.progress = percent
    now = time.monotonic()
    if now - getattr(node, "_progress_saved_at", 0.0) >= PROGRESS_SAVE_SECONDS:
        node._progress_saved_at = now
        node.save(update_fields=["progress"])
    if now - getattr(node, "_progress_published_at", 0.0) >= PROGRESS_PUBLISH_SECONDS:
        node._progress_published_at = now
        events.publish(node.run_id, "node.progress", node=node.node_id, progress=percent)


def add_node_log(node: NodeRun, message: str) -> None:
    line = {"time": timezone.now().isoformat(), "message": str(message)}
    node.logs = (node.logs + [line])[-MAX_LOG_LINES:]
    node.save(update_fields=["logs"])
    events.publish(node.run_id, "node.log", node=node.node_id, line=line)


class CancelToken:
    """True once the run is cancelled: by this process (an event) or another (the DB flag).

    The event answers at once; the database is asked at most once a second, for cancels
    requested through another process (separate workers).
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        with _cancel_lock:
            self.event = _cancel_events.setdefault(run_id, threading.Event())
        self._checked = time.monotonic()

    def __call__(self) -> bool:
        if self.event.is_set():
            return True
        if time.monotonic() - self._checked >= CANCEL_POLL_SECONDS:
            self._checked = time.monotonic()
            if Run.objects.filter(pk=self.run_id, cancel_requested=True).exists():
                self.event.set()
        return self.event.is_set()

    def close(self) -> None:
        with _cancel_lock:
            _cancel_events.pop(self.run_id, None)


def signal_cancel(run_id: int) -> None:
    """Wake a run executing in this process at its next progress point."""
    with _cancel_lock:
        event = _cancel_events.get(run_id)
    if event is not None:
        event.set()
