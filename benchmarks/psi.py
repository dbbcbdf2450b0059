"""Benchmark two-party PSI (ECDH or KKRT) on CSV files: wall time, throughput, memory, traffic.

`--protocol kkrt` runs KKRT-PSI (OT extension): each party hashes in its own thread, or in the
shared pool with `--kkrt-pool`.

Default: 1,000,000 ids per party, 50% overlap, both parties in this process sharing one pool
of `os.cpu_count()` workers. `--quick`: 100,000 ids. `--memory`: 10,000,000 ids, to show that
peak RSS stays bounded. `--stand-in-cipher` replaces X25519 by XOR with a per-party pad (which
also commutes, but is NOT secure) so that the memory of the whole data path (store, streams,
comparison, output) can be measured at full size in minutes on a busy machine; figures from
such a run say nothing about speed. Prints one JSON object. Inputs are generated with bounded
memory: row i of party A holds id (a*i + c) mod n, party B holds n/2 + (a'*i + c') mod n,
so each file is in a scrambled order and exactly n/2 ids are common.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core.psi.stream  # noqa: E402
from core.comm import LocalLinkHub  # noqa: E402
from core.psi import run_local_psi  # noqa: E402
from core.psi.kernels import hash_to_points, make_pool  # noqa: E402

GENERATE_CHUNK = 200_000


def stand_in_mask(scalar: bytes, points: bytes, keep: int = 32) -> bytes:
    """XOR each point with a pad derived from the scalar: commutative, cheap and insecure."""
    pad = np.frombuffer(hashlib.blake2b(scalar, digest_size=32).digest(), dtype=np.uint8)
    masked = np.frombuffer(points, dtype=np.uint8).reshape(-1, 32) ^ pad
    return masked[:, :keep].tobytes()


def stand_in_hash_and_mask(scalar: bytes, keys: list[bytes]) -> bytes:
    return stand_in_mask(scalar, hash_to_points(keys))


def use_stand_in_cipher() -> None:
    core.psi.stream.mask_points = stand_in_mask
    core.psi.stream.hash_and_mask = stand_in_hash_and_mask


def write_ids(path: str, n: int, offset: int, multiplier: int, shift: int) -> None:
    """Write `n` rows `id,segment` whose ids are offset + a scrambled permutation of 0..n-1."""
    while math.gcd(multiplier, n) != 1:
        multiplier += 1
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,segment\n")
        for start in range(0, n, GENERATE_CHUNK):
            stop = min(n, start + GENERATE_CHUNK)
            f.write(
                "".join(
                    f"u{offset + (multiplier * i + shift) % n:010d},{i % 7}\n"
                    for i in range(start, stop)
                )
            )


def _high_water_kib(pid: int) -> int:
    """Peak resident set of a live process (VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(worker_pids: list[int]) -> dict:
    """Peak RSS of this process and of the pool workers.

    The workers are children of the forkserver, not of this process, so getrusage(CHILDREN)
    does not see them: their high-water marks are read from /proc before the pool stops.
    """
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kib = [_high_water_kib(pid) for pid in worker_pids]
    return {
        "peak_rss_self_mib": round(self_kib / 1024, 1),
        "peak_rss_workers_mib": [round(k / 1024, 1) for k in workers_kib],
        "peak_rss_total_mib": round((self_kib + sum(workers_kib)) / 1024, 1),
    }


def run(n: int, workers: int, protocol: str = "ecdh", kkrt_pool: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="privpad-psi-bench-") as tmp:
        inputs = [os.path.join(tmp, "alice.csv"), os.path.join(tmp, "bob.csv")]
        write_ids(inputs[0], n, 0, 1_000_003, 17)
        write_ids(inputs[1], n, n // 2, 998_244_353, 91)
        outputs = [os.path.join(tmp, "alice-out.csv"), os.path.join(tmp, "bob-out.csv")]
        hub = LocalLinkHub(["alice", "bob"])
        pool = make_pool(workers) if protocol == "ecdh" or kkrt_pool else None
        try:
            start = time.perf_counter()
            results = run_local_psi(
                inputs,
                ["id", "id"],
                parties=hub.parties,
                output_paths=outputs,
                hub=hub,
                pool=pool,
                tmp_dir=tmp,
                protocol=protocol,
            )
            wall = time.perf_counter() - start
            worker_pids = list(pool._processes) if pool is not None else []
            memory = peak_rss_mib(worker_pids)
            workers_cpu = sum(cpu_seconds(pid) for pid in worker_pids)
        finally:
            if pool is not None:
                pool.shutdown()
        common = results[0].report["intersection_size"]
        if common != n - n // 2 or results[1].report["intersection_size"] != common:
            raise SystemExit(f"wrong intersection size {common}, expected {n - n // 2}")
    traffic = hub.stats.snapshot()
    figures = {"x25519_mults_per_s": round(4 * n / wall)} if protocol == "ecdh" else {}
    return {
        "benchmark": f"{protocol}_psi_2party_csv",
        "ids_per_party": n,
        "overlap": 0.5,
        "intersection_size": common,
        "workers": workers if pool is not None else 0,
        "wall_s": round(wall, 2),
        "items_per_s": round(2 * n / wall),
        **figures,
        "bytes_sent": traffic["total_bytes"],
        "bytes_sent_per_party": traffic["sent_bytes"],
        "seconds_by_phase": {r.party: r.report["seconds"] for r in results},
        "cpu_s_party_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1),
        "cpu_s_workers": round(workers_cpu, 1),
        "load_average_1min": os.getloadavg()[0],
        **memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="100,000 ids per party")
    size.add_argument("--memory", action="store_true", help="10,000,000 ids per party")
    size.add_argument("--n", type=int, help="ids per party")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--protocol", choices=("ecdh", "kkrt"), default="ecdh")
    parser.add_argument("--kkrt-pool", action="store_true", help="KKRT: hash in the process pool")
    parser.add_argument(
        "--stand-in-cipher", action="store_true", help="insecure XOR masking (memory runs only)"
    )
    args = parser.parse_args()
    if args.stand_in_cipher:
        use_stand_in_cipher()
    n = args.n or (100_000 if args.quick else 10_000_000 if args.memory else 1_000_000)
    figures = run(n, args.workers, args.protocol, args.kkrt_pool)
    print(json.dumps(figures | {"stand_in_cipher": args.stand_in_cipher}))


if __name__ == "__main__":
    main()
