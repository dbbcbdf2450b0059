"""/ws/runs/<id>/: session authentication, members only, snapshot then events in order."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_tasks import task_backends

from console.asgi import application
from tests.workflows.conftest import edge, node
from tests.workflows.runs import new_run
from workflows import redaction, services, state
from workflows.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED

pytestmark = pytest.mark.django_db(transaction=True)
FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


def _headers(user=None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


def _connect(run_id: int, user=None):
    headers = _headers(user)

    async def attempt():
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run_id}/", headers)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(attempt)()


@pytest.fixture
def small_pipeline(pipeline_factory, credit):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    return pipeline_factory(graph)


def test_anonymous_users_are_refused(small_pipeline):
    run = new_run(small_pipeline)
    assert _connect(run.pk) == (False, CLOSE_UNAUTHENTICATED)


def test_outsiders_are_refused(small_pipeline, carol_user):
    run = new_run(small_pipeline)
    assert _connect(run.pk, carol_user) == (False, CLOSE_FORBIDDEN)


def test_unknown_runs_are_refused_like_forbidden_ones(bob_user):
    assert _connect(999, bob_user) == (False, CLOSE_FORBIDDEN)


def test_a_member_gets_a_snapshot_then_events_in_order(small_pipeline, bob_user):
    run = new_run(small_pipeline)
    headers = _headers(bob_user)

    async def watch() -> list[dict]:
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        connected, _ = await communicator.connect()
        assert connected
        received = [await communicator.receive_json_from(timeout=10)]
        await sync_to_async(services.enqueue)(run)
        while not (received[-1]["type"] == "run.status" and received[-1]["status"] in FINISHED):
            received.append(await communicator.receive_json_from(timeout=30))
        await communicator.disconnect()
        return received

    received = async_to_sync(watch)()
    backend = task_backends["default"]
    for future in list(backend.futures.values()):
        future.result(timeout=30)

    snapshot = received[0]
    assert snapshot["type"] == "run.snapshot"
    assert [n["node"] for n in snapshot["run"]["nodes"]] == ["read", "stats"]
    assert snapshot["run"]["status"] == "pending"
    assert received[1] == {"type": "run.status", "run": run.pk, "status": "running", "message": ""}
    assert received[-1]["status"] == "succeeded"

    def positions(node_id: str, kind: str, status: str | None = None) -> list[int]:
        return [
            i
            for i, event in enumerate(received)
            if event.get("node") == node_id
            and event["type"] == kind
            and (status is None or event.get("status") == status)
        ]

    for node_id in ("read", "stats"):
        running = positions(node_id, "node.status", "running")
        done = positions(node_id, "node.status", "succeeded")
        work = positions(node_id, "node.progress") + positions(node_id, "node.log")
        assert len(running) == len(done) == 1, received
        assert work, received
        assert running[0] < min(work), received
        assert max(work) < done[0], received
    assert (
        positions("read", "node.status", "succeeded")[0]
        < positions("stats", "node.status", "running")[0]
    )


def _watch_warning(run, user, add) -> tuple[dict, dict, dict]:
    """(snapshot, node.warning event, node.log event) as `user` receives them when `add()`
    records a warning."""
    headers = _headers(user)

    async def watch() -> list[dict]:
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        connected, _ = await communicator.connect()
        assert connected
        received = [await communicator.receive_json_from(timeout=10)]
        await sync_to_async(add)()
        received.append(await communicator.receive_json_from(timeout=10))
        received.append(await communicator.receive_json_from(timeout=10))
        await communicator.disconnect()
        return received

    snapshot, warning, line = async_to_sync(watch)()
    assert (warning["type"], line["type"]) == ("node.warning", "node.log")
    return snapshot, warning, line


def test_a_warning_about_no_partys_data_reaches_members_as_it_is(small_pipeline, bob_user):
    run = new_run(small_pipeline)
    node_run = run.nodes.get(node_id="stats")
    text = "training made no progress"
    snapshot, warning, line = _watch_warning(
        run, bob_user, lambda: state.add_node_warning(node_run, text, None)
    )
    assert snapshot["run"]["nodes"][1]["warnings"] == []
    assert (warning["node"], warning["warning"]["message"]) == ("stats", text)
    assert (line["line"]["level"], line["line"]["message"]) == ("warning", text)
    node_run.refresh_from_db()
    assert [w["message"] for w in node_run.warnings] == [text]


ALICES_WARNING = "features not scaled at alice: income go beyond ±10. Fix: add a scaler"


def test_bob_receives_only_that_alice_has_a_warning(small_pipeline, bob_user):
    """An adversarial member's socket: neither event nor snapshot carries alice's text."""
    run = new_run(small_pipeline)
    node_run = run.nodes.get(node_id="stats")
    _, warning, line = _watch_warning(
        run, bob_user, lambda: state.add_node_warning(node_run, ALICES_WARNING, "alice")
    )
    public = str(redaction.warning_public("alice"))
    assert (warning["warning"]["message"], warning["warning"]["redacted"]) == (public, True)
    assert (line["line"]["level"], line["line"]["message"]) == ("warning", public)
    for event in (warning, line):
        assert "income" not in json.dumps(event, ensure_ascii=False)
        assert "±" not in json.dumps(event, ensure_ascii=False)
    snapshot, _, _ = _watch_warning(
        run, bob_user, lambda: state.add_node_warning(node_run, "another", "alice")
    )
    assert "income" not in json.dumps(snapshot), snapshot
    assert snapshot["run"]["nodes"][1]["warnings"][0]["message"] == public


def test_alice_receives_her_own_warning_in_full(small_pipeline, alice_user):
    run = new_run(small_pipeline)
    node_run = run.nodes.get(node_id="stats")
    _, warning, line = _watch_warning(
        run, alice_user, lambda: state.add_node_warning(node_run, ALICES_WARNING, "alice")
    )
    assert (warning["warning"]["message"], warning["warning"]["redacted"]) == (
        ALICES_WARNING,
        False,
    )
    assert (line["line"]["message"], line["line"]["redacted"]) == (ALICES_WARNING, False)
    snapshot, _, _ = _watch_warning(
        run, alice_user, lambda: state.add_node_warning(node_run, "another", "alice")
    )
    assert snapshot["run"]["nodes"][1]["warnings"][0]["message"] == ALICES_WARNING
    assert snapshot["run"]["nodes"][1]["logs"][0]["message"] == ALICES_WARNING


def test_a_run_written_by_another_process_is_followed_from_the_database(
    small_pipeline, alice_user, monkeypatch
):
    """A network run's parts are written by the node service, another process: with the
    in-memory channel layer its events never reach this one, so the consumer reads them back
    (`workflows.relay`) as the same events, already as the viewer may see them."""
    from workflows import events, relay
    from workflows.models import NodePart, Run
    from workflows.recovery import executor_id

    monkeypatch.setattr(relay, "POLL_SECONDS", 0.05)
    run = new_run(small_pipeline)
    state.open_parts(run, ("alice", "bob"))
    state.claim_run(run.pk, executor_id())
    headers = _headers(alice_user)
    warning = "bob's income goes beyond ±10: 98213.5"

    def elsewhere() -> None:
        monkeypatch.setattr(events, "publish", lambda *args, **kwargs: None)
        bob = NodePart.objects.select_related("node_run").get(node_run__node_id="read", party="bob")
        state.set_part_status(bob, "running", "", sequence=1)
        state.set_part_progress(bob, 35, sequence=2)
        line = {"time": "2026-12-04T10:00:00+00:00", "level": "info", "message": "30 rows"}
        state.add_part_log(bob, line, sequence=3)
        state.add_part_warning(bob, warning, "bob", sequence=4)
        state.set_run_status(Run.objects.get(pk=run.pk), "failed", "failed at read at bob")

    async def watch() -> list[dict]:
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers)
        connected, _ = await communicator.connect()
        assert connected
        received = [await communicator.receive_json_from(timeout=10)]
        await sync_to_async(elsewhere)()
        while received[-1]["type"] != "run.status":
            received.append(await communicator.receive_json_from(timeout=10))
        await communicator.disconnect()
        return received

    received = async_to_sync(watch)()
    kinds = [message["type"] for message in received]
    assert kinds[0] == "run.snapshot"
    [part] = [m for m in received if m["type"] == "node.part"]
    assert (part["node"], part["party"], part["status"], part["progress"]) == (
        "read",
        "bob",
        "running",
        35,
    )
    lines = [m["line"] for m in received if m["type"] == "node.log"]
    assert [(line["message"], line["at"]) for line in lines][0] == ("30 rows", "bob")
    [shown] = [m["warning"] for m in received if m["type"] == "node.warning"]
    assert shown["redacted"]
    assert shown["at"] == "bob"
    assert warning not in json.dumps(received)  # only bob's node reads its details
    assert received[-1] == {
        "type": "run.status",
        "run": run.pk,
        "status": "failed",
        "message": "failed at read at bob",
    }


def test_a_run_of_this_process_or_a_shared_layer_is_not_polled(small_pipeline, settings):
    from workflows import relay
    from workflows.recovery import executor_id

    run = new_run(small_pipeline)
    assert relay.written_elsewhere(run.pk)  # not claimed yet: whoever claims it may be elsewhere
    state.claim_run(run.pk, executor_id())
    assert not relay.written_elsewhere(run.pk)
    state.open_parts(run, ("alice", "bob"))
    assert relay.written_elsewhere(run.pk)  # the other parties' reports
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        assert not relay.written_elsewhere(run.pk)
    finally:
        channel_layers.backends.clear()
