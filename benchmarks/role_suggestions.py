"""Benchmark the column-role suggestions (console.datasets.role_suggestions) and print one
JSON object.

Generates the CSV of benchmarks/csv_profile.py (`--rows` rows; `customer_id` unique, `churned`
true/false) and times what the owner's authorisation form costs: reading only the candidate
columns (named like an ID or a target) in chunks, hashing the ID values to check uniqueness
and collecting the target's distinct values. Peak resident memory shows the cost of the
uniqueness check (8 bytes a row for the hashes).

    .venv/bin/python benchmarks/role_suggestions.py [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.csv_profile import peak_rss_mib, write_csv  # noqa: E402
from console.datasets.role_suggestions import candidates, scan_facts, suggest_roles  # noqa: E402
from console.datasets.schema import pandas_read_options, profile_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k rows instead of 2M")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (200_000 if args.quick else 2_000_000)
    with tempfile.TemporaryDirectory(prefix="privpad-bench-") as directory:
        path = Path(directory) / "data.csv"
        write_csv(path, rows)
        size = path.stat().st_size
        columns = [column.as_dict() for column in profile_csv(path).columns]
        rss_before = peak_rss_mib()
        started, cpu_started = time.perf_counter(), time.process_time()
        names = candidates(columns)
        facts = scan_facts(path, names, pandas_read_options("utf-8"))
        suggestions = suggest_roles(columns, facts)
        total_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
    result = {
        "rows": rows,
        "file_mib": round(size / 2**20, 1),
        "candidate_columns": names,
        "suggest_s": round(total_s, 3),
        "suggest_cpu_s": round(cpu_s, 3),
        "rows_per_s": int(rows / total_s),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mib_before": round(rss_before, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "suggested": {name: s.role for name, s in suggestions.items() if s.role != "feature"},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
