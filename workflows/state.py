"""Writing run state: the only code that changes the status of Run and NodeRun rows.

Every status change goes through `set_run_status`, `set_node_status`, `claim_run`,
`stop_pending_run` or `mark_interrupted`, and must be one the lifecycle allows
(`RUN_TRANSITIONS`, `NODE_TRANSITIONS`); any other raises `IllegalTransition` naming it. A run
goes pending -> running -> one finished status (or from pending straight to cancelled,
revoked or interrupted); a node likewise, and a succeeded node may still be revoked (its
outputs withdrawn when consent went as it finished). Finished is final. A test
(`tests/workflows/test_state_writer.py`) checks that no other module writes these fields.

Every change is saved and published on the run's channel group (see `workflows.events`), so
pages, the API and websocket clients see the same thing. Also: run/node state as plain dicts
(shared by the API and the websocket snapshot), the cancel token, and the parties' parts of a
run across nodes (`NodePart`: each party's own status, progress and public lines, which follow
the same lifecycle as a node).

Messages (a run's and a node's, log lines, warnings, a part's message and lines) are stored as
`workflows.messages` keeps them (msgid and params, or plain text) and events carry that stored
form; the dicts built here for readers render them in the active language, the reader's
(`workflows.messages.render`).
"""

from __future__ import annotations

import threading
import time

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.functional import Promise

from workflows import events
from workflows.components import registry
from workflows.messages import (
    Storable,
    render,
    stored,
    stored_text,
    translatable,
    translatable_plural,
)
from workflows.models import FINISHED, Artifact, NodePart, NodeRun, Run, Status
from workflows.redaction import message_for, sees_details, stored_for, warning_for

S = Status
# status -> the statuses it may change to (finished statuses are final: absent here).
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.RUNNING, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
}
NODE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset(
        {S.RUNNING, S.SUCCEEDED, S.FAILED, S.SKIPPED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}
    ),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REVOKED, S.INTERRUPTED}),
    # Outputs recorded as consent was withdrawn are taken back (`executor.withdraw_outputs`).
    S.SUCCEEDED: frozenset({S.REVOKED}),
}

MAX_LOG_LINES = 1000
MAX_WARNINGS = 50
LOG_LEVELS = ("info", "warning", "error")
CANCEL_POLL_SECONDS = 1.0
PROGRESS_SAVE_SECONDS = 0.5
PROGRESS_PUBLISH_SECONDS = 0.1
_cancel_events: dict[int, threading.Event] = {}
_cancel_lock = threading.Lock()


def component_label(node: NodeRun) -> str:
    """The component's name for people ("SS-LR training"), or its key if it is unknown."""
    return str(component_name(node))


def component_name(node: NodeRun) -> Promise | str:
    """The component's label as declared (a lazy text, rendered in each reader's language
    when a stored message names it), or its key if it is unknown."""
    component = registry().get(node.component, node.version)
    return component.label if component and component.label else node.component


def node_state(
    node: NodeRun, viewer: str | None = None, output_bytes: dict[str, int] | None = None
) -> dict:
    """A node as users of party `viewer` may see it (a failure's text only at its party);
    `output_bytes`: the size on disk of its outputs held by `viewer` (`output_bytes()`)."""
    return {
        "node": node.node_id,
        "component": node.component,
        "version": node.version,
        "label": component_label(node),
        "in_scope": node.in_scope,
        "status": node.status,
        "progress": node.progress,
        "message": message_for(node, viewer),
        "party": node.party,
        "comm_bytes": node.comm_bytes,
        "output_bytes": output_bytes or {},
        "reused_from_run": node.reused_from.run_id if node.reused_from_id else None,
        "started_at": node.started_at.isoformat() if node.started_at else None,
        "finished_at": node.finished_at.isoformat() if node.finished_at else None,
        "logs": logs_for(node, viewer) + parts_logs(node),
        "warnings": warnings_for(node, viewer) + parts_warnings(node, viewer),
        "parts": [part_state(part) for part in node.parts.all()],
    }


def run_summary(run: Run, viewer: str | None = None) -> dict:
    """A run without its nodes (run lists): who started it, the bytes its parties sent and
    the bytes its outputs held by party `viewer` take on disk (removed outputs no longer
    count; None for the public view: see `output_bytes`).

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
        if artifact.party == viewer
    )
    return _run_fields(run) | {
        "nodes": None,
        "comm_bytes": sent,
        "output_bytes": stored if viewer else None,
        # "alice (at node alice)" for this node's part of a run another node started.
        "started_by": run.started_by,
        "started_at_node": run.origin_node,
    }


def run_state(run: Run, viewer: str | None = None) -> dict:
    """The run with its nodes as users of party `viewer` may see them (None: public view)."""
    nodes = list(
        run.nodes.select_related("reused_from").prefetch_related("parts").order_by("position")
    )
    sizes = output_bytes(nodes, viewer)
    stored = sum(
        count
        for node in nodes
        if node.reused_from_id is None
        for count in sizes.get(node.pk, {}).values()
    )
    return _run_fields(run) | {
        "message": run_message(run, viewer),
        "nodes": [node_state(node, viewer, sizes.get(_origin_id(node))) for node in nodes],
        "output_bytes": stored if viewer else None,
    }


def _origin_id(node: NodeRun) -> int:
    """The node run whose files a node's outputs are (itself, or the one it reused)."""
    return node.reused_from_id or node.pk


def output_bytes(nodes: list[NodeRun], viewer: str | None) -> dict[int, dict[str, int]]:
    """Bytes on disk of each node run's outputs held by party `viewer` ({party: bytes}), in
    one query (outputs removed by the retention policy no longer count).

    Only the viewer's own: a file's size says something about its content (alice's full
    evaluation report has one curve point per distinct score, bob's copy aggregates of k
    rows), and each party's files are its own. The public view (None) has none."""
    if not viewer:
        return {}
    rows = (
        Artifact.objects.filter(node_run_id__in={_origin_id(node) for node in nodes}, party=viewer)
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
        "message": render(run.message),
        "cancel_requested": run.cancel_requested,
        "revoked": run.revoked_at is not None,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


class IllegalTransition(RuntimeError):
    """A status change the run lifecycle does not allow: a bug in the code asking for it."""

    def __init__(self, what: str, pk, old: str, new: str):
        super().__init__(f"{what} {pk} cannot go from {str(old)!r} to {str(new)!r}")
        self.old, self.new = old, new


def _check(transitions: dict, what: str, pk, old: str, new: str) -> None:
    if new not in transitions.get(old, ()):
        raise IllegalTransition(what, pk, old, new)


def set_run_status(run: Run, status: str, message: Storable = "") -> None:
    """Save and publish a run's new status (`message`: why; empty keeps the current one)."""
    _check(RUN_TRANSITIONS, "run", run.pk, run.status, status)
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
    _check(NODE_TRANSITIONS, f"node {node.node_id!r} of run", node.run_id, node.status, status)
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
    _check(RUN_TRANSITIONS, "run", run_id, Status.PENDING, status)
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


def add_node_log(node: NodeRun, message: Storable, level: str = "info", **extra) -> None:
    """Append a log line ("info", "warning" or "error") and stream it to the log drawer.

    `extra` fields travel with the line (`party` and `redacted` mark a line whose full text
    only `party`'s users read: a failure's, see `log_failure`, or a warning's, which also
    carries the warning's index in `node.warnings`, see `add_node_warning`)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level {level!r} is not one of {LOG_LEVELS}")
    line = {"time": timezone.now().isoformat(), "message": stored(message), "level": level}
    line |= extra
    node.logs = (node.logs + [line])[-MAX_LOG_LINES:]
    node.save(update_fields=["logs"])
    events.publish(node.run_id, "node.log", node=node.node_id, line=line)


def log_failure(node: NodeRun) -> None:
    """Log a failed node's reason as an error line (it streams to the log drawer).

    The line carries the public text; where that differs from the full one (a party's own
    error, `workflows.redaction`) it is marked `redacted` with its party, and `logs_for` and
    the websocket consumer give that party's users the full reason instead."""
    if node.public_message == node.message:
        add_node_log(node, failed_line(node.party, node.message), "error")
    else:
        public = failed_line(node.party, node.public_message)
        add_node_log(node, public, "error", party=node.party, redacted=True)


def failed_line(party: str, reason: Storable):
    """A failure's log line: "failed at alice: <reason>" ("failed: <reason>" at no party)."""
    if not party:
        return translatable("failed: %(reason)s", reason=stored(reason))
    return translatable("failed at %(party)s: %(reason)s", party=party, reason=stored(reason))


def logs_for(node: NodeRun, viewer: str | None) -> list[dict]:
    """The node's log lines as users of party `viewer` may read them, in the active language."""
    return [line_for(node, line, viewer) for line in node.logs]


def line_for(node: NodeRun, line: dict, viewer: str | None) -> dict:
    """One log line as users of party `viewer` may read it, rendered in the active language:
    a redacted line of `viewer`'s own failure or warning with its full text (stored lines
    carry only the public one)."""
    shown = _own_line(node, line, viewer)
    return shown | {"message": render(shown.get("message"))}


def _own_line(node: NodeRun, line: dict, viewer: str | None) -> dict:
    party = line.get("party")
    if not line.get("redacted") or not party or not sees_details(viewer, party):
        return line
    if "warning" in line:
        index = line["warning"]
        if not isinstance(index, int) or not 0 <= index < len(node.warnings):
            return line
        return line | {"message": node.warnings[index]["message"], "redacted": False}
    if party != node.party:
        return line
    return line | {"message": failed_line(viewer, node.message), "redacted": False}


def warnings_for(node: NodeRun, viewer: str | None) -> list[dict]:
    """The node's warnings as users of party `viewer` may read them (`warning_for`)."""
    return [warning_for(warning, viewer) for warning in node.warnings]


def failure_summary(nodes: list[NodeRun], viewer: str | None = None):
    """'failed at SS-LR training (train): <reason>', and how many other nodes failed, with
    each reason as users of party `viewer` may read it (None: the public text); a message
    to store (`workflows.messages`), rendered for each reader."""
    failed = sorted((n for n in nodes if n.status == Status.FAILED), key=lambda n: n.position)
    first = failed[0]
    reason = stored(stored_for(first, viewer))
    # The party is named unless the reason does (in English: every translation keeps names).
    where = ""
    if first.party and first.party not in render(reason, "en"):
        where = translatable(" (at %(party)s)", party=first.party)
    facts = {
        "component": component_name(first),
        "node": first.node_id,
        "reason": reason,
        "where": where,
    }
    others = sorted(node.node_id for node in failed[1:])
    if not others:
        return translatable("failed at %(component)s (%(node)s): %(reason)s%(where)s", **facts)
    return translatable_plural(
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other node "
        "failed too: %(nodes)s",
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other nodes "
        "failed too: %(nodes)s",
        "count",
        **facts,
        count=len(others),
        nodes=others,
    )


def run_message(run: Run, viewer: str | None) -> str:
    """The run's message for users of `viewer`, in the active language: a failed run's first
    reason in full at the failing party (the stored message is the public one)."""
    if run.status != Status.FAILED or not viewer:
        return render(run.message)
    nodes = list(run.nodes.all())
    if not any(n.status == Status.FAILED and n.party == viewer for n in nodes):
        return render(run.message)
    return render(failure_summary(nodes, viewer))


def add_node_warning(node: NodeRun, message: Storable, party: str | None = None) -> None:
    """Record a warning about `party`'s data (None: no party's) on the node (its results and
    the canvas show it) and log it.

    The stored warning keeps the full text; its event and log line carry the text every party
    may read (`workflows.redaction.warning_for`), and the websocket consumer and `logs_for`
    give `party`'s users the full one. A repeated warning is recorded once; at most
    MAX_WARNINGS are kept (a component that warns per row must not grow the row without
    bound): a party's warning beyond them is logged with its public text only.
    """
    message, party = stored(message), party or ""
    if any((w["message"], w.get("party") or "") == (message, party) for w in node.warnings):
        return
    warning, index = {"time": timezone.now().isoformat(), "message": message, "party": party}, None
    if len(node.warnings) < MAX_WARNINGS:
        index = len(node.warnings)
        node.warnings = [*node.warnings, warning]
        node.save(update_fields=["warnings"])
        shown = warning_for(warning, None, rendered=False) | {"index": index}
        events.publish(node.run_id, "node.warning", node=node.node_id, warning=shown)
    if not party:
        add_node_log(node, message, "warning")
        return
    public = warning_for(warning, None, rendered=False)["message"]
    reference = {} if index is None else {"warning": index}
    add_node_log(node, public, "warning", party=party, redacted=True, **reference)


class CancelToken:
    """True once the run is cancelled or revoked: by this process (an event) or another (the
    DB's `cancel_requested` or `revoked_at`). `revocation()` then says which.

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
            stopped = Q(cancel_requested=True) | Q(revoked_at__isnull=False)
            if Run.objects.filter(stopped, pk=self.run_id).exists():
                self.event.set()
        return self.event.is_set()

    def revocation(self) -> str | None:
        """Why consent was withdrawn if the run was revoked (always asks the database)."""
        row = Run.objects.filter(pk=self.run_id, revoked_at__isnull=False).first()
        if row is None:
            return None
        return row.revoke_reason or stored_text(translatable("consent was withdrawn"))

    def close(self) -> None:
        with _cancel_lock:
            _cancel_events.pop(self.run_id, None)


def signal_cancel(run_id: int) -> None:
    """Wake a run executing in this process at its next progress point."""
    with _cancel_lock:
        event = _cancel_events.get(run_id)
    if event is not None:
        event.set()


def request_cancel(run_id: int) -> None:
    """Ask a run to stop: its executor, in this process or another, stops at its next progress
    point (`CancelToken`)."""
    Run.objects.filter(pk=run_id).update(cancel_requested=True)
    signal_cancel(run_id)


def cancel_requested(run_id: int) -> bool:
    return Run.objects.filter(pk=run_id, cancel_requested=True).exists()


# --- Parties' parts of a run across nodes ----------------------------------------------------


def open_parts(run: Run, parties) -> None:
    """Give every node of a run across nodes a pending part for each of `parties` (at the
    initiating node, before the parties start)."""
    NodePart.objects.bulk_create(
        [NodePart(node_run=node, party=party) for node in run.nodes.all() for party in parties],
        ignore_conflicts=True,
    )


def run_parties(run_id: int) -> list[str]:
    """The parties of a run across nodes (none for a run executed by this node alone)."""
    parts = NodePart.objects.filter(node_run__run_id=run_id).values_list("party", flat=True)
    return sorted(set(parts))


def part_state(part: NodePart, rendered: bool = True) -> dict:
    """A party's part as every party may see it (its message is the public text), its
    message rendered in the active language (`rendered=False`: its stored form, for events)."""
    return {
        "party": part.party,
        "status": part.status,
        "progress": part.progress,
        "message": render(part.message) if rendered else part.message,
    }


def _save_part(part: NodePart, fields: list[str], sequence: int | None) -> None:
    if sequence is None and not fields:
        return
    if sequence is not None:
        part.sequence = sequence
        fields = [*fields, "sequence"]
    part.save(update_fields=[*fields, "updated_at"])


def _publish_part(part: NodePart) -> None:
    node = part.node_run
    events.publish(node.run_id, "node.part", node=node.node_id, **part_state(part, False))


def set_part_status(
    part: NodePart, status: str, message: Storable = "", sequence: int | None = None
) -> bool:
    """Save and publish a party's new status for its part (`message`: its public text). The
    same status again changes nothing (False); a change the node lifecycle does not allow
    raises IllegalTransition (a finished part is final), except for a part closed without its
    party's report (`close_parts`): the party's own finished status, arriving late, replaces
    the one assumed here, and an unfinished one is out of date (ignored)."""
    late = part.closed_without_report and sequence is not None
    if late and status not in FINISHED:
        _save_part(part, [], sequence)  # out of date
        return False
    if status == part.status and not late:
        _save_part(part, [], sequence)
        return False
    if not late:
        what = f"{part.party}'s part of node {part.node_run.node_id!r} of run"
        _check(NODE_TRANSITIONS, what, part.node_run.run_id, part.status, status)
    part.status, part.message, part.closed_without_report = status, stored_text(message), False
    if status == Status.SUCCEEDED:
        part.progress = 100
    _save_part(part, ["status", "message", "progress", "closed_without_report"], sequence)
    _publish_part(part)
    return True


def note_part_report(part: NodePart, sequence: int) -> None:
    """The party's report reached event `sequence`, which changes nothing of this part."""
    _save_part(part, [], sequence)


def set_part_progress(part: NodePart, percent: int, sequence: int | None = None) -> None:
    """A party's progress on its part (0..100), throttled as `set_node_progress`; a finished
    part has no progress any more (IllegalTransition; late progress of a part closed without
    its party's report is out of date: ignored)."""
    if part.closed_without_report:
        _save_part(part, [], sequence)
        return
    if part.status in FINISHED:
        what = f"{part.party}'s part of node {part.node_run.node_id!r} of run"
        raise IllegalTransition(what, part.node_run.run_id, part.status, f"{percent}%")
    if not 0 <= percent <= 100:
        raise ValueError(f"progress {percent} is not a percentage")
    if sequence is not None:
        part.sequence = sequence
    if percent == part.progress and sequence is None:
        return
    part.progress = percent
    now = time.monotonic()
    if sequence is not None or now - getattr(part, "_saved_at", 0.0) >= PROGRESS_SAVE_SECONDS:
        part._saved_at = now
        _save_part(part, ["progress"], sequence)
    if now - getattr(part, "_published_at", 0.0) >= PROGRESS_PUBLISH_SECONDS:
        part._published_at = now
        _publish_part(part)


def add_part_log(part: NodePart, line: dict, sequence: int | None = None) -> None:
    """Append a log line another party's node reported for its part (public by the library's
    contract, and stored as it was there, marked `at` that party) and stream it."""
    level = line.get("level", "info")
    if level not in LOG_LEVELS:
        raise ValueError(f"log level {level!r} is not one of {LOG_LEVELS}")
    line = line | {"message": stored(line.get("message")), "at": part.party}
    part.logs = (part.logs + [line])[-MAX_LOG_LINES:]
    _save_part(part, ["logs"], sequence)
    events.publish(part.node_run.run_id, "node.log", node=part.node_run.node_id, line=line)


def add_part_warning(
    part: NodePart, message: Storable, about: str | None, sequence: int | None = None
) -> None:
    """Record a warning another party's node reported for its part: about that party's own
    data (`about`), kept as its public text only (`workflows.redaction`: its details stay
    there), or about no party's data, kept as it is. Logged and streamed like the node's own."""
    about = about or ""
    warning = {"time": timezone.now().isoformat(), "message": stored(message), "party": about}
    if about:
        warning["message"] = warning_for(warning, None, rendered=False)["message"]
    if (warning["message"], about) in [(w["message"], w["party"]) for w in part.warnings]:
        _save_part(part, [], sequence)
        return
    shown = warning_for(warning, None, rendered=False) | {"at": part.party}
    if len(part.warnings) < MAX_WARNINGS:  # beyond them, logged only (`add_node_warning`)
        part.warnings = [*part.warnings, warning]
        _save_part(part, ["warnings"], sequence)
        node = part.node_run
        events.publish(node.run_id, "node.warning", node=node.node_id, warning=shown)
    line = {"time": warning["time"], "message": shown["message"], "level": "warning"}
    add_part_log(part, line, sequence)


def parts_logs(node: NodeRun) -> list[dict]:
    """The log lines other parties' nodes reported for their parts of `node` (none for a run
    executed by one node), in the active language."""
    return [
        line | {"message": render(line.get("message"))}
        for part in node.parts.all()
        for line in part.logs
    ]


def parts_warnings(node: NodeRun, viewer: str | None) -> list[dict]:
    """Other parties' warnings on their parts of `node` that the node does not already show
    (a warning about no party's data is raised alike at every party)."""
    own = {(stored_text(w["message"]), w.get("party") or "") for w in node.warnings}
    return [
        warning_for(warning, viewer) | {"at": part.party}
        for part in node.parts.all()
        for warning in part.warnings
        if (stored_text(warning["message"]), warning["party"]) not in own
    ]


def close_parts(run: Run) -> None:
    """When a run across nodes has finished here: a part still unfinished (its party's last
    reports never came: lost, or still on their way) takes its node's outcome, which every
    party confirmed over the run's links, until the party's own late report says how its part
    ended (`set_part_status`)."""
    unfinished = [Status.PENDING, Status.RUNNING]
    parts = NodePart.objects.filter(node_run__run=run, status__in=unfinished)
    for part in parts.select_related("node_run"):
        node = part.node_run
        if node.status not in NODE_TRANSITIONS.get(part.status, ()):
            continue
        if node.status == Status.SUCCEEDED:
            message = ""
        else:
            outcome = stored(node.public_message) or Status(node.status).label
            message = translatable(
                "no report from %(party)s: %(outcome)s", party=part.party, outcome=outcome
            )
        set_part_status(part, node.status, message)
        part.closed_without_report = True
        part.save(update_fields=["closed_without_report"])
