"""FM128 against FM64: the same kernels on the 64-bit and the 128-bit ring; one JSON object.

For multiply, matmul, less and sigmoid ("real") on `--size` elements (1e5 by default; matmul on
two sqrt(size) x sqrt(size) matrices) under SEMI2K with 2 parties (local truncation, SPU's
default and `benchmarks/mpc_kernels.py`'s) and, with `--aby3`, ABY3 with 3 parties: the median
wall time of `--repeat` runs in each ring and the CPU seconds of all parties in that run
(steadier than wall time on a loaded machine), the ratios FM128 / FM64, bytes per party, and
the max error against numpy (both rings compute the same values; FM128 with 26 fraction bits is
more precise). The load average before and after is printed: other programs on a shared machine
shift wall time.

`ring_ops` times the raw element-wise product of 1e5 ring elements: numpy uint64 (FM64), the
two-limb `U128Array` (FM128) and Python-int object arrays reduced mod 2^128, the alternative
the limbs replace.

    .venv/bin/python benchmarks/fm128.py [--size N] [--repeat N] [--aby3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.mpc_kernels import bench_repeated  # noqa: E402
from core.mpc.ring import RING128  # noqa: E402

KERNELS = ("multiply", "matmul", "less", "sigmoid_real")


def compare(protocol: str, parties: int, name: str, size: int, repeat: int) -> dict:
    kernel_size = math.isqrt(size) if name == "matmul" else size
    trunc = "local" if protocol == "SEMI2K" else "auto"
    runs = {
        field: bench_repeated(protocol, parties, name, kernel_size, repeat, trunc, field=field)
        for field in ("FM64", "FM128")
    }
    return {
        "protocol": protocol,
        "parties": parties,
        "kernel": name,
        "elements": kernel_size**2 if name == "matmul" else kernel_size,
        "fm64_seconds": runs["FM64"]["seconds"],
        "fm128_seconds": runs["FM128"]["seconds"],
        "fm128_over_fm64": round(runs["FM128"]["seconds"] / runs["FM64"]["seconds"], 2),
        "fm64_cpu_seconds": runs["FM64"]["cpu_seconds_all_parties"],
        "fm128_cpu_seconds": runs["FM128"]["cpu_seconds_all_parties"],
        "fm128_over_fm64_cpu": round(
            runs["FM128"]["cpu_seconds_all_parties"] / runs["FM64"]["cpu_seconds_all_parties"], 2
        ),
        "fm64_mb_per_party": runs["FM64"]["mb_per_party_max"],
        "fm128_mb_per_party": runs["FM128"]["mb_per_party_max"],
        "fm64_max_abs_error": runs["FM64"]["max_abs_error"],
        "fm128_max_abs_error": runs["FM128"]["max_abs_error"],
    }


def _best_of(fn, repeat: int = 5) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return round(best, 6)


def ring_ops(size: int) -> dict:
    """Seconds for one element-wise ring product of `size` elements, three ways."""
    rng = np.random.default_rng(1)
    words = rng.integers(0, 2**64, (2, 2, size), dtype=np.uint64, endpoint=False)
    a64, b64 = words[0, 0], words[1, 0]
    a128 = RING128.asarray(a64) + (RING128.asarray(words[0, 1]) << 64)
    b128 = RING128.asarray(b64) + (RING128.asarray(words[1, 1]) << 64)
    mod = 1 << 128
    a_obj = np.array([int(v) for v in RING128.to_ints(a128)], dtype=object)
    b_obj = np.array([int(v) for v in RING128.to_ints(b128)], dtype=object)
    with np.errstate(over="ignore"):
        seconds = {
            "uint64_fm64": _best_of(lambda: a64 * b64),
            "limbs_fm128": _best_of(lambda: a128 * b128),
            "python_int_objects_mod_2_128": _best_of(lambda: (a_obj * b_obj) % mod, 3),
        }
    return {"elements": size, "multiply_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**5, help="elements per kernel")
    parser.add_argument("--repeat", type=int, default=3, help="runs per kernel and ring")
    parser.add_argument("--aby3", action="store_true", help="also ABY3 with 3 parties")
    args = parser.parse_args()
    load_before = os.getloadavg()
    cases = [("SEMI2K", 2)] + ([("ABY3", 3)] if args.aby3 else [])
    results = [
        compare(protocol, parties, name, args.size, max(1, args.repeat))
        for protocol, parties in cases
        for name in KERNELS
    ]
    report = {
        "benchmark": "fm128",
        "fxp_fraction_bits": {"FM64": 18, "FM128": 26},
        "load_average_before": [round(v, 2) for v in load_before],
        "cpus": os.cpu_count(),
        "ring_ops": ring_ops(args.size),
        "results": results,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
