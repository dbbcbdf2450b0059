"""The demo pipeline embedded (every party in this process) against three party processes.

Both runs execute the demo graph of "Joint credit risk" (`console.demo`: read x3 -> 3-party
PSI -> statistics, split -> fill -> scale -> SS-LR training -> prediction -> evaluation) with
the party worker (`workflows.party.run_party`). Embedded: in this process, the parties as
threads. Network: one `manage.py runpart` process per party on loopback, over the engine's
default link transport (`core.comm.transports`: raw TLS sockets) with mutual TLS (pinned
throwaway certificates), each writing only its own storage. The demo's size is fixed: the
script takes no options (no `--quick`).

Printed (one JSON object):
- `embedded` / `network`: wall seconds, seconds per node, bytes sent per party, the AUC;
- `network.processes_wall_s`: from starting the processes to the last exit (includes Python
  and Django start-up in each process, `startup_s`);
- `network.peak_rss_mib_per_party`: each party process's peak resident memory (sampled every
  20 ms by `party_processes.py`, which runs the processes);
- `network.orchestration`: per party, what the worker spends outside the components: opening
  the links and checking that every party runs the same run (`setup_s`), confirming each node
  with the others (`confirm_s`), the rest (events, bookkeeping) and their share of the party's
  run (`overhead_share`; issue 13's target: under 5%). Setup includes waiting for the parties
  whose processes started later; `orchestration_without_start_skew` counts the links' own
  setup instead (that of the party that started last).

    .venv/bin/python benchmarks/network_pipeline.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")


def embedded(root: Path) -> dict:
    from tests.workflows.network.demo_job import PARTIES, demo_job
    from workflows.party import run_party

    storage = {party: root / party for party in PARTIES}
    started = time.perf_counter()
    result = run_party(demo_job("1", storage))
    wall = time.perf_counter() - started
    assert result.status == "succeeded", result.message
    sent = dict.fromkeys(PARTIES, 0)
    for outcome in result.nodes.values():
        for party, count in outcome.bytes_sent.items():
            sent[party] += count
    return {
        "wall_s": round(wall, 3),
        "node_s": {n: round(o.seconds, 3) for n, o in result.nodes.items()},
        "bytes_sent": sent,
        "auc": auc(storage["alice"], "1"),
    }


def network(root: Path) -> dict:
    from party_processes import run_in_processes

    from tests.workflows.network.demo_job import PARTIES, demo_job, demo_sources

    storage = {party: root / party for party in PARTIES}
    demo_sources(storage)
    ran = run_in_processes(demo_job, PARTIES, storage, root, run_id="2", wall=600)
    results, wall = ran.results, ran.wall_s
    return {
        "processes_wall_s": round(wall, 3),
        "peak_rss_mib_per_party": {
            p: round(ran.memory.peak(p)["process"] / 2**20, 1) for p in PARTIES
        },
        "startup_s": round(wall - max(r["seconds"] for r in results.values()), 3),
        "run_s": {p: round(r["seconds"], 3) for p, r in results.items()},
        "node_s": {n: round(o["seconds"], 3) for n, o in results["alice"]["nodes"].items()},
        "bytes_sent": {
            p: sum(sum(o["bytes_sent"].values()) for o in r["nodes"].values())
            for p, r in results.items()
        },
        "orchestration": {p: orchestration(r) for p, r in results.items()},
        "orchestration_without_start_skew": without_skew(results),
        "auc": auc(storage["alice"], "2"),
    }


def orchestration(result: dict) -> dict:
    nodes = result["nodes"].values()
    components = sum(o["seconds"] - o["confirm_seconds"] for o in nodes)
    confirm = sum(o["confirm_seconds"] for o in nodes)
    total = result["seconds"]
    overhead = total - components
    return {
        "setup_s": round(result["setup_seconds"], 3),
        "confirm_s": round(confirm, 3),
        "other_s": round(overhead - confirm - result["setup_seconds"], 3),
        "overhead_s": round(overhead, 3),
        "overhead_share": round(overhead / total, 4),
    }


def without_skew(results: dict) -> dict:
    """Setup includes waiting for the parties whose processes started later; the party that
    started last waits for nobody, so its setup is the links' own cost. Per party: that
    setup, plus its own confirmations and bookkeeping, as a share of its run."""
    setup = min(r["setup_seconds"] for r in results.values())
    shares = {}
    for party, result in results.items():
        figures = orchestration(result)
        overhead = setup + figures["confirm_s"] + figures["other_s"]
        run = result["seconds"] - result["setup_seconds"] + setup
        shares[party] = round(overhead / run, 4)
    return {"link_setup_s": round(setup, 3), "overhead_share": shares}


def auc(storage: Path, run_id: str) -> float:
    report = json.loads((storage / "runs" / run_id / "evaluate" / "report.json").read_text())
    return report["summary"]["auc"]


def main() -> None:
    import argparse

    import django

    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()

    django.setup()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="privpad-net-pipeline-") as tmp:
        figures = {"embedded": embedded(Path(tmp) / "embedded")}
        figures["network"] = network(Path(tmp) / "network")
    figures["network_over_embedded_wall"] = round(
        max(figures["network"]["run_s"].values()) / figures["embedded"]["wall_s"], 3
    )
    figures["load_average_before"] = round(load_before, 2)
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
