"""Benchmark dataset profiling (console.datasets.schema) and print one JSON object.

Generates a CSV (int, float, bool, str and sparse columns; `--rows` rows) in a temporary
directory, then times `profile_csv`: the structure pass (sha256, encoding, field counts with
the csv module) and the pandas profile pass in chunks. Peak resident memory shows that the file
is never held whole in memory.

    .venv/bin/python benchmarks/csv_profile.py [--quick] [--rows N] [--chunk-cells N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from console.datasets.schema import (  # noqa: E402
    DEFAULT_CHUNK_CELLS,
    _profile_chunks,
    profile_csv,
    scan_structure,
)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_id,age,income,churned,city,note\n")
        for i in range(rows):
            note = f"n{i}" if i % 50 == 0 else ""
            churned = "true" if i % 7 == 0 else "false"
            out.write(
                f"{i},{18 + i % 60},{1000 + (i * 37) % 9000 + 0.25},{churned},c{i % 97},{note}\n"
            )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k rows instead of 2M")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--chunk-cells", type=int, default=DEFAULT_CHUNK_CELLS)
    args = parser.parse_args()
    rows = args.rows or (200_000 if args.quick else 2_000_000)
    with tempfile.TemporaryDirectory(prefix="privpad-bench-") as directory:
        path = Path(directory) / "data.csv"
        write_csv(path, rows)
        size = path.stat().st_size
        rss_before = peak_rss_mib()
        started = time.perf_counter()
        structure = scan_structure(path)
        structure_s = time.perf_counter() - started
        started = time.perf_counter()
        width = len(structure.header)
        _profile_chunks(path, structure.encoding, width, max(1, args.chunk_cells // width))
        pandas_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        profile = profile_csv(path, chunk_cells=args.chunk_cells)
        total_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
    result = {
        "rows": rows,
        "columns": len(profile.columns),
        "file_mib": round(size / 2**20, 1),
        "chunks": profile.chunks,
        "structure_pass_s": round(structure_s, 3),
        "pandas_pass_s": round(pandas_s, 3),
        "profile_csv_s": round(total_s, 3),
        "profile_csv_cpu_s": round(cpu_s, 3),
        "mib_per_s": round(size / 2**20 / total_s, 1),
        "mib_per_cpu_s": round(size / 2**20 / cpu_s, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "rows_per_s": int(rows / total_s),
        "peak_rss_mib_before_profiling": round(rss_before, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "types": {c.name: c.type for c in profile.columns},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
