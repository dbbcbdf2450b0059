"""The demo pipeline through the consoles: three network nodes against one embedded console.

Network: alice, bob and carol as `make network` makes them (`node_installs.demo_network`:
three installations on loopback, paired, the demo loaded by its own loader, alice's console
serving). A run is started with the REST API at alice's console, as the canvas's *Run all*
does: alice's console validates, obtains consent, sends `RunStart` then `RunLaunch` to bob's
and carol's node services and queues its own part; each node's worker (alice's console, bob's
and carol's node services) runs its party over the engine links. Embedded: one console with
`bootstrap_demo`'s demo, the same pipeline through the same API, every party in that process.

Printed (one JSON object), per mode and run:
- `wall_s`: from sending the API request to the run's `finished_at` at alice (server clock,
  same machine), `request_s` the API call itself;
- `engine_s`: at alice, from the first node's start to the last node's end (the components'
  work, their confirmations between parties, and the events they stream);
- `orchestration_s` = wall - engine, split into `before_engine_s` (request, validation and
  consent, RunStart/RunLaunch at every member, worker start, opening the engine links and
  checking every party runs the same run) and `after_engine_s` (recording the outcome), and
  `overhead_share` = orchestration / wall (issue 13's target: under 5%);
- `bytes_sent`: per party, the engine bytes it sent (each node's own record);
- members' timeline (network): when each member recorded the run (RunStart) and when its
  worker started, relative to the request; the orchestration split into the consoles' part
  (`console_orchestration_s`, `console_overhead_share`: until the last party's worker started,
  plus recording the outcome) and the engine links' start (`links_start_s`);
- `timeline` (network): every process's phases of the run (`workflows.timeline`, turned on in
  the nodes with PRIVPAD_RUN_TIMELINE), merged, in seconds after the request, each with the
  CPU its process spent since its previous mark; a node's per-component marks are summed up as
  its first component's start and last component's end; `cpu_s`: per process, the CPU spent
  before alice's first component, during the components, and after; `reports`: the members'
  RunEvent batches (sent, applied at alice, when the last was applied); `critical_path_s`:
  the wall time cut at the marks on the run's critical path (request and validation at alice,
  her records and jobs, `RunStart` at every member, `RunLaunch` to the last party's worker, the
  workers' own validation, the links' start, the parties' agreement, the components, the
  outcome's recording).

    .venv/bin/python benchmarks/network_console.py [--runs N] [--mode network]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

from console.demo.pipeline import PIPELINE_NAME  # noqa: E402
from console.nodes.devnet import node_admin  # noqa: E402
from tests.console.nodes.node_installs import (  # noqa: E402
    NodeInstall,
    demo_network,
    migrated_template,
)
from workflows import timeline  # noqa: E402

FINAL = {"succeeded", "failed", "cancelled", "interrupted"}


def seconds(stamp: str | None) -> float:
    return datetime.fromisoformat(stamp).timestamp() if stamp else float("nan")


def run_once(console: NodeInstall, token: str, pipeline: int) -> dict:
    """Start the pipeline through `console`'s API, wait for it; alice's figures of the run."""
    sent = time.time()
    status, body = console.api(token, f"pipelines/{pipeline}/runs/", {"scope": "all"})
    answered = time.time()
    if status != 201:
        raise SystemExit(f"the run did not start ({status}): {body}")
    while body["status"] not in FINAL:
        time.sleep(0.1)
        status, body = console.api(token, f"runs/{body['id']}/")
    if body["status"] != "succeeded":
        raise SystemExit(f"run {body['id']} {body['status']}: {body['message']}")
    worker = seconds(body["started_at"])  # the worker claimed the run (alice's part here)
    first = min(seconds(node["started_at"]) for node in body["nodes"])
    last = max(seconds(node["finished_at"]) for node in body["nodes"])
    wall, engine = seconds(body["finished_at"]) - sent, last - first
    return {
        "run": body["id"],
        "sent": sent,
        "wall_s": round(wall, 3),
        "request_s": round(answered - sent, 3),
        "engine_s": round(engine, 3),
        "orchestration_s": round(wall - engine, 3),
        "before_engine_s": round(first - sent, 3),
        "after_engine_s": round(seconds(body["finished_at"]) - last, 3),
        "overhead_share": round((wall - engine) / wall, 4),
        "worker_started_s": round(worker - sent, 3),
        "first_node_s": round(first - sent, 3),
        "tail_s": round(seconds(body["finished_at"]) - last, 3),
        "nodes": body["nodes"],
    }


def bytes_sent(nodes: list[dict], parties: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(parties, 0)
    for node in nodes:
        for party, count in (node.get("comm_bytes") or {}).items():
            if party in totals:
                totals[party] += int(count)
    return totals


def member_figures(member: NodeInstall, sent: float) -> dict:
    """The member's own record of its part: when it accepted, started, and what it sent."""
    [(run, created, started, finished)] = member.query(
        "SELECT id, created_at, started_at, finished_at FROM workflows_run ORDER BY id DESC LIMIT 1"
    )
    rows = member.query("SELECT comm_bytes FROM workflows_noderun WHERE run_id = ?", run)
    sent_bytes = sum(json.loads(raw or "{}").get(member.name, 0) for (raw,) in rows)
    utc = "+00:00"
    return {
        "run_start_received_s": round(seconds(created + utc) - sent, 3),
        "worker_started_s": round(seconds(started + utc) - sent, 3),
        "finished_s": round(seconds(finished + utc) - sent, 3),
        "bytes_sent": sent_bytes,
    }


PROCESSES = {"alice": ("console", "node"), "bob": ("node",), "carol": ("node",)}
ENGINE_MARKS = ("node.start", "node.ran", "node.confirmed", "node.closed")


def marks_of(nodes: dict[str, NodeInstall]) -> list[dict]:
    """Every timeline mark the network's processes logged, each with its `process`."""
    found = []
    for name, kinds in PROCESSES.items():
        for kind in kinds:
            path = nodes[name].log(kind)
            lines = path.read_text().splitlines() if path.exists() else []
            found += [mark | {"process": f"{name} {kind}"} for mark in timeline.read(lines)]
    return sorted(found, key=lambda mark: mark["at"])


# The run's critical path, segment by segment: (name, phase that ends it, which process, pick).
CRITICAL_PATH = [
    ("request_validation_consent", "run.validated", "alice console", min),
    ("records_parts_jobs", "runstart.sending", "alice console", min),
    ("runstart_at_every_member", "runstart.replied", "alice console", min),
    ("runlaunch_to_last_worker", "worker.claimed", "", max),
    ("workers_own_validation", "part.validated", "", max),
    ("links_start", "links.up", "", max),
    ("same_run_agreement", "node.start", "alice console", min),
    ("engine", "node.closed", "alice console", max),
    ("outcome_recorded", "part.recorded", "alice console", max),
]


def critical_path(marks: list[dict], sent: float) -> dict[str, float]:
    """Seconds of each segment of the run's critical path (`CRITICAL_PATH`; they add up to the
    wall time): from the request to alice's validation, ..., each member's `RunStart` (the
    slowest), the last party's worker, ..., the components, alice recording the outcome."""
    segments, since = {}, sent
    for name, phase, process, pick in CRITICAL_PATH:
        times = [m["at"] for m in marks if m["phase"] == phase and m["process"].startswith(process)]
        if not times:
            continue
        reached = pick(times)
        segments[name] = round(reached - since, 3)
        since = reached
    return segments


def breakdown(marks: list[dict], run: int, sent: float, until: float) -> dict:
    """The phases of run `run`, requested at `sent` (the marks of no run yet before `until`):
    see the docstring."""
    marks = [
        m for m in marks if m["run"] == str(run) or (m["run"] == "-" and sent <= m["at"] < until)
    ]
    engine = [m["at"] for m in marks if m["process"] == "alice console" and m["phase"] in
              ENGINE_MARKS]  # fmt: skip
    first, last = (min(engine), max(engine)) if engine else (until, until)
    lines, cpu, previous, reports = [], {}, {}, {}
    for mark in marks:
        process, phase = mark["process"], mark["phase"]
        spent = mark["cpu"] - previous.get(process, mark["cpu"])
        previous[process] = mark["cpu"]
        stage = (
            "before_engine"
            if mark["at"] <= first
            else "engine"
            if mark["at"] <= last
            else "after_engine"
        )
        slot = cpu.setdefault(process, {"before_engine": 0.0, "engine": 0.0, "after_engine": 0.0})
        slot[stage] += spent
        if phase.startswith("events."):
            _count_report(reports, mark, sent)
            continue
        if phase in ENGINE_MARKS and not _edge(marks, mark):
            continue
        detail = f" {mark['node']}" if "node" in mark else ""
        if phase == "gc":  # a full collection (`workflows.timeline`)
            detail = f" {float(mark['seconds']) * 1000:.0f} ms"
        lines.append(
            f"{mark['at'] - sent:7.3f}s {process:13} {phase}{detail} (+{spent * 1000:.0f} ms CPU)"
        )
    cpu = {p: {k: round(v, 3) for k, v in stages.items()} for p, stages in cpu.items()}
    return {
        "critical_path_s": critical_path(marks, sent),
        "timeline": lines,
        "cpu_s": cpu,
        "reports": reports,
    }


def _edge(marks: list[dict], mark: dict) -> bool:
    """Whether `mark` is its process's first component start or last component end."""
    same = [m for m in marks if m["process"] == mark["process"] and m["phase"] in ENGINE_MARKS]
    return mark is same[0] or mark is same[-1]


def _count_report(reports: dict, mark: dict, sent: float) -> None:
    party = mark.get("party") or mark["process"].split()[0]
    entry = reports.setdefault(party, {"batches_sent": 0, "batches_applied": 0})
    if mark["phase"] == "events.sent":
        entry["batches_sent"] += 1
    else:
        entry["batches_applied"] += 1
        entry["last_applied_s"] = round(mark["at"] - sent, 3)


def split(figures: dict, members: dict) -> dict:
    """The orchestration of a network run in two: the consoles' (request, RunStart and
    RunLaunch, until the last party's worker started; the outcome's recording) and the
    engine links' start (from the last worker's start to the first node: connecting the
    parties and checking they run the same run, which `run_party` does in every mode)."""
    workers = max(figures["worker_started_s"], *(m["worker_started_s"] for m in members.values()))
    console = workers + figures["tail_s"]
    return {
        "workers_started_s": workers,
        "console_orchestration_s": round(console, 3),
        "console_overhead_share": round(console / figures["wall_s"], 4),
        "links_start_s": round(figures["first_node_s"] - workers, 3),
    }


def network(root: Path, template: Path, runs: int) -> list[dict]:
    results = []
    with demo_network(root / "network", template) as nodes:
        alice = nodes["alice"]
        token = alice.token(node_admin("alice"))
        [(pipeline,)] = alice.query("SELECT id FROM workflows_pipeline")
        starts = []
        for _ in range(runs):
            figures = run_once(alice, token, pipeline)
            sent = bytes_sent(figures.pop("nodes"), ["alice"])
            members = {
                name: member_figures(nodes[name], figures["sent"]) for name in ("bob", "carol")
            }
            sent |= {name: member["bytes_sent"] for name, member in members.items()}
            starts.append(figures.pop("sent"))
            results.append(
                figures | {"bytes_sent": sent, "members": members} | split(figures, members)
            )
        time.sleep(1.0)  # the members' last reports of the last run
        marks = marks_of(nodes)
        for result, sent, until in zip(results, starts, [*starts[1:], time.time()], strict=True):
            result.update(breakdown(marks, result["run"], sent, until))
    return results


def embedded(root: Path, template: Path, runs: int) -> list[dict]:
    console = NodeInstall(root, "embedded", template)
    try:
        console.manage("bootstrap_demo")
        console.serve_console(deployment="embedded")
        token = console.token("alice")
        [(pipeline,)] = console.query(
            "SELECT id FROM workflows_pipeline WHERE name = ?", PIPELINE_NAME
        )
        results = []
        for _ in range(runs):
            figures = run_once(console, token, pipeline)
            figures["bytes_sent"] = bytes_sent(figures.pop("nodes"), ["alice", "bob", "carol"])
            figures.pop("sent")
            results.append(figures)
        return results
    finally:
        console.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per mode (the first warms up)")
    parser.add_argument("--mode", choices=("both", "embedded", "network"), default="both")
    args = parser.parse_args()
    os.environ["PRIVPAD_RUN_TIMELINE"] = "true"  # the nodes' phases (`workflows.timeline`)
    scratch = Path(tempfile.mkdtemp(prefix="privpad-network-console-"))
    try:
        load_before = os.getloadavg()
        template = migrated_template(scratch / "template")
        modes = {"embedded": embedded, "network": network}
        figures = {
            mode: measure(scratch, template, args.runs)
            for mode, measure in modes.items()
            if args.mode in (mode, "both")
        }
        figures["load_average_before"] = [round(x, 2) for x in load_before]
        figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
