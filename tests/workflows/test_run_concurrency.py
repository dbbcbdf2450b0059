"""PRIVPAD_RUN_THREADS caps the runs executing in the process, however many requests start
them (django-tasks gives every request context a back-end instance of its own)."""

from __future__ import annotations

import threading
import time

import pytest
from django_tasks import task

from workflows.backends import ThreadPoolBackend

running = 0
peak = 0
counter_lock = threading.Lock()
release = threading.Event()


@task()
def occupy() -> int:
    global running, peak
    with counter_lock:
        running += 1
        peak = max(peak, running)
    release.wait(30)
    with counter_lock:
        running -= 1
    return peak


@pytest.fixture
def backends():
    global peak
    peak = 0
    release.clear()
    made = [ThreadPoolBackend("cap-test", {"OPTIONS": {"max_workers": 2}}) for _ in range(5)]
    yield made
    release.set()
    made[0].shutdown()


def test_five_runs_from_five_requests_execute_two_at_a_time(backends):
    results = [backend.enqueue(occupy, (), {}) for backend in backends]
    deadline = time.monotonic() + 10
    while running < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # room for a third to start, were the cap broken
    assert (running, peak) == (2, 2)
    release.set()
    for result in results:
        backends[-1].wait(result.id, timeout=30)
    assert peak == 2
    # Every instance sees every result: they share one pool and one result table.
    assert {backends[0].get_result(r.id).status.name for r in results} == {"SUCCESSFUL"}
