"""Benchmark MPC kernels (SEMI2K with 2 parties, ABY3 with 3) and print one JSON object.

For every kernel: wall-clock seconds of the kernel alone (inputs already shared, nothing
revealed), CPU seconds of all simulated parties and the dealer together (less disturbed by other
programs than wall time), bytes sent party-to-party (max over parties), bytes sent by the SEMI2K
dealer, rounds (max over parties) and the max absolute error against numpy. Every kernel runs
`--repeat` times (fresh parties and dealer each time); `seconds` is the median run, with the
fastest run and all runs alongside, because other programs on a shared machine shift wall time.
`--trunc-mode` picks SEMI2K's truncation: `local` by default here, SPU's 2-party SEMI2K
default, so the comparison with SPU is like for like; `exact` (`auto`, the engine's own
default) opens one word per truncated element and is never silently wrong.
`--aby3-trunc-mode` picks ABY3's: `auto` (exact) by default, which is also SPU's ABY3 default
(`TruncAPr2`), so like for like; `local` is ABY3's Share Truncation I (one word per element,
silently wrong with probability |x| / 2^64 per element), the engine's ABY3 before 2026-12-04.
Every result names the truncation it ran (`trunc_mode`).

Kernels named `*_checked` are the guarded versions `SecretTensor` runs
(`core.mpc.kernels.domains`) on an input whose interval is unknown, the worst case: the range
check (one comparison circuit plus one opened bit) or the clamp is included. Comparing them
with the raw kernel of the same name gives the overhead of `range_checks`; an input with a
known interval inside the domain costs nothing extra. `--size N` runs every kernel but matmul
on N elements.

    .venv/bin/python benchmarks/mpc_kernels.py [--quick] [--size N] [--repeat N]
        [--only NAME ...] [--trunc-mode local|exact|auto] [--aby3-trunc-mode local|exact|auto]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.comm import LocalLinkHub, run_spmd  # noqa: E402
from core.mpc.config import RuntimeConfig  # noqa: E402
from core.mpc.context import MPCContext  # noqa: E402
from core.mpc.correlated import DEALER, TrustedDealer  # noqa: E402
from core.mpc.fixedpoint import FixedPoint  # noqa: E402
from core.mpc.kernels import activations, arith, compare, domains, nonlinear  # noqa: E402
from core.mpc.protocols import make_protocol  # noqa: E402
from core.mpc.ring import ring_for  # noqa: E402


def _inputs(name: str, size: int, rng: np.random.Generator) -> tuple[list[np.ndarray], object]:
    """Inputs and the numpy reference for one kernel."""
    if name == "matmul":
        a, b = rng.uniform(-1, 1, (size, size)), rng.uniform(-1, 1, (size, size))
        return [a, b], a @ b
    x, y = rng.uniform(-4, 4, size), rng.uniform(-4, 4, size)
    pos = rng.uniform(0.5, 100, size)
    table = {
        "multiply": ([x, y], x * y),
        "less": ([x, y], (x < y) * 1.0),
        "sigmoid_real": ([x], 1 / (1 + np.exp(-x))),
        "reciprocal": ([pos], 1 / pos),
        "division": ([x, pos], x / pos),
        "exp": ([x], np.exp(x)),
    }
    return table[name.removesuffix("_checked")]


KERNELS = {
    "multiply": arith.mul_ss,
    "matmul": arith.matmul_ss,
    "less": lambda c, x, y: arith.lift_bits(c, compare.less_ss(c, x, y)),
    "sigmoid_real": lambda c, x: activations.sigmoid(c, x, "real"),
    "reciprocal": nonlinear.reciprocal,
    "division": nonlinear.div_ss,
    "exp": nonlinear.exp,
    # the guarded kernels with an unknown input interval: check or clamp included
    "sigmoid_real_checked": lambda c, x: domains.sigmoid(c, x, None, "x", "real")[0],
    "reciprocal_checked": lambda c, x: domains.reciprocal(c, x, None, "x")[0],
    "division_checked": lambda c, x, y: domains.div_ss(c, x, None, y, None, "x")[0],
    "exp_checked": lambda c, x: domains.exp(c, x, None, "x")[0],
}


def bench(
    protocol: str,
    parties: int,
    name: str,
    size: int,
    trunc_mode: str = "auto",
    seed: int = 1,
    field: str = "FM64",
) -> dict:
    """One kernel run; `field` "FM128" runs it in the 128-bit ring (`benchmarks/fm128.py`)."""
    names = [f"P{i}" for i in range(parties)]
    hub = LocalLinkHub(names)
    cfg = RuntimeConfig(protocol=protocol, field=field, trunc_mode=trunc_mode)
    fxp = FixedPoint(cfg.fxp_fraction_bits, ring_for(field))
    dealer = TrustedDealer(names, hub.stats) if protocol == "SEMI2K" else None
    inputs, reference = _inputs(name, size, np.random.default_rng(seed))
    encoded = [fxp.encode(v) for v in inputs]
    marks: dict = {}

    def start():
        hub.stats.reset()
        marks["t0"], marks["cpu0"] = time.perf_counter(), time.process_time()

    def stop():
        marks["seconds"] = time.perf_counter() - marks["t0"]
        marks["cpu_seconds"] = time.process_time() - marks["cpu0"]
        marks["stats"] = hub.stats.snapshot()

    begin, end = threading.Barrier(parties, action=start), threading.Barrier(parties, action=stop)

    def program(link):
        ctx = MPCContext(make_protocol(cfg, link, dealer), fxp)
        shares = [
            ctx.proto.share(e if link.rank == i % parties else None, i % parties, e.shape)
            for i, e in enumerate(encoded)
        ]
        begin.wait()
        with np.errstate(over="ignore"):
            out = KERNELS[name](ctx, *shares)
        end.wait()
        return ctx.proto.reveal(out)

    try:
        result = fxp.decode(run_spmd(hub, [program] * parties)[0])
    finally:
        if dealer is not None:
            dealer.close()
    report = _report(
        protocol, parties, name, size, marks, names, float(np.max(np.abs(result - reference)))
    )
    report["trunc_mode"] = cfg.resolved_trunc_mode()
    report["field"] = field
    return report


def _report(protocol, parties, name, size, marks, names, error) -> dict:
    pairs = marks["stats"]["pairs"]
    p2p = {
        p: sum(
            t["bytes"]
            for k, t in pairs.items()
            if k.startswith(f"{p}->") and not k.endswith(DEALER)
        )
        for p in names
    }
    dealer_bytes = sum(t["bytes"] for k, t in pairs.items() if k.startswith(f"{DEALER}->"))
    rounds = marks["stats"]["rounds"]
    return {
        "protocol": protocol,
        "parties": parties,
        "kernel": name,
        "size": size,
        "seconds": round(marks["seconds"], 4),
        "cpu_seconds_all_parties": round(marks["cpu_seconds"], 4),
        "bytes_per_party_max": max(p2p.values()),
        "mb_per_party_max": round(max(p2p.values()) / 1e6, 2),
        "dealer_bytes": dealer_bytes,
        "rounds_max": max(rounds.get(p, 0) for p in names),
        "max_abs_error": error,
    }


PLAN = [
    ("SEMI2K", 2, "multiply", 10**6),
    ("SEMI2K", 2, "matmul", 512),
    ("SEMI2K", 2, "less", 10**6),
    ("SEMI2K", 2, "sigmoid_real", 10**6),
    ("SEMI2K", 2, "reciprocal", 10**6),
    ("SEMI2K", 2, "division", 10**6),
    ("SEMI2K", 2, "exp", 10**6),
    ("SEMI2K", 2, "sigmoid_real_checked", 10**6),
    ("SEMI2K", 2, "reciprocal_checked", 10**6),
    ("SEMI2K", 2, "division_checked", 10**6),
    ("SEMI2K", 2, "exp_checked", 10**6),
    ("ABY3", 3, "multiply", 10**6),
    ("ABY3", 3, "matmul", 512),
    ("ABY3", 3, "less", 10**6),
]


def bench_repeated(
    protocol: str,
    parties: int,
    name: str,
    size: int,
    repeat: int,
    trunc_mode: str = "auto",
    field: str = "FM64",
) -> dict:
    """Median run by wall time, plus the fastest and every run's seconds."""
    runs = sorted(
        (bench(protocol, parties, name, size, trunc_mode, field=field) for _ in range(repeat)),
        key=_seconds,
    )
    median = dict(runs[(len(runs) - 1) // 2])
    median["seconds_min"] = runs[0]["seconds"]
    median["seconds_runs"] = [r["seconds"] for r in runs]
    return median


def _seconds(run: dict) -> float:
    return run["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes / 100 (matmul 128)")
    parser.add_argument("--only", nargs="*", help="kernel names to run")
    parser.add_argument("--size", type=int, help="elements for every kernel but matmul")
    parser.add_argument("--repeat", type=int, default=3, help="runs per kernel (median kept)")
    parser.add_argument(
        "--trunc-mode",
        default="local",
        choices=("local", "exact", "auto"),
        help="SEMI2K truncation (default local, like SPU; the engine's default auto is exact)",
    )
    parser.add_argument(
        "--aby3-trunc-mode",
        default="auto",
        choices=("local", "exact", "auto"),
        help="ABY3 truncation (default auto = exact, like SPU's ABY3; local = Share Truncation I)",
    )
    args = parser.parse_args()
    results = []
    load_before = os.getloadavg()[0]
    for protocol, parties, name, size in PLAN:
        if args.only and name not in args.only:
            continue
        if args.quick:
            size = 128 if name == "matmul" else size // 100
        if args.size and name != "matmul":
            size = args.size
        trunc_mode = args.trunc_mode if protocol == "SEMI2K" else args.aby3_trunc_mode
        results.append(
            bench_repeated(protocol, parties, name, size, max(1, args.repeat), trunc_mode)
        )
    print(
        json.dumps(
            {
                "benchmark": "mpc_kernels",
                "field": "FM64",
                "fxp_fraction_bits": 18,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg()[0],
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
