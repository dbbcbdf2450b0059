"""This node's part of a run across nodes, reported as it goes (`PartReport`).

`workflows.party.run_party` hands its events to `PartReport`, which:

- applies them to this node's own run (`member_runs.ShownHere`: its run page and canvas);
- at the initiating node, records this node's own part (`workflows.state.set_part_status`),
  beside the parts the members report (`console.federation.run_events`);
- at a member node, forwards their public form to the initiator: numbered events queued here
  (`ReportStream`) and sent in batches by a background thread (`Forwarder`), one `RunEvent`
  message per batch through the outbox (tried at once, re-sent in order when the initiator
  could not take it), so a slow or unreachable initiator never holds up the computation;
- says when the run was cancelled (`cancelled`, polled by the party worker at its progress
  points), and turns the failures a cancel causes into "cancelled" (`outcome`): the parties
  stop each other through the run's links, and a node that stopped because another one did
  must still record a cancelled run, not a failed one.

What leaves this node is what every party may read: a node's public message, a warning about
this node's own data as its public text only (`workflows.redaction.warning_for`), log lines as
stored here (public by the component library's contract). Messages and lines leave in their
stored form, made by one pair of functions (`run_events.wire_message`, `run_events.wire_line`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from django.db import connection

from console.federation import outbox, run_events
from console.federation.models import RunReplica
from workflows import redaction, state, timeline
from workflows.executor import stopped_message, withdraw_outputs
from workflows.messages import stored, translatable
from workflows.models import FINISHED, NodePart, Run, Status

logger = logging.getLogger(__name__)
# Seconds between two batches of a member's report (a status change is sent at once): each
# batch is one call, audited on both sides, so progress goes at most once a second.
FLUSH_SECONDS = 1.0
# Seconds the end of a part waits for its last batches to be handed to the outbox.
CLOSE_SECONDS = 2 * outbox.TIMEOUT


class ReportStream:
    """Numbered events of this node's part waiting to be sent; a node's progress not yet sent
    is replaced by its newer value (only the latest matters)."""

    def __init__(self):
        self.events: list[dict] = []
        self.seq = 0
        self.lock = threading.Lock()

    def add(self, kind: str, **fields) -> None:
        with self.lock:
            if kind == "progress":
                self.events = [
                    e
                    for e in self.events
                    if not (e["kind"] == "progress" and e["node"] == fields["node"])
                ]
            self.seq += 1
            self.events.append({"seq": self.seq, "kind": kind, **fields})

    def put_back(self, events: list[dict]) -> None:
        """Events taken but not sent: first again at the next flush."""
        with self.lock:
            self.events = events + self.events

    def take(self) -> list[list[dict]]:
        """Everything queued, as batches that fit a message (`run_events.MAX_BATCH_BYTES`)."""
        with self.lock:
            events, self.events = self.events, []
        batches, batch, size = [], [], 0
        for event in events:
            length = len(json.dumps(event))
            full = size + length > run_events.MAX_BATCH_BYTES
            if batch and (full or len(batch) == run_events.MAX_EVENTS):
                batches.append(batch)
                batch, size = [], 0
            batch.append(event)
            size += length
        return [*batches, batch] if batch else batches


class Forwarder(threading.Thread):
    """Sends the stream's batches every FLUSH_SECONDS, or at once when woken."""

    def __init__(self, stream: ReportStream, send: Callable[[list[dict]], None]):
        super().__init__(name="run-report", daemon=True)
        self.stream, self.send = stream, send
        self.wake, self.stopping = threading.Event(), False

    def run(self) -> None:
        try:
            while True:
                self.wake.wait(FLUSH_SECONDS)
                self.wake.clear()
                stopping = self.stopping
                self.flush()
                if stopping:
                    return
        finally:
            connection.close()  # this thread's own connection

    def flush(self) -> None:
        batches = self.stream.take()
        for index, batch in enumerate(batches):
            try:
                self.send(batch)
            except Exception:  # noqa: BLE001 - a report must never break the run
                logger.warning("run report: a batch could not be queued", exc_info=True)
                self.stream.put_back([e for later in batches[index:] for e in later])
                return

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.join(CLOSE_SECONDS)


class PartReport:
    """`run_party`'s `report` and `cancelled` for this node's part of `run` (module docstring)."""

    def __init__(self, run: Run, party: str):
        from console.federation.member_runs import ShownHere

        self.run, self.party = run, party
        self.shown = ShownHere(run)
        self.token = state.CancelToken(run.pk)
        self.lock = threading.Lock()
        self.replica = RunReplica.objects.select_related("origin").filter(run=run).first()
        self.stream, self.forwarder, self.own = None, None, {}
        if self.replica is not None:
            self.stream = ReportStream()
            self.forwarder = Forwarder(self.stream, self._send)
            self.forwarder.start()
        else:
            parts = NodePart.objects.select_related("node_run")
            self.own = {p.node_run.node_id: p for p in parts.filter(node_run__run=run, party=party)}

    def __enter__(self) -> PartReport:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is not None:
                self._broke(error)
        finally:
            self.close()

    def _broke(self, error: BaseException) -> None:
        """The part broke before recording how it ended: nothing is left running."""
        logger.exception("Part of run %s broke", self.run.pk, exc_info=error)
        message = translatable("internal error: %(error)s", error=type(error).__name__)
        for node in self.run.nodes.filter(status__in=[Status.PENDING, Status.RUNNING]):
            state.set_node_status(node, Status.FAILED, message)
        run = Run.objects.get(pk=self.run.pk)
        if not run.is_finished:
            state.set_run_status(run, Status.FAILED, message)
        self.run = run

    def cancelled(self) -> bool:
        return self.token()

    def __call__(self, event: dict) -> None:
        with self.lock:
            event = self._as_cancelled(event)
            self.shown(event)
            if self.stream is not None:
                self._forward(event)
            else:
                self._record_own(event)

    def _as_cancelled(self, event: dict) -> dict:
        """A node stopped by a cancel (here, or at another party that was told first) is
        cancelled, not failed or skipped; revoked when consent was withdrawn at this node."""
        stopped = event.get("status") in (Status.FAILED, Status.SKIPPED)
        if event.get("event") != "node.status" or not stopped or not self._cancel_requested():
            return event
        status, said, _ = self._how_stopped(self.token.revocation())
        text = stored(said)
        return event | {"status": status, "message": text, "public": text}

    def _how_stopped(self, reason: str | None) -> tuple[str, object, object]:
        """(status, node message, run message) of a stopped part: revoked when consent was
        withdrawn at this node (`reason`: a rejected plan, a revoked authorisation, as the
        cancel token reads it from the database), else cancelled."""
        if reason is not None:
            return Status.REVOKED, stopped_message(reason), stopped_message(reason)
        return Status.CANCELLED, translatable("the run was cancelled"), self._cancel_message()

    def _cancel_requested(self) -> bool:
        return self.token.event.is_set() or state.cancel_requested(self.run.pk)

    def outcome(self, outcomes: dict[str, dict], status: str, message: str):
        """The part's outcome as `member_runs.finish` records it: a cancelled run cancelled,
        with its nodes that did not finish. A node already recorded as it ended keeps that
        (one that failed because another party stopped before this one heard of the cancel
        stays failed, its message says why): finished is final."""
        # Revoked is read from the database too: consent may go after the token last looked.
        revoked = self.token.revocation()
        if revoked is None and not self._cancel_requested():
            return outcomes, status, message
        stop, said, run_message = self._how_stopped(revoked)
        text = stored(said)
        recorded = {node_id: node.status for node_id, node in self.shown.nodes.items()}
        cancelled = dict(outcomes)
        for node_id, live in recorded.items():
            if live in FINISHED:
                cancelled[node_id] = {**outcomes.get(node_id, {}), "status": str(live)}
            elif live not in FINISHED and outcomes.get(node_id, {}).get("status") != "succeeded":
                cancelled[node_id] = {"status": str(stop), "message": text, "public": text}
        if revoked is not None:
            cancelled |= self._withdrawn(revoked)
        return cancelled, str(stop), run_message

    def _withdrawn(self, reason: str) -> dict[str, dict]:
        """Once consent went, nothing more is delivered: outputs this node recorded at or
        after the revocation are removed (`executor.withdraw_outputs`, as in embedded runs)
        and their nodes revoked."""
        text = stored(translatable("outputs withdrawn: %(reason)s", reason=stored(reason)))
        by_pk = {node.pk: node_id for node_id, node in self.shown.nodes.items()}
        return {
            by_pk[pk]: {"status": str(Status.REVOKED), "message": text, "public": text}
            for pk in withdraw_outputs(self.run)
            if pk in by_pk
        }

    def _cancel_message(self):
        if self.replica is None:
            return translatable("cancelled by the user")
        return translatable("cancelled at %(node)s", node=self.replica.origin.name)

    # ----- this node's own part, at the initiator ---------------------------------------
    def _record_own(self, event: dict) -> None:
        part = self.own.get(event.get("node", ""))
        if part is None:
            return
        try:
            if event.get("event") == "node.status" and event.get("status") in PART_STATUS:
                message = event.get("public") or ""
                state.set_part_status(part, PART_STATUS[event["status"]], message)
            elif event.get("event") == "node.progress" and part.status not in FINISHED:
                state.set_part_progress(part, int(event.get("percent", 0)))
        except state.IllegalTransition:
            pass  # as `ShownHere`: the outcome is what `finish` records

    # ----- a member's part, forwarded ----------------------------------------------------
    def _forward(self, event: dict) -> None:
        kind, node = event.get("event"), event.get("node", "")
        if node not in self.shown.nodes:
            return  # `run.status`: the end is sent by `close`, once the outcome is recorded
        if kind == "node.status" and event.get("status") in PART_STATUS:
            message = run_events.wire_message(event.get("public"))
            self.stream.add("status", node=node, status=event["status"], message=message)
            self.forwarder.wake.set()
        elif kind == "node.progress":
            self.stream.add("progress", node=node, percent=int(event.get("percent", 0)))
        elif kind == "node.log":
            line = run_events.wire_line(self.shown.nodes[node].logs[-1])
            self.stream.add("log", node=node, line=line)
        elif kind == "node.warning":
            about = event.get("about") or ""
            kept = {"message": event.get("message", ""), "party": about}
            public = redaction.warning_for(kept, None, rendered=False)["message"]
            self.stream.add(
                "warning", node=node, about=about, message=run_events.wire_message(public)
            )

    def _send(self, batch: list[dict]) -> None:
        body = {"run": self.replica.remote_id, "party": self.party, "events": batch}
        outbox.send(self.replica.origin, "RunEvent", body)
        timeline.mark(self.replica.remote_id, "events.sent", count=len(batch))

    def close(self) -> None:
        """The part has ended (its outcome recorded): the member's last report says how; at
        the initiator, parts whose reports never came take their node's outcome."""
        try:
            if self.stream is not None:
                self.run.refresh_from_db(fields=["status", "message"])
                status = self.run.status if self.run.status in FINISHED else Status.FAILED
                self.stream.add(
                    "end", status=status, message=run_events.wire_message(self.run.message)
                )
                self.forwarder.stop()
            else:
                state.close_parts(self.run)
        finally:
            self.token.close()


PART_STATUS = {
    "running": Status.RUNNING,
    "succeeded": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "skipped": Status.SKIPPED,
    "cancelled": Status.CANCELLED,
}
