"""Our SEMI2K 2PC kernels against SecretFlow's SPU, both as two processes over their own network
link, in alternating rounds; prints one JSON object.

Ours: `benchmarks/network.py`'s kernel job (each party an OS process, mutual TLS over loopback,
trusted-first-party triples, inputs already shared). SPU's: SPU 0.9.5, SEMI2K over FM64 with 18
fraction bits (our FixedPoint(18)), trusted-first-party Beaver triples (SPU's default, the same
trust assumption as ours) and `SIGMOID_REAL` (our `sigmoid(..., "real")`), the two ranks as OS
processes linked by SPU's brpc link on loopback TCP (no TLS: SPU's link is plaintext here, ours
is encrypted). Each side times the kernel alone between two link barriers, with its inputs
already secret-shared (SPU: `Runtime.set_var` of shares made by `spu.Io`), so neither counts
sharing, compilation or reveal. SPU's result is reconstructed and checked against numpy.

The machine is shared and noisy, so the two sides alternate: each round runs every kernel
`--repeat` times on our side, then on SPU's, at the same sizes; the figure per kernel is the
median of all runs of all rounds (every run is listed), and `ours_over_spu` the ratio of the
medians (below 1: ours is faster). The load average is recorded around every round.

SPU is a benchmark-only extra that is never imported by the project's interpreter: install it
into a separate venv and name its interpreter (its side runs this same file with it):

    python3.11 -m venv /tmp/spu-venv && /tmp/spu-venv/bin/pip install spu==0.9.5 numpy
    .venv/bin/python benchmarks/spu_network.py --spu-python /tmp/spu-venv/bin/python
        [--rounds 3] [--repeat 3] [--quick]      # or PRIVPAD_SPU_PYTHON=/tmp/spu-venv/bin/python

Without an interpreter that can import `spu`, only our side runs and `spu` says why it was
skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

SPU_PYTHON_ENV = "PRIVPAD_SPU_PYTHON"
SPU_PARTIES = ["alice", "bob"]
FRACTION_BITS = 18
# Absolute tolerance of SPU's results against numpy (fixed point with 18 fraction bits; less
# is exact; division's reciprocal approximation dominates).
TOLERANCE = {"mul": 1e-3, "matmul": 0.5, "less": 0, "sigmoid": 5e-3, "division": 1e-2}


# ----- SPU's side: runs under the SPU interpreter (imports only numpy, jax and spu) ----------
def spu_kernel(name: str):
    import jax
    import jax.numpy as jnp

    return {
        "mul": lambda x, y: x * y,
        "matmul": jnp.matmul,
        "less": lambda x, y: x < y,
        "sigmoid": jax.nn.sigmoid,
        "division": lambda x, y: x / y,
    }[name]


def kernel_inputs(name: str, size: int, arity: int) -> list[np.ndarray]:
    """The kernel's plaintext inputs, on both sides (`network.run_kernel` uses this too)."""
    rng = np.random.default_rng(1)
    shape = (size, size) if name == "matmul" else (size,)
    return [rng.uniform(0.5, 4, shape) for _ in range(arity)]


def spu_config():
    import spu

    config = spu.RuntimeConfig(protocol=spu.ProtocolKind.SEMI2K, field=spu.FieldType.FM64)
    config.fxp_fraction_bits = FRACTION_BITS
    config.sigmoid_mode = spu.RuntimeConfig.SigmoidMode.SIGMOID_REAL
    return config


def write_share(path: str, share) -> None:
    """One party's `spu.libspu.Share`: its meta and chunks, each length-prefixed."""
    with open(path, "wb") as handle:
        for blob in [share.meta, *share.share_chunks]:
            handle.write(struct.pack("<Q", len(blob)))
            handle.write(blob)


def read_share(path: str):
    import spu

    blobs = []
    with open(path, "rb") as handle:
        while header := handle.read(8):
            blobs.append(handle.read(struct.unpack("<Q", header)[0]))
    share = spu.libspu.Share()
    share.meta, share.share_chunks = blobs[0], blobs[1:]
    return share


def spu_round(spec_path: str) -> None:
    """Coordinator of one SPU round: share the inputs, run both ranks, check the results."""
    import spu

    with open(spec_path) as handle:
        spec = json.load(handle)
    directory, io = spec["directory"], spu.Io(len(SPU_PARTIES), spu_config())
    for name, size, arity in spec["kernels"]:
        for index, value in enumerate(kernel_inputs(name, size, arity)):
            shares = io.make_shares(value, spu.Visibility.VIS_SECRET)
            for rank, share in enumerate(shares):
                write_share(os.path.join(directory, f"{name}-in{index}-{rank}.share"), share)
    per_rank = run_spu_ranks(sys.executable, __file__, spec_path, timeout=1800)
    report = {}
    for name, size, arity in spec["kernels"]:
        outputs = [
            read_share(os.path.join(directory, f"{name}-out-{rank}.share"))
            for rank in range(len(SPU_PARTIES))
        ]
        error = _spu_error(name, io.reconstruct(outputs), kernel_inputs(name, size, arity))
        slowest = max(per_rank, key=lambda r: sorted(r[name]["runs"])[len(r[name]["runs"]) // 2])
        report[name] = {
            "runs": slowest[name]["runs"],
            "cpu_seconds_all_parties": round(sum(r[name]["cpu_seconds"] for r in per_rank), 4),
            "max_abs_error": error,
        }
    print(json.dumps(report), flush=True)


def run_spu_ranks(
    python: str, script: str, spec_path: str, timeout: float, prefix: str = ""
) -> list[dict]:
    """Run `script --spu-party spec_path RANK` under `python` for every SPU rank at once; each
    rank's result is the JSON of its last stdout line starting with `prefix` (SPU's native code
    logs to stdout too). SystemExit naming the rank if one fails or prints no result."""
    procs = [
        subprocess.Popen(
            [python, script, "--spu-party", spec_path, str(rank)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for rank in range(len(SPU_PARTIES))
    ]
    results = []
    for rank, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=timeout)
        lines = [line for line in out.splitlines() if line.strip() and line.startswith(prefix)]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"SPU rank {rank} failed (exit {proc.returncode})")
        results.append(json.loads(lines[-1][len(prefix) :]))
    return results


def _spu_error(name: str, got: np.ndarray, inputs: list[np.ndarray]) -> float:
    expected = {
        "mul": lambda x, y: x * y,
        "matmul": np.matmul,
        "less": lambda x, y: x < y,
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "division": lambda x, y: x / y,
    }[name](*inputs)
    error = float(np.max(np.abs(got.astype(np.float64) - expected)))
    if error > TOLERANCE[name]:
        raise SystemExit(f"SPU's {name} is wrong: max abs error {error}")
    return error


def brpc_link(addresses: list[str], rank: int):
    """SPU's brpc link between `SPU_PARTIES` at `addresses` (plaintext TCP), as rank `rank`;
    it waits up to a minute for the other rank and half an hour for any message."""
    import spu

    desc = spu.link.Desc()
    for party, address in zip(SPU_PARTIES, addresses, strict=True):
        desc.add_party(party, address)
    desc.connect_retry_times, desc.connect_retry_interval_ms = 120, 500
    desc.recv_timeout_ms = 1_800_000
    return spu.link.create_brpc(desc, rank)


def spu_party(spec_path: str, rank: int) -> None:
    """One SPU rank: a brpc link to the other rank, then every kernel `repeat` times."""
    import spu
    from spu.utils import frontend

    with open(spec_path) as handle:
        spec = json.load(handle)
    link = brpc_link(spec["addresses"], rank)
    runtime = spu.Runtime(link, spu_config())
    report = {}
    for name, size, arity in spec["kernels"]:
        names = [f"{name}-in{i}" for i in range(arity)]
        executable, _ = frontend.compile(
            frontend.Kind.JAX,
            spu_kernel(name),
            tuple(kernel_inputs(name, size, arity)),
            {},
            names,
            [spu.Visibility.VIS_SECRET] * arity,
            lambda _outputs, name=name: [f"{name}-out"],  # one output per kernel
        )
        for var in names:
            share_path = os.path.join(spec["directory"], f"{var}-{rank}.share")
            runtime.set_var(var, read_share(share_path))
        runs, cpu = [], []
        for _ in range(spec["repeat"]):
            link.barrier()
            start, cpu0 = time.perf_counter(), time.process_time()
            runtime.run(executable)
            link.barrier()
            runs.append(round(time.perf_counter() - start, 4))
            cpu.append(time.process_time() - cpu0)
        out_path = os.path.join(spec["directory"], f"{name}-out-{rank}.share")
        write_share(out_path, runtime.get_var(f"{name}-out"))
        for var in [*names, f"{name}-out"]:
            runtime.del_var(var)
        report[name] = {"runs": runs, "cpu_seconds": round(sorted(cpu)[len(cpu) // 2], 4)}
    link.stop_link()
    print(json.dumps(report), flush=True)


# ----- the driver: runs under the project's interpreter ---------------------------------------
def spu_unavailable(spu_python: str | None) -> str | None:
    """Why SPU's side cannot run with `spu_python` (None when it can)."""
    if not spu_python:
        return f"skipped: no SPU interpreter (give --spu-python PATH or set {SPU_PYTHON_ENV})"
    probe = [spu_python, "-c", "import spu; print(spu.__version__)"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=120)
    except OSError as error:
        return f"skipped: cannot run {spu_python}: {error}"
    if done.returncode != 0:
        return f"skipped: {spu_python} cannot import spu (pip install spu==0.9.5 into its venv)"
    return None


def run_spu_round(spu_python: str, kernels: list, repeat: int, directory: str) -> dict:
    from network import free_addresses

    addresses = free_addresses(SPU_PARTIES)
    spec = {
        "directory": directory,
        "addresses": [addresses[p] for p in SPU_PARTIES],
        "kernels": kernels,
        "repeat": repeat,
    }
    spec_path = os.path.join(directory, "spu-round.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    command = [spu_python, os.path.abspath(__file__), "--spu-round", spec_path]
    # SPU's native code logs to stdout; the JSON is the last line.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"SPU's round failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_our_round(kernels: list, repeat: int, directory: str) -> dict:
    import network

    parties = network.PROTOCOLS["SEMI2K"]
    certs, addresses = network.certificates(parties, directory), network.free_addresses(parties)
    job = {
        "job": "kernels",
        "protocol": "SEMI2K",
        "kernels": [[name, size] for name, size, _ in kernels],
        "repeat": repeat,
    }
    out = network.launch(job, parties, certs, addresses, None, directory)
    return {name: network._merge([out[p][name] for p in parties]) for name, _, _ in kernels}


def summarise(kernels: list, ours: dict, spu: dict | None) -> list[dict]:
    rows = []
    for name, size, _ in kernels:
        row = {"kernel": name, "size": size}
        row["ours_tls"] = _median_of(ours[name])
        if spu is not None:
            row["spu_brpc"] = _median_of(spu[name])
            row["spu_brpc"]["max_abs_error"] = max(r["max_abs_error"] for r in spu[name])
            ratio = row["ours_tls"]["seconds"] / row["spu_brpc"]["seconds"]
            row["ours_over_spu"] = round(ratio, 3)
            row["ours_faster"] = ratio < 1
            cpu = row["ours_tls"]["cpu_seconds_both_parties"]
            row["cpu_ours_over_spu"] = round(cpu / row["spu_brpc"]["cpu_seconds_both_parties"], 3)
        rows.append(row)
    return rows


def _median_of(rounds: list[dict]) -> dict:
    """Median seconds over every run of every round; median over rounds of the CPU seconds of
    both parties in one run (each round's median run): steadier than wall time under load."""
    runs = [run for one in rounds for run in one["runs"]]
    cpu = sorted(one["cpu_seconds_all_parties"] for one in rounds)
    return {
        "seconds": sorted(runs)[len(runs) // 2],
        "cpu_seconds_both_parties": cpu[len(cpu) // 2],
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spu-round", help=argparse.SUPPRESS)
    parser.add_argument("--spu-party", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--spu-python", default=os.environ.get(SPU_PYTHON_ENV))
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two sides")
    parser.add_argument("--repeat", type=int, default=3, help="runs per kernel per round")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    if args.spu_round:
        spu_round(args.spu_round)
        return
    if args.spu_party:
        spu_party(args.spu_party[0], int(args.spu_party[1]))
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import network

    sizes = {k: (max(64, v // 10) if args.quick else v) for k, v in network.SIZES.items()}
    kernels = [[name, size, network.KERNELS[name][1]] for name, size in sizes.items()]
    skipped = spu_unavailable(args.spu_python)
    ours: dict = {name: [] for name, _, _ in kernels}
    spu: dict = {name: [] for name, _, _ in kernels}
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(args.rounds):
            for name, result in run_our_round(kernels, args.repeat, directory).items():
                ours[name].append(result)
            if not skipped:
                for name, result in run_spu_round(
                    args.spu_python, kernels, args.repeat, directory
                ).items():
                    spu[name].append(result)
            load.append(os.getloadavg())
    report = {
        "protocol": "SEMI2K 2PC, FM64, 18 fraction bits, trusted first party",
        "ours": f"two processes, {network.TRANSPORT} link over loopback TLS (network.py)",
        "spu": skipped or "SPU two processes, brpc over loopback TCP",
        "rounds": args.rounds,
        "runs_per_kernel_per_round": args.repeat,
        "kernels": summarise(kernels, ours, None if skipped else spu),
        "load_average_per_round": load,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
