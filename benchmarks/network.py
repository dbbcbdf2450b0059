"""Benchmark the engine's network links and print one JSON object.

Three measurements, each party in its own OS process on loopback with mutual TLS (throwaway
certificates made here):

- `kernels`: MPC kernels (inputs already shared, nothing revealed) over the network link
  against the same code over the in-memory hub (threads of one process), SEMI2K 2PC with a
  trusted first party and local truncation (as SPU) and ABY3 3PC with its exact truncation
  (as SPU's ABY3; each row names its `trunc_mode`): median seconds of `REPEAT`
  runs (all runs listed), CPU seconds of all parties, bytes per party, rounds, and the ratios
  network / in-memory
  (target: within 1.3x on mul, matmul, less).
- `wan`: the same kernels through `wan_relay.Relay` (100 Mbit/s, 20 ms RTT per direction),
  with rounds, to show which kernels are round-bound (seconds close to rounds x RTT).
- `psi`: KKRT-PSI of 1e6 x 1e6 ids (half in common) between two processes over TLS against
  the in-memory run of `benchmarks/psi.py`.
- `throughput`: two parties exchange 1e7-word (80 MB) messages both ways at once: MB/s per
  direction and peak resident memory per party.
- `floor` (`opening_cost`): a multiplication's opening (2 x 1e6 words each way) over the link
  against the same bytes on a bare gRPC stream with the same TLS and on a bare TLS socket: the
  link's own overhead, gRPC's, and the floor of encrypting on loopback that bounds every
  kernel's ratio (`benchmarks/opening_cost.py`).

`--transport` picks the party processes' link transport (`core.comm.transports`: raw TLS
sockets, the default, or gRPC); rows carry every party's CPU seconds (`cpu_seconds_per_party`).

The SEMI2K kernels against SecretFlow's SPU (two processes over its brpc link):
`benchmarks/spu_network.py`, which reuses this job.

    .venv/bin/python benchmarks/network.py [--quick] [--only kernels wan psi throughput floor]
        [--kernels mul less ...] [--protocols SEMI2K ABY3] [--transport socket|grpc]
        [--words N]   # e.g. --only throughput --words 100000000: 800 MB messages
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opening_cost import grpc_floor, link_exchange, tls_socket_floor  # noqa: E402
from spu_network import kernel_inputs  # noqa: E402  (numpy only: SPU's side shares it)
from wan_relay import Relay  # noqa: E402

from core.comm import LocalLinkHub, run_spmd  # noqa: E402
from core.comm.tls import TlsConfig, make_certificate  # noqa: E402
from core.comm.transports import DEFAULT_TRANSPORT, TRANSPORTS, transport_class  # noqa: E402
from core.mpc.config import RuntimeConfig  # noqa: E402
from core.mpc.context import MPCContext  # noqa: E402
from core.mpc.correlated import first_party_triples  # noqa: E402
from core.mpc.fixedpoint import FixedPoint  # noqa: E402
from core.mpc.kernels import activations, arith, compare, nonlinear  # noqa: E402
from core.mpc.protocols import make_protocol  # noqa: E402

KERNELS = {
    "mul": (arith.mul_ss, 2),
    "matmul": (arith.matmul_ss, 2),
    "less": (lambda c, x, y: arith.lift_bits(c, compare.less_ss(c, x, y)), 2),
    "sigmoid": (lambda c, x: activations.sigmoid(c, x, "real"), 1),
    "division": (nonlinear.div_ss, 2),
}
SIZES = {
    "mul": 1_000_000,
    "matmul": 512,
    "less": 1_000_000,
    "sigmoid": 100_000,
    "division": 100_000,
}
PROTOCOLS = {"SEMI2K": ["alice", "bob"], "ABY3": ["alice", "bob", "carol"]}
TRUNC_MODES = {"SEMI2K": "local", "ABY3": "exact"}  # printed with the results
WORDS = 10_000_000
REPEAT = 5  # runs per kernel; the median is reported (this machine is shared and noisy)
TRANSPORT = DEFAULT_TRANSPORT  # the link transport of the party processes (`--transport`)


# ----- one party's side of a kernel run (the same code over either link) ---------------------
def run_kernel(link, protocol: str, name: str, size: int, repeat: int = REPEAT) -> dict:
    # SEMI2K with local truncation, SPU's 2-party default, so spu_network.py compares like for
    # like (the engine's own default, exact truncation, adds one opened word per product).
    # ABY3 truncates exactly, as SPU's ABY3 does by default (TruncAPr2).
    trunc_mode = TRUNC_MODES[protocol]
    cfg, fxp = RuntimeConfig(protocol=protocol, trunc_mode=trunc_mode), FixedPoint(18)
    triples = first_party_triples(link, 0) if protocol == "SEMI2K" else None
    ctx = MPCContext(make_protocol(cfg, link, triples=triples), fxp)
    kernel, arity = KERNELS[name]
    inputs = kernel_inputs(name, size, arity)
    shape = inputs[0].shape
    shares = [
        ctx.proto.share(fxp.encode(v) if link.rank == i else None, i, shape)
        for i, v in enumerate(inputs)
    ]
    runs = []
    for _ in range(repeat):
        _barrier(link)
        sent0, rounds0 = _sent(link), link.stats.rounds.get(link.party, 0)
        start, cpu0 = time.perf_counter(), time.process_time()
        with np.errstate(over="ignore"):
            kernel(ctx, *shares)
        _barrier(link)
        runs.append((time.perf_counter() - start, time.process_time() - cpu0))
    seconds, cpu = sorted(runs)[len(runs) // 2]
    return {
        "seconds": seconds,
        "runs": [round(r[0], 4) for r in runs],
        # This process's CPU: one party's over the network, every party's in memory.
        "cpu_seconds": cpu,
        "bytes": _sent(link) - sent0,
        "rounds": link.stats.rounds.get(link.party, 0) - rounds0 - 1,  # minus the barrier
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited at exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sent(link) -> int:
    return link.stats.sent_by(link.party)


def _barrier(link) -> None:
    """Every party reaches this point before any leaves it (one tiny message each way)."""
    token = np.zeros(1, dtype=np.uint8)
    link.send_all(token)
    for peer in range(link.world_size):
        if peer != link.rank:
            link.recv(peer)


def in_memory(protocol: str, name: str, size: int) -> dict:
    hub = LocalLinkHub(PROTOCOLS[protocol])
    run = [lambda link: run_kernel(link, protocol, name, size, REPEAT)] * len(hub.parties)
    out = run_spmd(hub, run)
    return _merge(out, cpu=max(r["cpu_seconds"] for r in out))


def _merge(per_party: list[dict], cpu: float | None = None) -> dict:
    """One row from every party's figures (CPU: summed over processes unless given)."""
    return {
        "seconds": round(max(r["seconds"] for r in per_party), 4),
        "runs": max(per_party, key=lambda r: r["seconds"])["runs"],
        "cpu_seconds_all_parties": round(
            sum(r["cpu_seconds"] for r in per_party) if cpu is None else cpu, 4
        ),
        "cpu_seconds_per_party": [round(r["cpu_seconds"], 4) for r in per_party],
        "bytes_per_party_max": max(r["bytes"] for r in per_party),
        "rounds_max": max(r["rounds"] for r in per_party),
    }


# ----- the party processes --------------------------------------------------------------------
def party_main(spec_path: str) -> None:
    with open(spec_path) as handle:
        spec = json.load(handle)
    me, parties = spec["self"], sorted(spec["addresses"])
    tls = TlsConfig.from_dict(spec["tls"], [p for p in parties if p != me])
    transport_type = transport_class(spec.get("transport"))
    transport = transport_type(me, spec["addresses"], tls, connect_timeout=60).start()
    link = transport.link(parties, "bench")
    out = {}
    try:
        if spec["job"] == "throughput":
            out = throughput(link, spec["messages"], spec["words"])
        elif spec["job"] == "psi":
            out = kkrt_party(link, spec["input"], spec["tmp"], spec.get("output"))
        elif spec["job"] == "floor":
            out = floor_party(link, tls, spec)
        else:
            for name, size in spec["kernels"]:
                repeat = spec.get("repeat", REPEAT)
                out[name] = run_kernel(link, spec["protocol"], name, size, repeat)
    finally:
        transport.close()
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


def throughput(link, messages: int, words: int) -> dict:
    peer = 1 - link.rank
    payload = np.arange(words, dtype=np.uint64)
    _barrier(link)
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    sender = threading.Thread(target=lambda: [link.send(peer, payload) for _ in range(messages)])
    sender.start()
    for _ in range(messages):
        got = link.recv(peer)
        assert got.shape == payload.shape
        del got
    received = time.perf_counter() - start
    sender.join()
    _barrier(link)
    mb = messages * payload.nbytes / 1e6
    return {
        "mb_per_s_received": round(mb / received, 1),
        "rss_before_mb": round(rss_before, 1),
    }


def floor_party(link, tls, spec: dict) -> dict:
    words, repeat, peer = spec["words"], spec["repeat"], link.parties[1 - link.rank]
    raw, sockets = spec["raw_addresses"], spec["socket_addresses"]

    def barrier():
        _barrier(link)

    return {
        "link_exchange": link_exchange(link, words, repeat),
        "grpc_floor": grpc_floor(link.party, peer, raw, tls, words, repeat, barrier),
        "tls_socket_floor": tls_socket_floor(
            link.party, peer, sockets, spec["tls"], words, repeat, barrier
        ),
    }


def kkrt_party(link, path: str, tmp: str, output: str | None = None) -> dict:
    """KKRT-PSI of the ids in `path`; `output`: where the aligned intersection is written."""
    from core.psi.kkrt import kkrt_psi

    _barrier(link)
    start, cpu0 = time.perf_counter(), time.process_time()
    result = kkrt_psi(link, path, "id", output_path=output, tmp_dir=tmp)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu0,
        "intersection_size": int(result.report["intersection_size"]),
        "bytes": _sent(link),
    }


def bench_psi(n: int, directory: str) -> dict:
    import psi as psi_bench  # benchmarks/psi.py: its id files and its in-memory run

    parties = ["alice", "bob"]
    certs, addresses = certificates(parties, directory), free_addresses(parties)
    paths = {p: os.path.join(directory, f"{p}-ids.csv") for p in parties}
    psi_bench.write_ids(paths["alice"], n, 0, 1_000_003, 17)
    psi_bench.write_ids(paths["bob"], n, n // 2, 998_244_353, 91)
    inputs = {p: {"input": paths[p]} for p in parties}
    job = {"job": "psi", "tmp": directory}
    network = launch(job, parties, certs, addresses, None, directory, per_party=inputs)
    memory = psi_bench.run(n, 0, "kkrt")
    return {
        "ids_per_party": n,
        "intersection_size": network["alice"]["intersection_size"],
        "network_tls": {
            "seconds": round(max(r["seconds"] for r in network.values()), 2),
            "cpu_seconds_per_party": {p: round(r["cpu_seconds"], 1) for p, r in network.items()},
            "mb_sent_per_party": {p: round(r["bytes"] / 1e6, 1) for p, r in network.items()},
            "peak_rss_mb_per_party": {p: round(r["peak_rss_mb"]) for p, r in network.items()},
        },
        "in_memory": {"seconds": memory["wall_s"], "peak_rss_mb": memory["peak_rss_total_mib"]},
    }


def launch(job, parties, certs, addresses, dial, directory, per_party=None) -> dict:
    """Run `job` as one process per party; `dial[p]` overrides the address p's peers use and
    `per_party[p]` adds to p's job."""
    procs = {}
    for party in parties:
        # The party listens on its own address; its peers dial it through `dial` (a relay).
        view = {p: (dial or {}).get(p, addresses[p]) for p in parties}
        view[party] = addresses[party]
        spec_path = os.path.join(directory, f"{party}-{job['job']}.json")
        with open(spec_path, "w") as handle:
            spec = dict(job, transport=TRANSPORT, **(per_party or {}).get(party, {}))
            json.dump(dict(spec, self=party, addresses=view, tls=certs[party]), handle)
        procs[party] = subprocess.Popen(
            [sys.executable, __file__, "--party", spec_path], stdout=subprocess.PIPE, text=True
        )
    results = {}
    for party, proc in procs.items():
        out, _ = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"party {party} failed")
        results[party] = json.loads(out.strip().splitlines()[-1])
    return results


def certificates(parties: list[str], directory: str) -> dict:
    pems = {p: make_certificate(p) for p in parties}
    for party, (key, cert) in pems.items():
        for suffix, pem in (("key", key), ("crt", cert)):
            with open(os.path.join(directory, f"{party}.{suffix}"), "wb") as handle:
                handle.write(pem)
    return {
        party: {
            "key": os.path.join(directory, f"{party}.key"),
            "cert": os.path.join(directory, f"{party}.crt"),
            "peers": {p: os.path.join(directory, f"{p}.crt") for p in parties if p != party},
        }
        for party in parties
    }


def free_addresses(parties: list[str]) -> dict:
    import socket

    socks = [socket.socket() for _ in parties]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    addresses = {p: f"127.0.0.1:{s.getsockname()[1]}" for p, s in zip(parties, socks, strict=True)}
    for s in socks:
        s.close()
    return addresses


def bench_kernels(sizes: dict, directory: str, wan: bool, protocols: list[str]) -> list[dict]:
    rows = []
    for protocol in protocols:
        parties = PROTOCOLS[protocol]
        certs, addresses = certificates(parties, directory), free_addresses(parties)
        kernels = [[name, size] for name, size in sizes.items()]
        job = {"job": "kernels", "protocol": protocol, "kernels": kernels, "repeat": REPEAT}
        relays = [Relay(addresses[p]) for p in parties] if wan else []
        for relay in relays:
            relay.__enter__()
        try:
            dial = {p: r.address for p, r in zip(parties, relays, strict=True)} if wan else None
            network = launch(job, parties, certs, addresses, dial, directory)
        finally:
            for relay in relays:
                relay.__exit__()
        for name, size in kernels:
            row = {"protocol": protocol, "parties": len(parties), "kernel": name, "size": size}
            row["trunc_mode"] = TRUNC_MODES[protocol]
            row["network"] = _merge([network[p][name] for p in parties])
            if not wan:
                row["in_memory"] = in_memory(protocol, name, size)
                net, mem = row["network"], row["in_memory"]
                row["ratio"] = round(net["seconds"] / mem["seconds"], 2)
                row["cpu_ratio"] = round(
                    net["cpu_seconds_all_parties"] / mem["cpu_seconds_all_parties"], 2
                )
            row["peak_rss_mb_per_party"] = max(network[p]["peak_rss_mb"] for p in parties)
            rows.append(row)
    return rows


def bench_floor(words: int, repeat: int, directory: str) -> dict:
    """`opening_cost`'s three measurements between two processes (see that module)."""
    parties = ["alice", "bob"]
    ports = free_addresses([f"{p}{n}" for n in range(3) for p in parties])  # all distinct
    addresses, raw, sockets = ({p: ports[f"{p}{n}"] for p in parties} for n in range(3))
    certs = certificates(parties, directory)
    job = {"job": "floor", "words": words, "repeat": repeat}
    job.update(raw_addresses=raw, socket_addresses=sockets)
    out = launch(job, parties, certs, addresses, None, directory)
    report: dict = {"words_each_way": words, "repeat": repeat}
    for name in ("link_exchange", "grpc_floor", "tls_socket_floor"):
        rows = [out[p][name] for p in parties]
        report[name] = {
            "seconds": max(r["seconds"] for r in rows),
            "best_seconds": max(r["best_seconds"] for r in rows),
            "cpu_seconds_all_parties": round(sum(r["cpu_seconds"] for r in rows), 4),
        }
    return report


def bench_throughput(messages: int, words: int, directory: str) -> dict:
    parties = ["alice", "bob"]
    certs, addresses = certificates(parties, directory), free_addresses(parties)
    job = {"job": "throughput", "messages": messages, "words": words}
    out = launch(job, parties, certs, addresses, None, directory)
    return {
        "message_words": words,
        "messages_each_way": messages,
        "mb_per_s_per_direction": {p: out[p]["mb_per_s_received"] for p in parties},
        "peak_rss_mb_per_party": {p: round(out[p]["peak_rss_mb"], 1) for p in parties},
        "rss_before_transfer_mb": {p: out[p]["rss_before_mb"] for p in parties},
    }


def main() -> None:
    global TRANSPORT, REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--party", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument(
        "--only", nargs="+", choices=["kernels", "wan", "psi", "throughput", "floor"]
    )
    parser.add_argument("--words", type=int, default=WORDS, help="words per throughput message")
    parser.add_argument("--kernels", nargs="+", choices=sorted(SIZES), help="a subset of kernels")
    parser.add_argument("--protocols", nargs="+", choices=sorted(PROTOCOLS), help="a subset")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs per kernel (median)")
    parser.add_argument(
        "--transport", choices=sorted(TRANSPORTS), default=DEFAULT_TRANSPORT, help="link transport"
    )
    args = parser.parse_args()
    TRANSPORT, REPEAT = args.transport, args.repeat
    if args.party:
        party_main(args.party)
        return
    only = set(args.only or ["kernels", "wan", "psi", "throughput", "floor"])
    chosen = args.kernels or list(SIZES)
    sizes = {k: (max(64, v // 10) if args.quick else v) for k, v in SIZES.items() if k in chosen}
    if args.quick and "matmul" in sizes:
        sizes["matmul"] = 128
    protocols = args.protocols or list(PROTOCOLS)
    report: dict = {"transport": TRANSPORT, "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as directory:
        if "kernels" in only:
            report["loopback_tls"] = bench_kernels(sizes, directory, False, protocols)
        if "wan" in only:
            wan_sizes = {k: max(64, v // 10) for k, v in sizes.items()}
            if "matmul" in sizes:
                wan_sizes["matmul"] = min(sizes["matmul"], 256)
            report["wan_100mbit_20ms"] = bench_kernels(wan_sizes, directory, True, protocols)
        if "psi" in only:
            report["kkrt_psi"] = bench_psi(100_000 if args.quick else 1_000_000, directory)
        if "floor" in only:
            report["opening_cost"] = bench_floor(2 * SIZES["mul"], 3 * REPEAT, directory)
        if "throughput" in only:
            messages = 2 if args.quick or args.words > WORDS else 5
            report["throughput"] = bench_throughput(messages, args.words, directory)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
