"""Websocket streams under load against daphne + Redis + db_worker: no status event lost.

Runs `benchmarks/ws_load.py` (the harness of `console.testing.wsload`) with small numbers and
no timing assertions (figures belong to the benchmark), in a process of its own: this process
has loaded daphne, which binds autobahn to Twisted, while the clients use asyncio. Skipped when
redis-server is missing (`make test` installs it). The stack runs on PostgreSQL when Debian's
server is installed (run starts are then concurrent), else on SQLite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.testing.livestack import redis_binary
from console.testing.wsload import (
    Watch,
    check_same_stream,
    check_watch,
    most_at_once,
    transitions,
)

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "ws_load.py"
CLIENTS_ON_ONE_RUN = 10
RUNS_AT_ONCE = 4
PHASE_TIMEOUT_SECONDS = 120
STATUS_EVENTS_PER_RUN = 2 + 2 * 2  # run: running, succeeded; each of 2 nodes: the same


@pytest.mark.skipif(
    redis_binary() is None, reason="redis-server is not installed (make test installs it)"
)
def test_every_client_sees_every_status_event_of_one_run_and_of_concurrent_runs():
    command = [sys.executable, str(BENCHMARK), "--clients", str(CLIENTS_ON_ONE_RUN)]
    command += ["--runs", str(RUNS_AT_ONCE), "--timeout", str(PHASE_TIMEOUT_SECONDS)]
    harness = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = harness.communicate(timeout=4 * PHASE_TIMEOUT_SECONDS)
    finally:
        if harness.poll() is None:  # timed out: SIGTERM lets it stop what it started
            harness.terminate()
            harness.communicate(timeout=60)
    assert stdout, stderr[-3000:]
    report = json.loads(stdout)
    one, many = report["one_run"], report["many_runs"]

    for phase, clients in ((one, CLIENTS_ON_ONE_RUN), (many, RUNS_AT_ONCE)):
        assert phase["problems"] == [], phase.get("daphne_log_tail")
        assert phase["clients"] == clients
        # The final state as each (run, viewing user) pair reads it: every run succeeded.
        assert set(phase["run_statuses"]) == {"succeeded"}
        assert phase["events_received"] >= clients * STATUS_EVENTS_PER_RUN
        assert phase["connect_to_snapshot_ms"]["n"] == clients
        # Two db_worker processes: the queued runs never exceed them (checked in `problems`).
        assert 1 <= phase["most_runs_executing_at_once"] <= 2
    assert harness.returncode == 0, stderr[-3000:]


# The checks themselves: a lost or reordered event must be reported, or the test above proves
# nothing.
FINAL = {
    "status": "succeeded",
    "started_at": "2026-12-04T10:00:00+00:00",
    "finished_at": "2026-12-04T10:00:02+00:00",
    "nodes": [
        {
            "node": "read",
            "status": "succeeded",
            "started_at": "2026-12-04T10:00:00+00:00",
            "finished_at": "2026-12-04T10:00:01+00:00",
            "logs": [{"time": "2026-12-04T10:00:01+00:00"}],
        }
    ],
}
SNAPSHOT = {"status": "pending", "nodes": [{"node": "read", "status": "pending"}]}
STREAM = [
    {"type": "run.status", "status": "running"},
    {"type": "node.status", "node": "read", "status": "running"},
    {"type": "node.log", "node": "read", "line": {"time": "2026-12-04T10:00:01+00:00"}},
    {"type": "node.status", "node": "read", "status": "succeeded"},
    {"type": "run.status", "status": "succeeded"},
]


def _watch(events: list[dict], user: str = "alice") -> Watch:
    watch = Watch(7, user, snapshot=SNAPSHOT, close_code=1000)
    watch.events = [(float(i), event) for i, event in enumerate(events)]
    return watch


def test_the_final_state_implies_the_transitions():
    assert transitions(FINAL) == ["pending", "running", "succeeded"]
    assert transitions({"status": "skipped", "started_at": None}) == ["pending", "skipped"]
    assert transitions({"status": "running", "started_at": None}) == ["pending", "running"]


def test_a_complete_stream_has_no_problem_and_a_repeat_after_the_snapshot_is_allowed():
    assert check_watch(_watch(STREAM), {(7, "alice"): FINAL}) == []
    repeated = [{"type": "run.status", "status": "pending"}, *STREAM]
    assert check_watch(_watch(repeated), {(7, "alice"): FINAL}) == []


@pytest.mark.parametrize("lost", range(len(STREAM)))
def test_any_lost_event_is_reported(lost):
    events = STREAM[:lost] + STREAM[lost + 1 :]
    problems = check_watch(_watch(events), {(7, "alice"): FINAL})
    assert len(problems) == 1
    assert "run 7 (alice)" in problems[0]


def test_reordered_statuses_and_an_abnormal_close_are_reported():
    swapped = [STREAM[0], STREAM[3], STREAM[2], STREAM[1], STREAM[4]]
    problems = check_watch(_watch(swapped), {(7, "alice"): FINAL})
    assert problems == [
        "run 7 (alice): node read statuses ['pending', 'succeeded', 'running'], "
        "expected ['pending', 'running', 'succeeded']"
    ]
    closed = _watch(STREAM)
    closed.close_code, closed.close_reason = 1011, ""
    assert check_watch(closed, {(7, "alice"): FINAL}) == ["run 7 (alice): closed with 1011 ''"]


def test_clients_of_one_run_that_received_different_streams_are_reported():
    same = [_watch(STREAM, "alice"), _watch(STREAM, "bob")]
    assert check_same_stream(same) == []
    progress = {"type": "node.progress", "node": "read", "progress": 50}
    different = [*same, _watch([*STREAM[:2], progress, *STREAM[2:]], "carol")]
    assert check_same_stream(different) == [
        "run 7 (carol): 6 events differ from another client's 5"
    ]


def test_the_most_runs_executing_at_once_come_from_their_times():
    def run(start: int, end: int) -> dict:
        return {
            "started_at": f"2026-12-04T10:00:{start:02d}+00:00",
            "finished_at": f"2026-12-04T10:00:{end:02d}+00:00",
        }

    assert most_at_once([]) == 0
    assert most_at_once([run(0, 5), run(1, 3), run(2, 4), run(6, 7)]) == 3
    # One finishing as the next starts: a worker taking its next run.
    assert most_at_once([run(0, 2), run(2, 4), run(4, 6)]) == 1
    assert most_at_once([run(0, 2), {"started_at": None, "finished_at": None}]) == 1
