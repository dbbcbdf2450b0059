"""A member node reports its part of a run to the initiator, and stops it when told to.

This installation is bob's node, with a run alice's node started and launched here
(`test_member_runs`). Bob's worker is replaced by a script of the events `run_party` gives; what
leaves bob is read from his outbox (`RunEvent` batches to alice), as an adversarial initiator
would read it: public texts only, never bob's own details.
"""

from __future__ import annotations

import pytest

from console.federation import member_runs
from console.federation.models import OutgoingMessage, RunReplica
from tests.console.federation.conftest import deliver
from tests.console.federation.test_member_runs import ENGINES, bob_identity, started  # noqa: F401
from tests.console.federation.test_run_start import approve, bobs_copy, start_body  # noqa: F401
from workflows.messages import render
from workflows.models import Run, Status
from workflows.party import NodeOutcome, PartyResult

FULL_ERROR = "ValueError: could not convert 'u7;1000,5' to float"
PUBLIC_ERROR = "ValueError at party bob in node x: a value is not valid. Details: bob's only."
FULL_WARNING = "income at bob goes beyond ±10: max 98213.5"


@pytest.fixture
def launched(started: RunReplica) -> RunReplica:  # noqa: F811
    started.cluster = ENGINES
    started.save(update_fields=["cluster"])
    OutgoingMessage.objects.all().delete()  # what bob sent before the run
    return started


def node_ids(replica: RunReplica) -> list[str]:
    return list(replica.run.nodes.order_by("position").values_list("node_id", flat=True))


def sent_events() -> list[dict]:
    batches = OutgoingMessage.objects.filter(method="RunEvent").order_by("pk")
    assert {(m.peer.name, m.body["run"], m.body["party"]) for m in batches} == {
        ("alice", 41, "bob")
    }
    return [event for message in batches for event in message.body["events"]]


def status(node: str, value: str, **detail) -> dict:
    return {"event": "node.status", "party": "bob", "node": node, "status": value, **detail}


def test_bobs_part_reaches_the_initiator_in_public_form_only(launched, monkeypatch):
    first, second, *rest = node_ids(launched)

    def bobs_part(job, network, report, cancelled, keep):
        report(status(first, "running"))
        report({"event": "node.progress", "party": "bob", "node": first, "percent": 30})
        report({"event": "node.progress", "party": "bob", "node": first, "percent": 70})
        report({"event": "node.log", "party": "bob", "node": first, "line": "read 30 rows"})
        warning = {"message": FULL_WARNING, "public": "a warning at bob", "about": "bob"}
        report({"event": "node.warning", "party": "bob", "node": first, **warning})
        report(status(first, "succeeded", message="", public=""))
        report(status(second, "running"))
        failed = {"message": FULL_ERROR, "public": PUBLIC_ERROR, "failed_party": "bob"}
        report(status(second, "failed", **failed))
        outcomes = {
            first: NodeOutcome("succeeded", party="bob"),
            second: NodeOutcome("failed", FULL_ERROR, PUBLIC_ERROR, "bob"),
        }
        return PartyResult("failed", f"failed at {second} at bob: {PUBLIC_ERROR}", outcomes)

    monkeypatch.setattr(member_runs, "run_party", bobs_part)
    assert member_runs.run_member_part(launched.pk) == Status.FAILED
    events = sent_events()
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs))  # increasing (a replaced progress leaves a gap)
    kinds = [(event["kind"], event.get("node"), event.get("status")) for event in events]
    assert kinds == [
        ("status", first, "running"),
        ("progress", first, None),
        ("log", first, None),
        ("warning", first, None),
        ("status", first, "succeeded"),
        ("status", second, "running"),
        ("status", second, "failed"),
        ("end", None, "failed"),
    ]
    by_kind = {event["kind"]: event for event in events}
    assert by_kind["progress"]["percent"] == 70  # the newer value replaced the one not sent
    assert render(by_kind["log"]["line"]["message"]) == "read 30 rows"
    assert by_kind["log"]["line"]["level"] == "info"
    assert by_kind["warning"]["about"] == "bob"
    assert render(by_kind["warning"]["message"]).startswith("a warning at bob about its own data")
    assert render(events[6]["message"]) == render(PUBLIC_ERROR)
    assert events[-1]["message"] == f"failed at {second} at bob: {PUBLIC_ERROR}"
    assert FULL_ERROR not in str(events)
    assert FULL_WARNING not in str(events)
    # Bob's own run page keeps the full texts, for bob's users.
    failed = launched.run.nodes.get(node_id=second)
    assert (failed.status, failed.message) == (Status.FAILED, FULL_ERROR)
    assert {n.status for n in launched.run.nodes.filter(node_id__in=rest)} == {Status.SKIPPED}


def test_a_part_that_cannot_join_the_links_tells_the_initiator_why(launched, settings):
    launched.cluster = {"alice": "127.0.0.1:7101"}  # bob's own address missing
    launched.save(update_fields=["cluster"])
    assert member_runs.run_member_part(launched.pk) == Status.FAILED
    [end] = sent_events()
    assert end["kind"] == "end"
    assert end["status"] == "failed"
    assert "this node could not join the run's links" in end["message"]


def cancel(at_bob) -> dict:
    body = {"run": 41, "cancel": True, "reason": "cancelled at alice"}
    return deliver(at_bob["alice"], "RunAbort", body)


def test_a_cancel_from_the_initiator_stops_bobs_part_and_records_it_cancelled(
    launched, at_bob, monkeypatch
):
    first, second, *rest = node_ids(launched)
    replies = []

    def bobs_part(job, network, report, cancelled, keep):
        report(status(first, "running"))
        report(status(first, "succeeded", message="", public=""))
        report(status(second, "running"))
        assert not cancelled()
        replies.append(cancel(at_bob))  # arrives while bob computes
        assert cancelled()  # the next progress point stops the node (RunCancelled)
        stopped = {"message": "cancelled at bob", "public": "cancelled at bob"}
        report(status(second, "failed", **stopped))
        for node in rest:
            report(status(node, "skipped", message="the run stopped", public="the run stopped"))
        outcomes = {first: NodeOutcome("succeeded"), second: NodeOutcome("failed", **stopped)}
        outcomes |= {node: NodeOutcome("skipped", "the run stopped") for node in rest}
        return PartyResult("failed", f"failed at {second} at bob: cancelled at bob", outcomes)

    monkeypatch.setattr(member_runs, "run_party", bobs_part)
    assert member_runs.run_member_part(launched.pk) == Status.CANCELLED
    assert replies == [{"cancelled": True, "status": "running"}]
    run = Run.objects.get(pk=launched.run_id)
    assert (run.status, render(run.message)) == (Status.CANCELLED, "cancelled at alice")
    statuses = dict(run.nodes.values_list("node_id", "status"))
    assert statuses[first] == Status.SUCCEEDED  # its outputs stay
    assert {statuses[node] for node in [second, *rest]} == {Status.CANCELLED}
    events = sent_events()
    assert (events[-1]["kind"], events[-1]["status"]) == ("end", "cancelled")
    assert {e["status"] for e in events if e["kind"] == "status" and e["node"] != first} >= {
        "cancelled"
    }
    assert "failed" not in {e.get("status") for e in events}


def test_a_cancel_before_bobs_worker_started_cancels_the_run_there(launched, at_bob):
    assert cancel(at_bob) == {"cancelled": True}
    run = Run.objects.get(pk=launched.run_id)
    assert (run.status, render(run.message)) == (Status.CANCELLED, "cancelled at alice")
    assert set(run.nodes.values_list("status", flat=True)) == {Status.CANCELLED}
    assert member_runs.run_member_part(launched.pk) == "not pending"


def test_only_the_initiator_cancels_its_run_here(launched, at_bob):
    body = {"run": 41, "cancel": True, "reason": "carol says stop"}
    with pytest.raises(Exception, match="carol started no such run"):
        deliver(at_bob["carol"], "RunAbort", body)
    assert Run.objects.get(pk=launched.run_id).status == Status.PENDING
    assert not Run.objects.get(pk=launched.run_id).cancel_requested


def test_the_forwarder_sends_from_its_own_thread_and_everything_left_at_the_end():
    import threading
    import time

    from console.federation.part_reports import Forwarder, ReportStream

    sent, stream = [], ReportStream()

    def send(batch):
        if not sent:
            sent.append("a first send that breaks")
            raise OSError("the database is busy")
        sent.append(batch)

    forwarder = Forwarder(stream, send)
    threading.Thread.start(forwarder)  # the federation tests' fixture makes `start` a no-op
    stream.add("status", node="a", status="running", message="")
    forwarder.wake.set()
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.add("progress", node="a", percent=50)
    stream.add("end", status="succeeded", message="")
    forwarder.stopping = True
    forwarder.wake.set()
    forwarder.join(5)
    assert not forwarder.is_alive()
    assert sent[0] == "a first send that breaks"  # neither the thread nor the batch is lost
    assert [event["kind"] for batch in sent[1:] for event in batch] == ["status", "progress", "end"]


def test_a_node_failed_before_bob_heard_of_the_cancel_stays_failed_and_the_run_ends_cancelled(
    launched, at_bob, monkeypatch
):
    """Alice's part stopped first and aborted the links: bob's node failed naming alice before
    the RunAbort arrived. Finished is final; the run still ends cancelled, nothing stuck."""
    first, second, *rest = node_ids(launched)
    stopped = "'alice' stopped at node x: cancelled at alice"

    def bobs_part(job, network, report, cancelled, keep):
        report(status(first, "running"))
        report(status(first, "failed", message=stopped, public=stopped, failed_party="alice"))
        cancel(at_bob)
        for node in [second, *rest]:
            report(status(node, "skipped", message="the run stopped", public="the run stopped"))
        outcomes = {first: NodeOutcome("failed", stopped, stopped, "alice")}
        outcomes |= {node: NodeOutcome("skipped", "the run stopped") for node in [second, *rest]}
        return PartyResult("failed", f"failed at {first} at alice: {stopped}", outcomes)

    monkeypatch.setattr(member_runs, "run_party", bobs_part)
    assert member_runs.run_member_part(launched.pk) == Status.CANCELLED
    run = Run.objects.get(pk=launched.run_id)
    statuses = dict(run.nodes.values_list("node_id", "status"))
    assert statuses[first] == Status.FAILED
    assert {statuses[node] for node in [second, *rest]} == {Status.CANCELLED}
    assert sent_events()[-1]["status"] == "cancelled"


def test_a_part_that_breaks_fails_with_nothing_left_running(launched, monkeypatch):
    first = node_ids(launched)[0]

    def bobs_part(job, network, report, cancelled, keep):
        report(status(first, "running"))
        raise MemoryError("the engine ran out of memory")

    monkeypatch.setattr(member_runs, "run_party", bobs_part)
    with pytest.raises(MemoryError):
        member_runs.run_member_part(launched.pk)
    run = Run.objects.get(pk=launched.run_id)
    assert (run.status, render(run.message)) == (Status.FAILED, "internal error: MemoryError")
    assert set(run.nodes.values_list("status", flat=True)) == {Status.FAILED}
    assert (sent_events()[-1]["kind"], sent_events()[-1]["status"]) == ("end", "failed")
