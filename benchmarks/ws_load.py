"""Websocket load against daphne with the Redis channel layer; prints JSON.

Starts redis-server, daphne (`console.asgi:application`) and `db_worker` processes on loopback
ports with a throwaway data directory loaded with the demo (`console.testing.livestack`), then
(a) `--clients` websocket clients on one run's stream and (b) `--runs` runs started at once with
one client each (`console.testing.wsload`). Every client must see every `run.status` and
`node.status` transition (and log line) in order; the problems found are listed and the exit
status is 1 if there are any. Everything started is stopped on the way out, also on failure.

    .venv/bin/python benchmarks/ws_load.py              # 50 clients on one run, 20 runs
    .venv/bin/python benchmarks/ws_load.py --quick      # 10 clients, 4 runs
    .venv/bin/python benchmarks/ws_load.py --sqlite     # the embedded database instead
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.testing.livestack import LiveStack, redis_binary  # noqa: E402
from console.testing.wsload import run_phase, short_pipeline, sign_in_demo_users  # noqa: E402

MAX_CLIENTS = 500
MAX_RUNS = 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="clients on one run's stream")
    parser.add_argument("--runs", type=int, default=20, help="runs started at once")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes (the cap)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per phase")
    parser.add_argument(
        "--sqlite", action="store_true", help="SQLite even when PostgreSQL 15 is installed"
    )
    parser.add_argument("--quick", action="store_true", help="10 clients and 4 runs")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.runs = 10, 4
    if not (1 <= args.clients <= MAX_CLIENTS and 1 <= args.runs <= MAX_RUNS):
        parser.error(f"--clients must be 1-{MAX_CLIENTS} and --runs 1-{MAX_RUNS}")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if redis_binary() is None:
        parser.error("redis-server is not installed (Debian: apt-get install redis-server)")

    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so every process started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    report = {"load_average_before": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()}
    with LiveStack(workers=args.workers, postgres=not args.sqlite) as stack:
        report["setup_s"] = round(time.monotonic() - started, 1)
        sessions = sign_in_demo_users(stack)
        pipeline = short_pipeline(sessions["alice"])
        report["one_run"] = run_phase(stack, sessions, pipeline, 1, args.clients, args.timeout)
        report["many_runs"] = run_phase(stack, sessions, pipeline, args.runs, 1, args.timeout)
    report["workers"] = args.workers
    report["total_s"] = round(time.monotonic() - started, 1)
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))
    lost = report["one_run"]["problems"] or report["many_runs"]["problems"]
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
