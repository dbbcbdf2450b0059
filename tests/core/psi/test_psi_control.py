"""Progress reporting, cancellation and pool handling."""

import os
import subprocess
import sys
import threading
import time

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


def test_pool_workers_exit_when_their_owner_dies(tmp_path):
    script = tmp_path / "owner.py"
    script.write_text(
        "import os\n"
        "from core.psi.kernels import make_pool, hash_and_mask\n"
        "if __name__ == '__main__':\n"
        "    pool = make_pool(2)\n"
        "    pool.submit(hash_and_mask, bytes(32), [b'k']).result()\n"
        "    print(' '.join(map(str, pool._processes)), flush=True)\n"
        "    os._exit(0)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    # Output goes to a file: helper processes that inherit a pipe would keep it open.
    with open(tmp_path / "out.txt", "w") as out:
        subprocess.run(
            [sys.executable, str(script)],
            cwd=root,
            stdout=out,
            stderr=subprocess.DEVNULL,
            timeout=120,
            env=os.environ | {"PYTHONPATH": root},
            check=True,
        )
    pids = [int(p) for p in (tmp_path / "out.txt").read_text().split()]
    assert pids, "the owner printed no worker pids"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in pids), f"workers {pids} outlived their owner"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except FileNotFoundError:
        return False
