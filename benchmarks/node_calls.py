"""Node-to-node calls over loopback: pairing time and Health round trips (pinned mutual TLS).

Two installations (own data directories and SQLite databases, as `make network` makes them)
are initialised and paired; then this process calls bob -> alice `Health` with bob's key:
`rpc_ms` is the call on an established channel (envelope, nonce check, route lookup, audit
write on alice, reply), `with_handshake_ms` adds a fresh TLS connection, which is what one
`manage.py node health` pays. `pairing_s` is `node invite` at alice plus `node accept` at bob,
two `manage.py` processes (Django start-up dominates it). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 calls")
    args = parser.parse_args()
    calls = 40 if args.quick else args.calls
    with tempfile.TemporaryDirectory(prefix="privpad-bench-") as scratch:
        os.environ["PRIVPAD_DATA_DIR"] = str(Path(scratch) / "bench")
        from console.nodes.devnet import DevNode, pair

        ports = [(0, _free_port(), _free_port()) for _ in range(2)]  # (console, node, engine)
        alice = DevNode("alice", "Alice", Path(scratch) / "alice", ports[0])
        bob = DevNode("bob", "Bob", Path(scratch) / "bob", ports[1])
        load_before = os.getloadavg()[0]
        try:
            for node in (alice, bob):
                node.prepare()
                node.start_service()
            started = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON
                pair(alice, bob)
            pairing_s = time.perf_counter() - started
            result = _measure(alice, bob, calls)
        finally:
            alice.stop()
            bob.stop()
    result.update(pairing_s=round(pairing_s, 3), calls=calls)
    result.update(load_average_before=load_before, load_average_after=os.getloadavg()[0])
    print(json.dumps(result, indent=2))


def _measure(alice, bob, calls: int) -> dict:
    import grpc

    from console.nodes.link import transport
    from console.nodes.link.envelope import seal

    def read(node, name):
        return (node.data_dir / "node-identity" / name).read_bytes()

    key, cert, pinned = read(bob, "node.key"), read(bob, "node.crt"), read(alice, "node.crt")
    with_handshake = []
    for _ in range(max(calls // 10, 5)):
        started = time.perf_counter()
        transport.call(peer="alice", address=alice.node_address, root_cert=pinned, key=key,
                       cert_chain=cert, method="Health", payload=seal("bob", {}))  # fmt: skip
        with_handshake.append(time.perf_counter() - started)
    credentials = grpc.ssl_channel_credentials(pinned, key, cert)
    options = [*transport.GRPC_OPTIONS, ("grpc.ssl_target_name_override", "alice")]
    rpc = []
    with grpc.secure_channel(alice.node_address, credentials, options=options) as channel:
        stub = channel.unary_unary(f"/{transport.SERVICE}/Health")
        stub(seal("bob", {}), timeout=10)
        for _ in range(calls):
            started = time.perf_counter()
            stub(seal("bob", {}), timeout=10)
            rpc.append(time.perf_counter() - started)
    return {
        "rpc_ms_median": round(statistics.median(rpc) * 1000, 2),
        "rpc_ms_p95": round(sorted(rpc)[int(len(rpc) * 0.95) - 1] * 1000, 2),
        "with_handshake_ms_median": round(statistics.median(with_handshake) * 1000, 2),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
