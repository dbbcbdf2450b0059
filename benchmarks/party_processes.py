"""A run with each party in its own OS process, and each party process's resident memory.

`run_in_processes(make_job, parties, storage, scratch)` starts one `manage.py runpart` process
per party on loopback, with mutual TLS over pinned throwaway certificates: the party cluster
of the network tests (`tests.workflows.network.party_cluster.PartyCluster`, which
`network_pipeline.py` uses too). While they run, `ProcessMemory` reads every party process's
resident memory every 20 ms from `/proc/<pid>/statm`, and that of its descendants (PSI's
worker pool: forkserver children) as `with_workers`. Each party's `node.status` events are
timestamped on arrival, so a node's window at a party (running -> finished) selects the
samples taken while that party ran it (and the one either side, for nodes shorter than
20 ms). Summed RSS counts pages shared between a party's processes more than once:
`with_workers` is an upper bound of that party's memory.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.workflows.network.party_cluster import PartyCluster

SAMPLE_SECONDS = 0.02
LINK_TIMEOUT_S = 600.0  # a party may compute for minutes at 1M rows before it next sends
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0  # the process just ended


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as children:
                    kids = [int(k) for k in children.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            pending.extend(kids)
    return found


class ProcessMemory:
    """Resident memory of each party's process (and with its descendants) every 20 ms."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, dict[str, int], dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            own, tree = {}, {}
            for party, pid in self.pids.items():
                own[party] = _rss(pid)
                tree[party] = own[party] + sum(_rss(kid) for kid in _descendants(pid))
            self.samples.append((time.time(), own, tree))
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> ProcessMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, party: str, start: float = 0.0, end: float = float("inf")) -> dict[str, int]:
        """The largest samples of `party` from the last one taken before `start` to the first
        taken after `end`: a node shorter than the sampling interval still has its memory."""
        times = [at for at, _, _ in self.samples]
        first = max(0, bisect.bisect_left(times, start) - 1)
        last = bisect.bisect_right(times, end) + 1
        inside = [(o[party], t[party]) for _, o, t in self.samples[first:last]]
        return {
            "process": max((o for o, _ in inside), default=0),
            "with_workers": max((t for _, t in inside), default=0),
        }


class _LongLinks(PartyCluster):
    """The tests' cluster with the links' receive timeout of a production run (the tests'
    60 s is too short for a party that computes for minutes before it next sends)."""

    def _files(self, run_id: str, party: str, ports: dict[str, int]) -> list:
        files = super()._files(run_id, party, ports)
        network = Path(files[1])
        settings = json.loads(network.read_text()) | {"timeout": LINK_TIMEOUT_S}
        network.write_text(json.dumps(settings))
        return files


@dataclass
class ProcessRun:
    """What the party processes reported and what was measured around them."""

    results: dict[str, dict]  # party -> its `PartyResult.to_dict()` (the last stdout line)
    wall_s: float  # from starting the processes to the last exit
    memory: ProcessMemory
    windows: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # node->party->[t0,t1]

    def node_peak(self, node_id: str, party: str) -> dict[str, int]:
        start, end = self.windows[node_id][party]
        return self.memory.peak(party, start, end)


def run_in_processes(
    make_job: Callable,
    parties: tuple[str, ...],
    storage: dict[str, Path],
    scratch: Path,
    run_id: str = "1",
    wall: float = 3600.0,
) -> ProcessRun:
    """Run `make_job(run_id, {party: root}, party)` at every party, one process each; raise
    AssertionError naming the parties that did not succeed (with their stderr's tail)."""
    windows: dict[str, dict[str, list[float]]] = {}

    def on_event(party: str, event: dict, _cluster) -> None:
        if event.get("event") != "node.status":
            return
        window = windows.setdefault(event["node"], {}).setdefault(party, [time.time(), 0.0])
        if event.get("status") != "running":
            window[1] = time.time()

    cluster = _LongLinks(scratch, storage, parties=parties, make_job=make_job)
    started = time.time()
    cluster.start(run_id, on_event)
    with ProcessMemory({p: r.process.pid for p, r in cluster.runs.items()}) as memory:
        runs = cluster.wait(wall)
    elapsed = time.time() - started
    results = {party: run.result for party, run in runs.items()}
    failed = {
        party: (results[party] or {}).get("message") or runs[party].stderr[-2000:]
        for party in parties
        if not results[party] or results[party]["status"] != "succeeded"
    }
    if failed:
        raise AssertionError(f"party processes failed: {failed}")
    return ProcessRun(results, elapsed, memory, windows)
