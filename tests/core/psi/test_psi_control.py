"""Progress reporting, cancellation and pool handling."""

import threading

import pytest

from core.errors import PartyFailure
from core.psi import run_local_psi
from core.psi.errors import PsiCancelled


def test_progress_is_monotone_and_reaches_one(psi_pool):
    seen = {"party0": [], "party1": []}
    lock = threading.Lock()

    def progress(party, fraction):
        with lock:
            seen[party].append(fraction)

    values = [f"v{i}" for i in range(400)]
    run_local_psi(
        [values, values[100:]], [None, None], pool=psi_pool, chunk_size=25, progress=progress
    )
    for party, fractions in seen.items():
        assert fractions, f"{party} reported no progress"
        assert fractions == sorted(fractions), f"{party}: {fractions}"
        assert fractions[-1] == 1.0
        assert len(fractions) > 5, f"{party} reported too coarsely: {fractions}"


def test_cancel_stops_the_run_between_chunks(psi_pool):
    calls = []

    def should_cancel():
        calls.append(1)
        return len(calls) > 3

    values = [f"v{i}" for i in range(400)]
    with pytest.raises(PartyFailure) as info:
        run_local_psi(
            [values, values],
            [None, None],
            pool=psi_pool,
            chunk_size=10,
            should_cancel=should_cancel,
        )
    assert isinstance(info.value.error, PsiCancelled)
    assert len(calls) < 40, "cancel was not checked between chunks"


def test_it_runs_with_its_own_pool_and_stops_it():
    before = threading.active_count()
    results = run_local_psi([["a", "b"], ["b", "c"]], [None, None], workers=1)
    assert [len(r.rows) for r in results] == [1, 1]
    assert threading.active_count() == before, "the pool's threads outlived the run"
