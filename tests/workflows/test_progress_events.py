"""Progress is published sparingly: a burst of engine progress cannot flood a listener's
channel (layers drop what does not fit) and crowd out the status events after it."""

from __future__ import annotations

import pytest

from tests.workflows.runs import new_run
from workflows import events, state
from workflows.models import Status
from workflows.state import progress

pytestmark = pytest.mark.django_db


def test_a_burst_of_progress_publishes_a_few_events_and_the_status_carries_the_last(
    credit_pipeline,
):
    run = new_run(credit_pipeline)
    node = run.nodes.get(node_id="split")
    seen: list[dict] = []
    with events.listening(seen.append):
        state.set_node_status(node, Status.RUNNING)
        for percent in range(1, 100):
            state.set_node_progress(node, percent)
        state.set_node_status(node, Status.SUCCEEDED)
    progress = [event for event in seen if event["type"] == "node.progress"]
    assert 1 <= len(progress) <= 3, progress  # 99 updates within a fraction of a second
    assert seen[-1]["type"] == "node.status"
    assert seen[-1]["progress"] == 100
    node.refresh_from_db()
    assert node.progress == 100


def test_progress_after_a_pause_is_published(credit_pipeline, monkeypatch):
    run = new_run(credit_pipeline)
    node = run.nodes.get(node_id="split")
    clock = iter([10.0, 10.05, 10.2])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    seen: list[dict] = []
    with events.listening(seen.append):
        for percent in (10, 20, 30):
            state.set_node_progress(node, percent)
    assert [event["progress"] for event in seen] == [10, 30]
