"""A run's phases at this node, timestamped: where the orchestration of a run spends its time.

A run across nodes passes through three processes or more (the initiator's console, each
member's node service); its wall time is the engine's work plus what the consoles do around it
(validation, consent, `RunStart`/`RunLaunch`, worker start, the links' start, reports). With
`PRIVPAD_RUN_TIMELINE` on, `mark(run, phase)` logs one line per phase on the
`privpad.timeline` logger:

    run=<initiator's run id> phase=<name> at=<epoch seconds> cpu=<process CPU seconds> k=v ...

`at` is the wall clock (the nodes of one machine share it: `benchmarks/network_console.py`
merges the lines of the three nodes into one timeline); `cpu` is this process's CPU time, so
the CPU a phase took at a node is the difference between two marks of that node (other runs
of the process count too: profile one run at a time). The run is named by the initiator's id
at every node (a member's `PartyJob.run_id`), so the marks of all nodes of a run line up.
Off (the default), `mark` costs one level check. On, the process's full garbage collections
(generation 2, which walk every object: tens of ms in a process that ran an engine) are marked
too, as phase `gc` of no run (`run=-`) with their `seconds`: a CPU jump between two marks of a
run may be one of them.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

logger = logging.getLogger("privpad.timeline")


def mark(run: int | str | None, phase: str, **fields) -> None:
    """Log that `run` (None: one not created yet) reached `phase` at this node now (`fields`:
    small facts without spaces, e.g. a node id)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    _watch_collections()
    extra = "".join(f" {key}={value}" for key, value in fields.items())
    now, cpu = time.time(), time.process_time()
    logger.info("run=%s phase=%s at=%.6f cpu=%.6f%s", run or "-", phase, now, cpu, extra)


_gc_lock = threading.Lock()
_gc_started: list[float] = []  # when the running full collection began (one at a time)


def _watch_collections() -> None:
    with _gc_lock:
        if _on_collection not in gc.callbacks:
            gc.callbacks.append(_on_collection)


def _on_collection(phase: str, info: dict) -> None:
    if info.get("generation") != 2:
        return
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        seconds = time.perf_counter() - _gc_started.pop()
        # Straight to the logger: `mark` from inside a collection would allocate its fields.
        logger.info(
            "run=- phase=gc at=%.6f cpu=%.6f seconds=%.4f collected=%s",
            time.time(),
            time.process_time(),
            seconds,
            info.get("collected"),
        )


def read(lines) -> list[dict]:
    """The marks in log `lines` (other lines ignored), each {"run", "phase", "at", "cpu", ...}:
    the reading half of `mark`, for benchmarks."""
    found = []
    for line in lines:
        _, sep, rest = line.partition("privpad.timeline: ")
        if not sep:
            continue
        entry = dict(word.split("=", 1) for word in rest.split() if "=" in word)
        if {"run", "phase", "at", "cpu"} <= entry.keys():
            entry["at"], entry["cpu"] = float(entry["at"]), float(entry["cpu"])
            found.append(entry)
    return found
