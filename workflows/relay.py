"""Live events of a run written by another process, read back from the database.

With the in-memory channel layer (the embedded default) an event reaches only the websocket
consumers of the process that published it (`workflows.events`). In network mode two other
processes write runs a console shows: the node service, which applies the other parties' reports
(`console.federation.run_events`) and runs a member node's part of a run; and separate workers
(`PRIVPAD_RUN_EXECUTION=worker`, system check W003). For such a run the websocket consumer
follows the database instead: every POLL_SECONDS it reads the run's state as its viewer may see
it (`workflows.state.run_state`, so texts are already redacted for that viewer) and sends what
changed as the events the run would have published (`changes`). A shared channel layer (Redis)
carries every process's events, and then nothing is polled.

Events sent this way may repeat ones also pushed by this process: the canvas merges them (a
status only moves forward, progress only grows, log lines and warnings are keyed).
"""

from __future__ import annotations

from channels.layers import InMemoryChannelLayer, get_channel_layer

from workflows import state
from workflows.models import NodePart, Run
from workflows.recovery import executor_id

POLL_SECONDS = 1.0


def written_elsewhere(run_id: int) -> bool:
    """Whether a run's events may be published where this process's websockets miss them."""
    if not isinstance(get_channel_layer(), InMemoryChannelLayer):
        return False
    run = Run.objects.filter(pk=run_id).only("status", "executor").first()
    if run is None or run.is_finished:
        return False
    return run.executor != executor_id() or NodePart.objects.filter(node_run__run=run).exists()


def _line_key(line: dict) -> tuple:
    return (line.get("time"), line.get("at"), line.get("level"), line.get("message"))


def _warning_key(warning: dict) -> tuple:
    return (warning.get("at"), warning.get("party"), warning.get("message"))


def changes(before: dict, after: dict) -> list[dict]:
    """The events that take a viewer's run state `before` to `after` (`state.run_state`)."""
    run_id, found = after["id"], []
    previous = {node["node"]: node for node in before.get("nodes") or []}
    for node in after.get("nodes") or []:
        found += _node_changes(run_id, previous.get(node["node"]), node)
    if (after["status"], after["message"]) != (before["status"], before["message"]):
        found.append(
            {
                "type": "run.status",
                "run": run_id,
                "status": after["status"],
                "message": after["message"],
            }
        )
    return found


def _node_changes(run_id: int, old: dict | None, new: dict) -> list[dict]:
    old = old or {"status": None, "progress": None, "parts": [], "logs": [], "warnings": []}
    base, found = {"run": run_id, "node": new["node"]}, []
    if new["status"] != old["status"]:
        fields = {key: new[key] for key in ("status", "message", "party", "progress")}
        found.append({"type": "node.status", **base, **fields})
    elif new["progress"] != old["progress"]:
        found.append({"type": "node.progress", **base, "progress": new["progress"]})
    known_parts = {part["party"]: part for part in old["parts"]}
    for part in new["parts"]:
        if part != known_parts.get(part["party"]):
            found.append({"type": "node.part", **base, **part})
    seen_lines = {_line_key(line) for line in old["logs"]}
    for line in new["logs"]:
        if _line_key(line) not in seen_lines:
            found.append({"type": "node.log", **base, "line": line})
    seen_warnings = {_warning_key(warning) for warning in old["warnings"]}
    for warning in new["warnings"]:
        if _warning_key(warning) not in seen_warnings:
            found.append({"type": "node.warning", **base, "warning": warning})
    return found


def current(run_id: int, viewer: str | None) -> dict | None:
    run = Run.objects.filter(pk=run_id).first()
    return state.run_state(run, viewer) if run is not None else None
