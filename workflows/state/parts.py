"""Each party's part of a run across nodes, as the initiating node records it (`NodePart`).

In a network run every node executes every pipeline node for its own party; the initiating
node gives each node of its run a part per party (`open_parts`) and records each part as it
goes, its own party's (`console.federation.part_reports`) and the members' reports
(`console.federation.run_events`): status, progress, public message, and, from other nodes,
public log lines and warnings. A part follows the node lifecycle
(`lifecycle.NODE_TRANSITIONS`), is saved with the sequence number of the last report event
applied to it, and every change is published on the run's channel group like the node's own
(`node.part`, `node.log`, `node.warning`).

Only public text arrives from another node: its log lines are public by the component
library's contract, and a warning about that party's own data is kept as its public text
only (its details stay at that node, `workflows.redaction`). A run that finishes here before
a party's last reports arrived closes that party's unfinished parts with the node's outcome
(`close_parts`); the party's own late report may still say how its part ended.
"""

from __future__ import annotations

import time

from django.utils import timezone

from workflows import events
from workflows.messages import Storable, render, stored, stored_text, translatable
from workflows.models import FINISHED, NodePart, NodeRun, Run, Status
from workflows.redaction import warning_for
from workflows.state.lifecycle import NODE_TRANSITIONS, IllegalTransition, check_transition
from workflows.state.logs import LOG_LEVELS, MAX_LOG_LINES, MAX_WARNINGS
from workflows.state.progress import PROGRESS_PUBLISH_SECONDS, PROGRESS_SAVE_SECONDS


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
        check_transition(NODE_TRANSITIONS, what, part.node_run.run_id, part.status, status)
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
