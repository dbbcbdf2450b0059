"""The initiating node follows each party's part of a run across nodes (`RunEvent`).

This installation is alice's node, which started a run across nodes with bob; carol is a paired
peer taking no part. Bob's reports land on his part of each node and stream to the run's
websocket group; as an adversarial peer would, bob (or carol) sends reports about runs they are
not in, about another party, forged statuses, replays and regressions: each batch is refused
whole, naming why, and nothing of it is applied.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import grpc
import pytest

from console.federation import member_runs, outbox, run_events
from console.federation.models import OutgoingMessage
from console.federation.part_reports import ReportStream
from console.nodes.link.service import Refused
from console.nodes.link.transport import NodeCallError
from tests.console.federation.conftest import deliver
from tests.console.federation.test_initiate import alices_run  # noqa: F401
from tests.console.federation.test_remote_sources import with_bob  # noqa: F401
from workflows import events, state
from workflows.messages import render
from workflows.models import NodePart, Run, Status
from workflows.party import NodeOutcome, PartyResult
from workflows.state import cancellation

FULL_WARNING = "bob's income goes beyond ±10: 98213.5 at row 7"


@pytest.fixture
def run(alices_run):  # noqa: F811
    run, _ = alices_run
    state.open_parts(run, ("alice", "bob"))
    return run


def nodes_of(run: Run) -> list[str]:
    return list(run.nodes.order_by("position").values_list("node_id", flat=True))


def batch(*events_: tuple) -> list[dict]:
    """Events as a member's stream numbers them (`part_reports.ReportStream`)."""
    stream = ReportStream()
    for kind, fields in events_:
        stream.add(kind, **fields)
    [taken] = stream.take()
    return taken


def report(route, run: Run, events_: list[dict], party: str | None = None, message=None):
    body = {"run": run.pk, "party": party or route.node.name, "events": events_}
    return deliver(route, "RunEvent", body, message)


def part(run: Run, node_id: str, party: str = "bob") -> NodePart:
    return NodePart.objects.get(node_run__run=run, node_run__node_id=node_id, party=party)


@pytest.fixture
def published():
    seen = []
    with events.listening(seen.append):
        yield seen


def test_a_members_reports_land_on_its_part_and_stream_to_the_canvas(run, at_alice, published):
    first = nodes_of(run)[0]
    line = {"time": "2026-12-04T10:00:00+00:00", "level": "info", "message": "PSI: 30 ids"}
    reply = report(
        at_alice["bob"],
        run,
        batch(
            ("status", {"node": first, "status": "running", "message": ""}),
            ("progress", {"node": first, "percent": 40}),
            ("log", {"node": first, "line": line}),
            ("warning", {"node": first, "about": "bob", "message": FULL_WARNING}),
            ("warning", {"node": first, "about": "", "message": "3 columns are constant"}),
        ),
    )
    assert reply == {"applied": 5, "sequence": 5}
    bobs = part(run, first)
    assert (bobs.status, bobs.progress, bobs.sequence) == (Status.RUNNING, 40, 5)
    assert part(run, first, "alice").status == Status.PENDING  # alice's own worker writes hers
    # A warning about bob's data is kept as its public text only, even if bob sent it whole.
    assert [render(w["message"]) for w in bobs.warnings] == [
        "a warning at bob about its own data: only bob's users see its details and fix",
        "3 columns are constant",
    ]
    shown = state.run_state(Run.objects.get(pk=run.pk), "alice")
    node = shown["nodes"][0]
    assert node["parts"] == [
        {"party": "alice", "status": "pending", "progress": 0, "message": ""},
        {"party": "bob", "status": "running", "progress": 40, "message": ""},
    ]
    assert node["logs"][0] == line | {"at": "bob"}
    assert all(line["at"] == "bob" for line in node["logs"])
    assert FULL_WARNING not in str(shown)
    kinds = [(event["type"], event.get("party")) for event in published]
    assert ("node.part", "bob") in kinds
    assert {"node.log", "node.warning"} <= {kind for kind, _ in kinds}
    assert FULL_WARNING not in str(published)


def test_a_failed_part_shows_its_public_text_and_the_end_closes_the_rest(run, at_alice):
    first, second, *rest = nodes_of(run)
    public = "ValueError at party bob in node read: a value is not valid. Details: bob only."
    report(
        at_alice["bob"],
        run,
        batch(
            ("status", {"node": first, "status": "succeeded", "message": ""}),
            ("status", {"node": second, "status": "running", "message": ""}),
            ("status", {"node": second, "status": "failed", "message": public}),
            ("end", {"status": "failed", "message": f"failed at {second} at bob: {public}"}),
        ),
    )
    assert (part(run, first).status, part(run, first).progress) == (Status.SUCCEEDED, 100)
    assert (part(run, second).status, part(run, second).message) == (Status.FAILED, public)
    for node_id in rest:
        assert part(run, node_id).status == Status.SKIPPED
        assert part(run, node_id).message == f"failed at {second} at bob: {public}"


def test_a_peer_taking_no_part_or_an_unknown_run_is_refused(run, at_alice):
    first = nodes_of(run)[0]
    events_ = batch(("progress", {"node": first, "percent": 10}))
    with pytest.raises(Refused, match="carol takes no part in run"):
        report(at_alice["carol"], run, events_)
    missing = Run(pk=run.pk + 100)
    with pytest.raises(Refused, match=f"bob takes no part in run {run.pk + 100}"):
        report(at_alice["bob"], missing, events_)
    assert NodePart.objects.filter(party="carol").count() == 0


def test_a_member_cannot_report_another_partys_part(run, at_alice):
    first = nodes_of(run)[0]
    events_ = batch(("status", {"node": first, "status": "failed", "message": "alice broke"}))
    with pytest.raises(Refused, match="bob may report only its own part of a run, not alice's"):
        report(at_alice["bob"], run, events_, party="alice")
    warning = {"node": first, "about": "alice", "message": "alice's ages are odd"}
    with pytest.raises(Refused, match="not alice's"):
        report(at_alice["bob"], run, batch(("warning", warning)))
    assert part(run, first, "alice").status == Status.PENDING
    assert part(run, first, "bob").warnings == []


def test_a_replay_is_refused_and_a_redelivery_answered_once(run, at_alice):
    first = nodes_of(run)[0]
    line = {"time": "t", "level": "info", "message": "once"}
    events_ = batch(("log", {"node": first, "line": line}))
    first_reply = report(at_alice["bob"], run, events_, message="a" * 32)
    again = report(at_alice["bob"], run, events_, message="a" * 32)  # a lost reply, re-sent
    assert again == first_reply | {"redelivered": True}
    with pytest.raises(Refused, match="event 1 of bob's report comes after event 1"):
        report(at_alice["bob"], run, events_)  # the same events under a fresh id
    assert [line["message"] for line in part(run, first).logs] == ["once"]


def test_regressions_and_out_of_order_batches_are_refused_whole(run, at_alice, published):
    first, second = nodes_of(run)[:2]
    done = {"node": first, "status": "succeeded", "message": ""}
    report(at_alice["bob"], run, batch(("status", done)))
    published.clear()
    line = {"time": "t", "level": "info", "message": "must not stay"}
    backwards = batch(
        ("log", {"node": second, "line": line}),
        ("status", {"node": first, "status": "running", "message": ""}),
    )
    backwards = [event | {"seq": event["seq"] + 1} for event in backwards]
    with pytest.raises(Refused, match=f"bob's part of node {first} is succeeded: it cannot"):
        report(at_alice["bob"], run, backwards)
    late = [{"seq": 9, "kind": "progress", "node": first, "percent": 50}]
    with pytest.raises(Refused, match="it has no progress"):
        report(at_alice["bob"], run, late)
    unordered = [
        {"seq": 7, "kind": "progress", "node": second, "percent": 5},
        {"seq": 6, "kind": "progress", "node": second, "percent": 6},
    ]
    with pytest.raises(Refused, match="not in increasing order"):
        report(at_alice["bob"], run, unordered)
    assert part(run, second).logs == []
    assert part(run, second).progress == 0
    assert part(run, first).status == Status.SUCCEEDED
    assert published == []  # nothing of a refused batch reached the canvas


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"kind": "status", "node": "?", "status": "succeeded"}, "has no node"),
        ({"kind": "status", "status": "won"}, "'status' is not one of"),
        ({"kind": "progress", "percent": 101}, "not a percentage"),
        ({"kind": "log", "line": {"level": "shout", "message": "x"}}, "'level' is not one of"),
        ({"kind": "teleport"}, "'kind' is not one of"),
        ({"kind": "status", "status": "running", "seq": 0}, "'seq' is not a whole number"),
    ],
)
def test_malformed_events_are_refused_naming_the_problem(run, at_alice, event, problem):
    event = {"seq": 1, "node": nodes_of(run)[0], "message": ""} | event
    with pytest.raises(Refused, match=problem) as refused:
        report(at_alice["bob"], run, [event])
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_parts_without_news_take_the_outcome_every_party_confirmed(run, at_alice, monkeypatch):
    """Alice's own part, as her worker runs it: her part is recorded from her own events; bob,
    lost after starting, sent nothing more, and his parts take what the links confirmed."""
    first, second, *rest = nodes_of(run)
    running_ = {"node": first, "status": "running", "message": ""}
    report(at_alice["bob"], run, batch(("status", running_)))
    lost = "lost contact with bob: the link closed"

    def alices_part(job, network, report, cancelled, keep):
        emit = {"event": "node.status", "party": "alice"}
        report(emit | {"node": first, "status": "running"})
        report({"event": "node.progress", "party": "alice", "node": first, "percent": 60})
        report(emit | {"node": first, "status": "succeeded", "message": "", "public": ""})
        report(emit | {"node": second, "status": "running"})
        failed = {"status": "failed", "message": lost, "public": lost, "failed_party": "bob"}
        report(emit | {"node": second} | failed)
        outcomes = {
            first: NodeOutcome("succeeded"),
            second: NodeOutcome("failed", lost, lost, "bob"),
        }
        return PartyResult("failed", f"failed at {second} at bob: {lost}", outcomes)

    monkeypatch.setattr(member_runs, "run_party", alices_part)
    job = {**json.loads(start_body_job(run)), "storage_root": "/tmp/alice"}
    engines = {"alice": "127.0.0.1:7101", "bob": "127.0.0.1:7102"}
    assert member_runs.execute_part(run.pk, job, engines) == Status.FAILED
    assert part(run, first, "alice").status == Status.SUCCEEDED
    assert render(part(run, second, "alice").message) == lost
    assert part(run, first).status == Status.SUCCEEDED
    assert part(run, second).status == Status.FAILED
    assert render(part(run, second).message) == f"no report from bob: {lost}"
    assert {part(run, node_id).status for node_id in rest} == {Status.SKIPPED}
    assert part(run, second).closed_without_report
    # Bob's last batch, arriving once alice closed his parts: out-of-date progress and running
    # statuses are ignored, his lines kept, and his own word on how a part ended replaces the
    # one assumed here.
    line = {"time": "t", "level": "error", "message": "bob: the engine link closed"}
    late = [
        {"seq": 2, "kind": "progress", "node": first, "percent": 90},
        {"seq": 3, "kind": "status", "node": first, "status": "succeeded", "message": ""},
        {"seq": 4, "kind": "status", "node": second, "status": "running", "message": ""},
        {"seq": 5, "kind": "log", "node": second, "line": line},
        {"seq": 6, "kind": "status", "node": second, "status": "failed", "message": lost},
        {"seq": 7, "kind": "end", "status": "failed", "message": "failed at bob"},
    ]
    assert report(at_alice["bob"], run, late)["applied"] == 6
    assert (part(run, first).status, part(run, first).progress) == (Status.SUCCEEDED, 100)
    assert (part(run, second).status, part(run, second).message) == (Status.FAILED, lost)
    assert not part(run, second).closed_without_report
    assert part(run, second).logs[0]["message"] == "bob: the engine link closed"
    assert {part(run, node_id).status for node_id in rest} == {Status.SKIPPED}
    # Now that bob said how his part ended, it is final like any other.
    again = [{"seq": 8, "kind": "status", "node": second, "status": "cancelled", "message": ""}]
    with pytest.raises(Refused, match="is failed: it cannot become cancelled"):
        report(at_alice["bob"], run, again)


def start_body_job(run: Run) -> str:
    from console.datasets.pipeline_sources import ConsoleSources
    from console.federation.initiate import party_job
    from workflows.party_jobs import job_to_dict

    sources = ConsoleSources().sources(run.pipeline.project_id)
    job = party_job(run, sources, ("alice", "bob"), "alice", Path("/tmp/alice"))
    return json.dumps(job_to_dict(job))


def running(run: Run) -> Run:
    from workflows.recovery import executor_id

    # What the fixtures queued for bob went out long ago (messages to a peer go in order).
    OutgoingMessage.objects.update(state="delivered")
    return state.claim_run(run.pk, executor_id())


def test_cancelling_tells_every_member_first_and_retries_one_that_is_down(
    run, at_alice, alice_user, monkeypatch
):
    from workflows import services
    from workflows.actors import Actor

    running(run)
    order = []
    monkeypatch.setattr(cancellation, "signal_cancel", lambda run_id: order.append("own part"))

    def unreachable(peer, method, body, message_id, timeout=outbox.TIMEOUT):
        order.append(f"{method} to {peer.name}")
        raise NodeCallError(peer.name, "h:1", "connection refused", "unavailable")

    monkeypatch.setattr(outbox, "call", unreachable)
    services.cancel_run(Actor.for_user(alice_user), Run.objects.get(pk=run.pk))
    assert order == ["RunAbort to bob", "own part"]
    [abort] = OutgoingMessage.objects.filter(method="RunAbort")
    assert abort.body | {"reason": render(abort.body["reason"])} == {
        "run": run.pk,
        "cancel": True,
        "reason": "cancelled at alice",
    }
    assert (abort.state, abort.attempts) == ("pending", 1)
    assert Run.objects.get(pk=run.pk).cancel_requested

    monkeypatch.setattr(outbox, "call", lambda *args, **kwargs: {"cancelled": True})
    outbox.deliver_pending()  # the node service's health loop, once bob is back
    abort.refresh_from_db()
    assert (abort.state, abort.attempts) == ("delivered", 2)


def test_a_run_cancelled_before_it_started_closes_every_part(
    run, at_alice, alice_user, monkeypatch
):
    from workflows import services
    from workflows.actors import Actor

    OutgoingMessage.objects.update(state="delivered")
    monkeypatch.setattr(outbox, "call", lambda *args, **kwargs: {"cancelled": True})
    services.cancel_run(Actor.for_user(alice_user), Run.objects.get(pk=run.pk))
    assert Run.objects.get(pk=run.pk).status == Status.CANCELLED
    assert set(NodePart.objects.values_list("status", flat=True)) == {Status.CANCELLED}
    assert OutgoingMessage.objects.get(method="RunAbort").state == "delivered"


def test_a_batch_is_cut_to_fit_a_message():
    stream = ReportStream()
    for index in range(300):
        line = {"time": "t", "level": "info", "message": "x" * 500}
        stream.add("log", node=f"n{index % 3}", line=line)
    stream.add("progress", node="n0", percent=10)
    stream.add("progress", node="n0", percent=20)  # replaces the one not sent yet
    batches = stream.take()
    assert len(batches) > 1
    assert all(len(str(b)) < run_events.MAX_BATCH_BYTES * 1.1 for b in batches)
    assert all(len(b) <= run_events.MAX_EVENTS for b in batches)
    seqs = [event["seq"] for b in batches for event in b]
    assert seqs == sorted(seqs)
    progress = [event for b in batches for event in b if event["kind"] == "progress"]
    assert [event["percent"] for event in progress] == [20]
    assert stream.take() == []


def test_a_node_lost_before_its_launch_cancels_the_run_everywhere(alices_run, alice, monkeypatch):  # noqa: F811
    from console.federation import initiate

    run, sources = alices_run

    def answer(peer, method, body):
        if (peer.name, method) == ("carol", "RunLaunch"):
            raise NodeCallError("carol", "h:1", "connection refused", "unavailable")
        return {"accepted": True, "engine": "127.0.0.1:7109"}

    monkeypatch.setattr(initiate, "_prepare", lambda *call: lambda: answer(*call))
    with pytest.raises(initiate.NodesUnavailable, match="carol: unreachable"):
        initiate.start_across_nodes(run, sources, ("alice", "bob", "carol"), alice)
    run = Run.objects.get(pk=run.pk)
    assert run.status == Status.CANCELLED
    assert "carol: unreachable" in render(run.message)
    aborts = {m.peer.name: m.body for m in OutgoingMessage.objects.filter(method="RunAbort")}
    assert aborts["bob"]["cancel"] is True  # launched: its worker may have started
    assert render(aborts["bob"]["reason"]).startswith("not started: carol: unreachable")
    assert "cancel" not in aborts["carol"]
    assert set(NodePart.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_the_end_of_a_partys_run_closes_a_part_it_left_running(run, at_alice):
    first, second, *_ = nodes_of(run)
    report(
        at_alice["bob"],
        run,
        batch(
            ("status", {"node": first, "status": "running", "message": ""}),
            ("end", {"status": "failed", "message": "bob lost alice"}),
        ),
    )
    assert (part(run, first).status, part(run, first).message) == (Status.FAILED, "bob lost alice")
    assert part(run, second).status == Status.SKIPPED


def test_a_party_that_ended_before_joining_fails_alices_start_at_once_naming_it(
    run, at_alice, monkeypatch, tmp_path
):
    """Bob's worker could not start his links and his report says so: alice's own part, which
    would dial him until her 30 s connect timeout, fails at once naming him and his reason."""
    from tests.core.comm.conftest import loopback_addresses
    from workflows.party_jobs import Network

    why = "this node could not join the run's links: the route to alice is disabled"
    report(at_alice["bob"], run, batch(("end", {"status": "failed", "message": why})))

    def plaintext_links(parties, me, engines, dealer="") -> Network:
        addresses = loopback_addresses(parties)  # nobody listens at bob's
        config = {"parties": {p: {"address": addresses[p]} for p in parties}, "self_party": me}
        return Network(config, insecure_plaintext=True, connect_timeout=30)

    monkeypatch.setattr(member_runs, "engine_network", plaintext_links)
    job = {**json.loads(start_body_job(run)), "storage_root": str(tmp_path)}
    started = time.monotonic()
    assert member_runs.execute_part(run.pk, job, {}) == Status.FAILED
    assert time.monotonic() - started < 10
    run.refresh_from_db()
    said = render(run.message)
    assert said == f"cannot reach bob: the run refuses to start (bob aborted: {why})"
    assert {node.status for node in run.nodes.all()} == {Status.SKIPPED}
