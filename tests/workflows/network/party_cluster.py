"""Start one `manage.py runpart` process per party on loopback and follow their events.

`PartyCluster(tmp_path, storage)` makes throwaway certificates (pinned, as
`tests/core/network/net_harness`), free ports and one job + network file per party;
`start(run_id, on_event)` starts the processes; `wait(wall)` collects each party's events,
result (the last stdout line) and exit code, killing everything after `wall` seconds (a hang
fails the test). `on_event(party, event, cluster)` sees every event as it arrives (e.g. to
kill a party when a node starts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.workflows.network.demo_job import PARTIES, demo_job
from workflows.party_jobs import job_to_dict

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "core" / "network"))
from net_harness import free_ports, make_certificates  # noqa: E402


@dataclass
class PartyRun:
    process: subprocess.Popen
    events: list[dict] = field(default_factory=list)
    stderr: str = ""
    readers: list = field(default_factory=list)

    @property
    def result(self) -> dict | None:
        last = self.events[-1] if self.events else None
        return last if last and last.get("event") == "result" else None

    def statuses(self) -> dict[str, str]:
        return {node: outcome["status"] for node, outcome in self.result["nodes"].items()}


class PartyCluster:
    def __init__(
        self,
        tmp_path: Path,
        storage: dict[str, Path],
        *,
        reconnect_grace=2.0,
        parties: tuple[str, ...] = PARTIES,
        make_job=demo_job,
    ):
        """`parties` run (the cluster); `make_job(run_id, storage, party)` is a party's job."""
        self.tmp, self.storage, self.parties, self.make_job = tmp_path, storage, parties, make_job
        self.certs = make_certificates(list(parties), tmp_path / "certs")
        self.reconnect_grace = reconnect_grace
        self.runs: dict[str, PartyRun] = {}

    def _files(self, run_id: str, party: str, ports: dict[str, int]) -> list:
        addresses = {p: {"address": f"127.0.0.1:{ports[p]}"} for p in self.parties}
        job = job_to_dict(self.make_job(run_id, {party: self.storage[party]}, party))
        network = {
            "cluster_config": {"parties": addresses, "self_party": party},
            "tls": self.certs[party],
            "timeout": 60.0,
            "connect_timeout": 8.0,
            "reconnect_grace": self.reconnect_grace,
        }
        directory = self.tmp / f"run-{run_id}"
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for name, data in (("job", job), ("network", network)):
            path = directory / f"{party}-{name}.json"
            path.write_text(json.dumps(data))
            files.append(str(path))
        return files

    def start(self, run_id: str, on_event=None, absent: tuple[str, ...] = ()) -> None:
        """Start every party but the `absent` ones."""
        ports = dict(zip(self.parties, free_ports(len(self.parties)), strict=True))
        self.runs = {}
        for party in self.parties:
            if party in absent:
                continue
            files = self._files(run_id, party, ports)
            process = subprocess.Popen(
                [sys.executable, "manage.py", "runpart", *files],
                cwd=ROOT,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.runs[party] = PartyRun(process)
        for party, run in self.runs.items():
            run.readers = [
                threading.Thread(target=self._follow, args=(party, run, on_event), daemon=True),
                threading.Thread(target=self._errors, args=(run,), daemon=True),
            ]
            for reader in run.readers:
                reader.start()

    def _errors(self, run: PartyRun) -> None:
        run.stderr = run.process.stderr.read()

    def _follow(self, party: str, run: PartyRun, on_event) -> None:
        for line in run.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            run.events.append(event)
            if on_event is not None:
                on_event(party, event, self)

    def kill(self, party: str) -> None:
        self.runs[party].process.kill()

    def wait(self, wall: float) -> dict[str, PartyRun]:
        deadline = time.monotonic() + wall
        for party, run in self.runs.items():
            try:
                run.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                for other in self.runs.values():
                    other.process.kill()
                raise AssertionError(f"{party} hung for {wall}s") from None
        for run in self.runs.values():
            for reader in run.readers:
                reader.join(timeout=5)
        return self.runs
