"""A throwaway console for pipeline benchmarks: importing this module sets it up.

SQLite and node storage live in a temporary data directory (removed by `cleanup()`), the demo
is loaded with `bootstrap_demo`, and `time_components(spent)` makes the executor use a
registry whose components add their own `run` time to `spent` (by component key), so a
benchmark can split a run's wall time into the components' work and orchestration.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Worker processes (PSI's forkserver pool) import the benchmark again: they inherit the
# parent's directory through this variable instead of each making one nobody removes.
if "PRIVPAD_BENCH_DATA_DIR" not in os.environ:
    os.environ["PRIVPAD_BENCH_DATA_DIR"] = tempfile.mkdtemp(prefix="privpad-bench-")
os.environ["PRIVPAD_DATA_DIR"] = os.environ["PRIVPAD_BENCH_DATA_DIR"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402


def load_demo() -> None:
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("bootstrap_demo", stdout=quiet)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (all its threads) and by the shared PSI
    worker processes (children of the forkserver, so not counted as our children)."""
    from core.psi import kernels

    total = time.process_time()
    pool = kernels._shared_pool
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue  # a worker that just ended
    return total


def time_components(spent: dict[str, float], cpu: dict[str, float] | None = None) -> None:
    """Run every pipeline with the library's components timed into `spent` (wall seconds)
    and, when given, `cpu` (CPU seconds of this process and the PSI workers: `cpu_seconds`;
    other work running at the same time in this process counts too)."""
    from workflows import executor, services
    from workflows.components import discover
    from workflows.components.spec import Registry

    def timed(component):
        def run(ctx):
            start, used = time.perf_counter(), cpu_seconds() if cpu is not None else 0.0
            try:
                component.run(ctx)
            finally:
                spent[component.key] = spent.get(component.key, 0.0) + time.perf_counter() - start
                if cpu is not None:
                    cpu[component.key] = cpu.get(component.key, 0.0) + cpu_seconds() - used

        return dataclasses.replace(component, run=run)

    registry = Registry([timed(component) for component in discover()])
    executor.registry = services.registry = lambda: registry


def cleanup() -> None:
    shutil.rmtree(os.environ["PRIVPAD_DATA_DIR"], ignore_errors=True)
