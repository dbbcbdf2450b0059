"""A run across nodes, live at its initiating node: the parties' reports (`RunEvent`), the cancel.

Every participating node executes its own party's part of every node of the run
(`console.federation.member_runs`). A member node reports its part back to the initiator as it
goes (`console.federation.part_reports`): status changes, progress, log lines and warnings, in
the form every other party may read (`workflows.redaction`: a failure's public text, a warning
about the member's own data as its public text only; log lines are public by the component
library's contract). Reports travel as numbered events (`seq`, increasing along the member's
stream) in batches, each batch one `RunEvent` message through the outbox, so a report the
initiator could not take now is re-sent, in order, when it can.

The initiator applies them to its own record of the run through `workflows.state` (the party's
`NodePart` of each node), whose events reach its canvas over the run's websocket.

Threat model (`console.federation.handlers`): a paired peer is who it is, not trusted to
behave. So a batch is refused whole, before anything is applied, when the peer takes no part in
that run here (the run's parts, opened by `initiate`), when it reports for another party, when an
event repeats or precedes one already applied to that part (a replay with a fresh message id, or
out of order), when a status would leave a finished part or go backwards (the node lifecycle,
`workflows.state.NODE_TRANSITIONS`), or when a warning is about another party's data. A member
can only tell about its own part: the outcome of a node is what every party confirmed over the
run's links, which no report changes.

Cancelling a run at the initiator tells every member (`cancel_across_nodes`: `RunAbort` through
the outbox, so a member that cannot be reached now is told when it can) before this node's own
part stops, so each member records the run as cancelled rather than failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.federation import outbox, wire
from console.federation.handlers import PeerActor, handles, refuse
from console.nodes.link.envelope import EnvelopeError
from console.nodes.models import Node
from workflows import state
from workflows.messages import translatable, wire_text
from workflows.models import FINISHED, NodePart, Run, Status

# A batch fits the node envelope (64 KiB) with room to spare: members cut theirs at this size.
MAX_EVENTS, MAX_BATCH_BYTES = 200, 40 * 1024
MAX_LINE = 1000
PART_STATUSES = (Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.CANCELLED)
END_STATUSES = (
    Status.SUCCEEDED,
    Status.FAILED,
    Status.CANCELLED,
    Status.INTERRUPTED,
    Status.REVOKED,
)
NODE_KINDS = ("status", "progress", "log", "warning")


# --- Messages and log lines on the wire -------------------------------------------------------
# The one place that knows how a run's messages (`NodeRun.public_message`, `Run.message`) and
# log lines (`workflows.state.add_node_log`) travel: a member sends them as `wire_message` and
# `wire_line` make them, the initiator stores what `read_message` and `read_line` give back.
# A message is `workflows.messages`' stored form (msgid and params) as ASCII JSON text, or plain
# text (an older member's words): the initiator's `workflows.state` keeps it as a message, worded
# for each of its readers; beyond the size limit, its English words.
MAX_MESSAGE = 2000


def wire_message(message) -> str:
    """A stored message (a node's public text, a run's message) as it travels."""
    return wire_text(message or "", limit=MAX_MESSAGE)


def read_message(data: dict, key: str) -> str:
    return wire.optional_text(data, key, MAX_MESSAGE)


def wire_line(line: dict) -> dict:
    """A stored log line of this node's part as it travels to the initiator."""
    return {
        "time": str(line.get("time", "")),
        "level": line.get("level", "info"),
        "message": wire_text(line.get("message", ""), limit=MAX_LINE),
    }


def read_line(data) -> dict:
    """A member's log line as the initiator stores it (`workflows.state.add_part_log`)."""
    if not isinstance(data, dict):
        raise EnvelopeError(translatable("a log line is a map"))
    return {
        "time": wire.optional_text(data, "time", 40),
        "level": wire.choice_field(data, "level", state.LOG_LEVELS),
        "message": wire.optional_text(data, "message", MAX_LINE),
    }


# --- Reading a batch --------------------------------------------------------------------------


@dataclass(frozen=True)
class PartEvent:
    """One event of a party's report: `node` is None for `end` (the party's run finished)."""

    seq: int
    kind: str
    node: str | None
    fields: dict

    @classmethod
    def read(cls, data) -> PartEvent:
        if not isinstance(data, dict):
            raise EnvelopeError(translatable("an event is a map"))
        kind = wire.choice_field(data, "kind", (*NODE_KINDS, "end"))
        node = None if kind == "end" else wire.optional_text(data, "node", 64)
        return cls(wire.int_field(data, "seq", 1), kind, node, _fields(kind, data))


def _fields(kind: str, data: dict) -> dict:
    if kind == "status":
        return {
            "status": wire.choice_field(data, "status", PART_STATUSES),
            "message": read_message(data, "message"),
        }
    if kind == "progress":
        percent = wire.int_field(data, "percent", 0)
        if percent > 100:
            raise EnvelopeError(translatable("the event's 'percent' is not a percentage"))
        return {"percent": percent}
    if kind == "log":
        return {"line": read_line(data.get("line"))}
    if kind == "warning":
        about = data.get("about", "")
        return {
            "about": about if about == "" else wire.node_name(about),
            "message": read_message(data, "message"),
        }
    return {
        "status": wire.choice_field(data, "status", END_STATUSES),
        "message": read_message(data, "message"),
    }


def read_events(body: dict) -> list[PartEvent]:
    events = body.get("events")
    if not isinstance(events, list) or not 0 < len(events) <= MAX_EVENTS:
        raise EnvelopeError(translatable("'events' lists 1 to %(max)s events", max=MAX_EVENTS))
    read = [PartEvent.read(event) for event in events]
    if any(later.seq <= earlier.seq for earlier, later in zip(read, read[1:], strict=False)):
        raise EnvelopeError(translatable("the events of a batch are not in increasing order"))
    return read


# --- The initiator applies them ---------------------------------------------------------------


@handles("RunEvent")
def run_event(peer: PeerActor, body: dict) -> dict:
    """A member's report on its part of a run this node started (see the module docstring)."""
    run_id = wire.int_field(body, "run", 1)
    party = wire.node_name(body.get("party"))
    if party != peer.name:
        raise refuse(
            translatable(
                "%(peer)s may report only its own part of a run, not %(party)s's",
                peer=peer.name,
                party=party,
            )
        )
    parts = {
        part.node_run.node_id: part
        for part in NodePart.objects.select_related("node_run").filter(
            node_run__run_id=run_id, party=party
        )
    }
    if not parts:
        raise refuse(
            translatable(
                "%(peer)s takes no part in run %(run)s on this node", peer=peer.name, run=run_id
            )
        )
    events = read_events(body)
    _check(party, parts, events)
    for event in events:
        _apply(parts, event)
    return {"applied": len(events), "sequence": events[-1].seq}


def _check(party: str, parts: dict[str, NodePart], events: list[PartEvent]) -> None:
    """Refuse the whole batch before anything is applied (what `_apply` would refuse)."""
    seen = {
        node_id: (part.status, part.sequence, part.closed_without_report)
        for node_id, part in parts.items()
    }
    for event in events:
        targets = list(seen) if event.node is None else [event.node]
        if event.node is not None and event.node not in seen:
            raise EnvelopeError(translatable("the run has no node '%(node)s'", node=event.node))
        latest = max(seen[node_id][1] for node_id in targets)
        if event.seq <= latest:
            raise refuse(
                translatable(
                    "event %(event)s of %(party)s's report comes after event %(latest)s was "
                    "applied: a replay, or out of order",
                    event=event.seq,
                    party=party,
                    latest=latest,
                )
            )
        if event.kind == "warning" and event.fields["about"] not in ("", party):
            raise refuse(
                translatable(
                    "%(party)s may only warn about its own data or no party's, not %(about)s's",
                    party=party,
                    about=event.fields["about"],
                )
            )
        for node_id in targets:
            seen[node_id] = _checked_part(party, node_id, seen[node_id], event)


def _checked_part(party: str, node_id: str, part: tuple, event: PartEvent) -> tuple:
    """The part after `event`, as `workflows.state` will make it, or a refusal. A part closed
    here without its party's report takes that report's finished status, late, and ignores
    the rest of its status and progress (`state.set_part_status`)."""
    status, _, closed = part
    new = _new_status(status, event)
    if closed:
        finished = new is not None and new in FINISHED
        return (new if finished else status, event.seq, closed and not finished)
    if new is not None and new != status and new not in _allowed(status):
        raise refuse(
            translatable(
                "%(party)s's part of node %(node)s is %(status)s: it cannot become %(new)s",
                party=party,
                node=node_id,
                status=status,
                new=new,
            )
        )
    if event.kind == "progress" and status in FINISHED:
        raise refuse(
            translatable(
                "%(party)s's part of node %(node)s is %(status)s: it has no progress",
                party=party,
                node=node_id,
                status=status,
            )
        )
    return (new or status, event.seq, False)


def _allowed(status: str) -> frozenset[str]:
    return state.NODE_TRANSITIONS.get(status, frozenset())


def _new_status(status: str, event: PartEvent) -> str | None:
    if event.kind == "status":
        return event.fields["status"]
    if event.kind == "end" and status not in FINISHED:
        return end_status(status, event.fields["status"])
    return None


def end_status(status: str, run_status: str) -> str:
    """A part a party left unfinished (`status`), once its run ended (`run_status` there):
    cancelled with a cancelled run; else failed if it had started, skipped if not."""
    if run_status == Status.CANCELLED:
        return Status.CANCELLED
    return Status.FAILED if status == Status.RUNNING else Status.SKIPPED


def event_party(parts: dict[str, NodePart]) -> str:
    return next(iter(parts.values())).party


def _apply(parts: dict[str, NodePart], event: PartEvent) -> None:
    fields, seq = event.fields, event.seq
    if event.kind == "end":
        message = fields["message"] or translatable(
            "the run ended %(status)s at %(party)s",
            status=Status(fields["status"]).label,
            party=event_party(parts),
        )
        for part in parts.values():
            if part.status in FINISHED:
                state.note_part_report(part, seq)
            else:
                status = end_status(part.status, fields["status"])
                state.set_part_status(part, status, message, seq)
        return
    part = parts[event.node]
    if event.kind == "status":
        state.set_part_status(part, fields["status"], fields["message"], seq)
    elif event.kind == "progress":
        state.set_part_progress(part, fields["percent"], seq)
    elif event.kind == "log":
        state.add_part_log(part, fields["line"], seq)
    else:
        state.add_part_warning(part, fields["message"], fields["about"], seq)


# --- Cancelling a run across nodes ------------------------------------------------------------


def cancel_across_nodes(run: Run) -> None:
    """Tell every other party of `run` (started here) that it was cancelled: `RunAbort`
    through the outbox, tried now and re-sent later to a node that does not answer."""
    from console.federation.projects import self_node

    me = self_node()
    for party in state.run_parties(run.pk):
        peer = Node.objects.filter(name=party).first()
        if peer is None or peer.pk == me.pk:
            continue
        reason = wire_text(translatable("cancelled at %(party)s", party=me.name))
        body = {"run": run.pk, "cancel": True, "reason": reason}
        outbox.send(peer, "RunAbort", body)
        # Now, not once the caller's transaction commits: before this node's part stops.
        outbox.deliver_in_order(peer)
