"""Our KKRT-PSI against SecretFlow's (SPU's `psi_execute`), both as two processes over their own
network link, in alternating rounds; prints one JSON object.

The job on both sides: two parties with `n` ids each (`benchmarks/psi.py`'s id files, half in
common), read from CSV, intersected with KKRT16 (rank 0 / alice the OPRF receiver), the
intersection given to both parties and written by each as a CSV aligned with the other's (ours
always aligns; SPU with `broadcast_result` and alignment on). Ours: `benchmarks/network.py`'s
`psi` job, each party an OS process over the engine's link with mutual TLS on loopback. SPU's:
SPU 0.9.5's `spu.psi.psi_execute` with `PROTOCOL_KKRT`, each rank an OS process over SPU's brpc
link on loopback TCP (plaintext). Each side times the whole call between two link barriers;
the intersection sizes of both sides are checked against the known answer (n / 2).

The machine is shared and noisy, so the sides alternate; the figure per side is the median over
rounds (every run is listed) and `ours_over_spu` the ratio of the medians (below 1: ours is
faster). SPU runs under its own interpreter, as in `spu_network.py` (same `--spu-python`):

    .venv/bin/python benchmarks/spu_psi.py --spu-python /tmp/spu-venv/bin/python \\
        [--rounds 3] [--quick | --ids N]   # --quick: 100,000 ids per party, not 1,000,000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spu_network import (  # noqa: E402
    SPU_PARTIES,
    SPU_PYTHON_ENV,
    run_spu_ranks,
    spu_unavailable,
)

IDS = 1_000_000
RESULT = "privpad-spu-psi-result: "  # SPU's native code logs to stdout, before and after it


# ----- SPU's side: runs under the SPU interpreter (imports only spu) --------------------------
def spu_party(spec_path: str, rank: int) -> None:
    """One SPU rank: a brpc link to the other rank, then KKRT-PSI of its id file."""
    import spu.psi as psi
    from spu_network import brpc_link  # (imports numpy and spu only)

    with open(spec_path) as handle:
        spec = json.load(handle)
    link = brpc_link(spec["addresses"], rank)
    config = psi.PsiExecuteConfig()
    config.protocol_conf.protocol = psi.PsiProtocol.PROTOCOL_KKRT
    config.protocol_conf.receiver_rank = 0
    config.protocol_conf.broadcast_result = True
    config.input_params.type = psi.SourceType.SOURCE_TYPE_FILE_CSV
    config.input_params.path = spec["inputs"][rank]
    config.input_params.selected_keys = ["id"]
    config.input_params.keys_unique = True
    config.output_params.type = psi.SourceType.SOURCE_TYPE_FILE_CSV
    config.output_params.path = spec["outputs"][rank]
    config.output_params.disable_alignment = False
    link.barrier()
    start, cpu0 = time.perf_counter(), time.process_time()
    report = psi.psi_execute(config, link)
    link.barrier()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    link.stop_link()
    size = report.intersection_count
    result = {"seconds": seconds, "cpu_seconds": cpu, "intersection_size": size}
    print(RESULT + json.dumps(result), flush=True)


# ----- the driver: runs under the project's interpreter ---------------------------------------
def run_spu(spu_python: str, inputs: list[str], directory: str) -> dict:
    from network import free_addresses

    addresses = free_addresses(SPU_PARTIES)
    spec = {
        "addresses": [addresses[p] for p in SPU_PARTIES],
        "inputs": inputs,
        "outputs": [os.path.join(directory, f"spu-{p}-out.csv") for p in SPU_PARTIES],
    }
    spec_path = os.path.join(directory, "spu-psi.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    script = os.path.abspath(__file__)
    return _side(run_spu_ranks(spu_python, script, spec_path, timeout=3600, prefix=RESULT))


def run_ours(inputs: list[str], directory: str) -> dict:
    import network

    certs = network.certificates(SPU_PARTIES, directory)
    addresses = network.free_addresses(SPU_PARTIES)
    per_party = {
        p: {"input": path, "output": os.path.join(directory, f"ours-{p}-out.csv")}
        for p, path in zip(SPU_PARTIES, inputs, strict=True)
    }
    job = {"job": "psi", "tmp": directory}
    out = network.launch(job, SPU_PARTIES, certs, addresses, None, directory, per_party)
    return _side([out[p] for p in SPU_PARTIES])


def _side(per_party: list[dict]) -> dict:
    return {
        "seconds": round(max(r["seconds"] for r in per_party), 2),
        "cpu_seconds_per_party": [round(r["cpu_seconds"], 1) for r in per_party],
        "intersection_size": [int(r["intersection_size"]) for r in per_party],
    }


def _check(side: str, result: dict, expected: int) -> None:
    if any(size != expected for size in result["intersection_size"]):
        sizes = result["intersection_size"]
        raise SystemExit(f"{side}: intersection sizes {sizes}, expected {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spu-party", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--spu-python", default=os.environ.get(SPU_PYTHON_ENV))
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two sides")
    parser.add_argument("--quick", action="store_true", help="100,000 ids per party")
    parser.add_argument("--ids", type=int, help="ids per party (overrides --quick)")
    args = parser.parse_args()
    if args.spu_party:
        spu_party(args.spu_party[0], int(args.spu_party[1]))
        return
    import network
    import psi as psi_bench  # benchmarks/psi.py: the id files

    n = args.ids or (IDS // 10 if args.quick else IDS)
    skipped = spu_unavailable(args.spu_python)
    ours, spu, load = [], [], [os.getloadavg()]
    with tempfile.TemporaryDirectory() as directory:
        inputs = [os.path.join(directory, f"{p}-ids.csv") for p in SPU_PARTIES]
        psi_bench.write_ids(inputs[0], n, 0, 1_000_003, 17)
        psi_bench.write_ids(inputs[1], n, n // 2, 998_244_353, 91)
        for _ in range(args.rounds):
            ours.append(run_ours(inputs, directory))
            _check("ours", ours[-1], n // 2)
            if not skipped:
                spu.append(run_spu(args.spu_python, inputs, directory))
                _check("SPU", spu[-1], n // 2)
            load.append(os.getloadavg())
    report = {
        "ids_per_party": n,
        "ours": f"KKRT-PSI, two processes, {network.TRANSPORT} link over loopback mutual TLS",
        "spu": skipped or "SPU 0.9.5 psi_execute PROTOCOL_KKRT, two processes, brpc over TCP",
        "ours_runs": ours,
        "ours_seconds": _median([r["seconds"] for r in ours]),
        "load_average_per_round": load,
    }
    if not skipped:
        report["spu_runs"] = spu
        report["spu_seconds"] = _median([r["seconds"] for r in spu])
        report["ours_over_spu"] = round(report["ours_seconds"] / report["spu_seconds"], 3)
    print(json.dumps(report, indent=2))


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    main()
