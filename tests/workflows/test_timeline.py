"""A run's phases, timestamped at each node (`workflows.timeline`), and read back by benchmarks."""

from __future__ import annotations

import logging

from workflows import timeline


def test_marks_are_logged_only_when_turned_on_and_read_back(caplog):
    with caplog.at_level(logging.WARNING, logger="privpad.timeline"):
        timeline.mark(7, "links.up")
    assert caplog.records == []
    with caplog.at_level(logging.INFO, logger="privpad.timeline"):
        timeline.mark(7, "node.start", node="read_alice")
        timeline.mark(None, "run.requested", pipeline=3)
    lines = [f"2026-12-04 INFO privpad.timeline: {r.getMessage()}" for r in caplog.records]
    started, requested = timeline.read(["unrelated line", *lines])
    assert (started["run"], started["phase"], started["node"]) == ("7", "node.start", "read_alice")
    assert (requested["run"], requested["pipeline"]) == ("-", "3")
    assert started["at"] <= requested["at"]
    assert started["cpu"] <= requested["cpu"]
