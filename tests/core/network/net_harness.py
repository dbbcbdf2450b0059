"""Run one program as several OS processes, one per party, over loopback network links.

`run_cluster(program, parties, tmp_path)` writes throwaway certificates (made here with
`cryptography`), one cluster file per party and the program, starts one Python process per
party with `PRIVPAD_TEST_CLUSTER` naming its cluster file, and returns each party's exit code,
its last stdout line parsed as JSON, and its stderr. Programs start with `PRELUDE`, which reads
the cluster file and calls `core.init(cluster_config=..., tls=...)`.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.comm.tls import make_certificate

ROOT = Path(__file__).resolve().parents[3]
LINK_TRANSPORT: str | None = None  # the parties' `link_transport` (None: the default)
PRELUDE = """
import json, os, sys
import numpy as np
import core as sf

CLUSTER = json.load(open(os.environ["PRIVPAD_TEST_CLUSTER"]))
SELF = CLUSTER["cluster_config"]["self_party"]


def init(**overrides):
    options = {
        "timeout": CLUSTER["timeout"],
        "connect_timeout": CLUSTER["connect_timeout"],
        "reconnect_grace": CLUSTER["reconnect_grace"],
    }
    if CLUSTER.get("link_transport"):
        options["link_transport"] = CLUSTER["link_transport"]
    if CLUSTER["tls"] is None:
        options["insecure_plaintext"] = True
    else:
        options["tls"] = CLUSTER["tls"]
    options.update(overrides)
    sf.init(cluster_config=CLUSTER["cluster_config"], **options)


def emit(value):
    print(json.dumps(value), flush=True)
"""


@dataclass
class PartyOutcome:
    returncode: int
    result: object
    stderr: str

    @property
    def error(self) -> str:
        """The last line of the traceback (what the party failed with)."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def relay_type():
    """`benchmarks/wan_relay.Relay`: a TCP relay that can delay, rate-limit and cut links."""
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    from wan_relay import Relay

    return Relay


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free now, below the kernel's ephemeral port range.

    A port freed after `bind(0)` comes from the ephemeral range, which the kernel hands out as
    the local port of every outgoing connection: another process (other tests run beside these
    on a shared machine) can take it before the party listens there. A port below that range
    is taken only by an explicit bind; each one picked at random is checked free (bound, then
    closed). A party that still finds its port taken fails with "cannot listen on ...", which
    `run_cluster` retries with other ports.
    """
    low = _ephemeral_low()
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(low - PORT_SPAN, low) if low - PORT_SPAN >= 1024 else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use: pick another
            port = sock.getsockname()[1]
        if port not in ports:
            ports.append(port)
    return ports


PORT_SPAN = 12_000  # ports below the ephemeral range that `free_ports` picks from


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def make_certificates(parties: list[str], directory: Path, ca: bool = False) -> dict:
    """Per party: its tls dict (paths), pinning every peer, or trusting one throwaway CA."""
    directory.mkdir(parents=True, exist_ok=True)
    issuer = make_certificate("privpad-test-ca") if ca else None
    if issuer:
        (directory / "ca.crt").write_bytes(issuer[1])
    for party in parties:
        key, cert = make_certificate(party, issuer=issuer)
        (directory / f"{party}.key").write_bytes(key)
        (directory / f"{party}.crt").write_bytes(cert)
    tls = {}
    for party in parties:
        spec = {"key": str(directory / f"{party}.key"), "cert": str(directory / f"{party}.crt")}
        if ca:
            spec["ca"] = str(directory / "ca.crt")
        else:
            spec["peers"] = {p: str(directory / f"{p}.crt") for p in parties if p != party}
        tls[party] = spec
    return tls


LISTEN_ATTEMPTS = 3  # runs with fresh ports when a party finds its port taken (`free_ports`)


def run_cluster(
    program: str,
    parties: list[str],
    tmp_path: Path,
    *,
    tls: str | None = "pinned",
    timeout: float = 20.0,
    connect_timeout: float = 10.0,
    wall: float = 60.0,
    tls_overrides: dict | None = None,
    reconnect_grace: float = 3.0,
    relay: Callable[[str], str] | None = None,
    roles: dict[str, str] | None = None,
    dial_overrides: dict[str, dict[str, str]] | None = None,
) -> dict[str, PartyOutcome]:
    """Start one process per party and wait (at most `wall` seconds) for all of them.

    `relay(address)` returns the address a party's peers dial instead of its own (a relay).
    `dial_overrides[party][peer]` is the address `party`'s cluster file gives `peer` (a
    misconfigured party). A run where a party could not listen on its port (taken meanwhile
    by another process) is run again on other ports, at most `LISTEN_ATTEMPTS` times.
    """
    options = {
        "tls": tls,
        "timeout": timeout,
        "connect_timeout": connect_timeout,
        "tls_overrides": tls_overrides,
        "reconnect_grace": reconnect_grace,
        "relay": relay,
        "roles": roles,
        "dial_overrides": dial_overrides,
    }
    for _attempt in range(LISTEN_ATTEMPTS):
        ports = dict(zip(parties, free_ports(len(parties)), strict=True))
        processes = _launch(program, parties, tmp_path, ports, **options)
        outcomes = _collect(processes, wall)
        taken = [
            p for p, o in outcomes.items() if f"cannot listen on 127.0.0.1:{ports[p]}" in o.stderr
        ]
        if not taken:
            return outcomes
    raise AssertionError(
        f"{LISTEN_ATTEMPTS} runs in a row, a party's port was taken before it listened "
        f"(last: {taken}); stderr:\n" + "\n".join(outcomes[p].stderr for p in taken)
    )


def _launch(
    program: str,
    parties: list[str],
    tmp_path: Path,
    ports: dict[str, int],
    *,
    tls,
    timeout,
    connect_timeout,
    tls_overrides,
    reconnect_grace,
    relay,
    roles,
    dial_overrides,
) -> dict[str, subprocess.Popen]:
    config = {p: {"address": f"127.0.0.1:{ports[p]}"} for p in parties}
    for party, role in (roles or {}).items():
        config[party]["role"] = role
    dialled = {p: relay(config[p]["address"]) if relay else config[p]["address"] for p in parties}
    certs = make_certificates(parties, tmp_path / "certs", ca=tls == "ca") if tls else {}
    certs.update(tls_overrides or {})
    (tmp_path / "program.py").write_text(PRELUDE + program)
    # The program runs behind a main guard: process pools (PSI) start their workers from a
    # forkserver that imports the main module, which must not run the program again.
    script = tmp_path / "main.py"
    script.write_text(
        "import runpy, sys\n"
        "if __name__ == '__main__':\n"
        f"    runpy.run_path({str(tmp_path / 'program.py')!r}, run_name='__party__')\n"
    )
    processes = {}
    for party in parties:
        wrong = (dial_overrides or {}).get(party, {})
        cluster_file = tmp_path / f"{party}.json"
        cluster_file.write_text(
            json.dumps(
                {
                    "cluster_config": {
                        "parties": {
                            p: config[p]
                            if p == party
                            else dict(config[p], address=wrong.get(p, dialled[p]))
                            for p in parties
                        },
                        "self_party": party,
                    },
                    "tls": certs.get(party),
                    "timeout": timeout,
                    "connect_timeout": connect_timeout,
                    "reconnect_grace": reconnect_grace,
                    "link_transport": LINK_TRANSPORT,
                }
            )
        )
        env = dict(os.environ, PRIVPAD_TEST_CLUSTER=str(cluster_file), PYTHONPATH=str(ROOT))
        processes[party] = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    return processes


def _collect(processes: dict[str, subprocess.Popen], wall: float) -> dict[str, PartyOutcome]:
    deadline = time.monotonic() + wall
    outcomes = {}
    for party, process in processes.items():
        try:
            out, err = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in processes.values():
                other.kill()
            out, err = process.communicate()
            raise AssertionError(f"party {party!r} hung for {wall}s; stderr:\n{err}") from None
        lines = [line for line in out.strip().splitlines() if line.strip()]
        try:
            result = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            result = lines[-1]
        outcomes[party] = PartyOutcome(process.returncode, result, err)
    return outcomes


def results(outcomes: dict[str, PartyOutcome]) -> dict[str, object]:
    """Every party's result, failing with the parties' stderr if any of them failed."""
    failed = {p: o.stderr for p, o in outcomes.items() if o.returncode != 0}
    assert not failed, "\n".join(f"--- {p}:\n{err}" for p, err in failed.items())
    return {p: o.result for p, o in outcomes.items()}
