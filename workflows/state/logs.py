"""A node's log lines and warnings: writing them, and reading them as each party may.

Log lines ("info", "warning" or "error", at most MAX_LOG_LINES kept: the newest) stream to the
run page's log drawer as `node.log` events. Warnings (`node.warning`) show on the node's
results and the canvas; a repeated one is recorded once, a new one is also logged, and beyond
MAX_WARNINGS only logged. A party's part of a node keeps the same bounds (`parts`).

Redaction (`workflows.redaction`): a failure's reason and a warning about a party's data are
stored in full, but their log line and events carry the text every party may read. Such a
line is marked `redacted` with its `party` (a warning's also with its index in
`node.warnings`); `logs_for`/`line_for` and the websocket consumer give that party's users the
full text instead. Lines and warnings are stored as `workflows.messages` keeps them, and
rendered here in the reader's language.
"""

from __future__ import annotations

from django.utils import timezone

from workflows import events
from workflows.messages import Storable, render, stored, translatable
from workflows.models import NodeRun
from workflows.redaction import sees_details, warning_for

MAX_LOG_LINES = 1000
MAX_WARNINGS = 50
LOG_LEVELS = ("info", "warning", "error")


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
