"""`make network`: three PrivPad nodes on this machine (alice, bob, carol), paired, serving.

Each node is a separate installation, as at three institutions: its own data directory
(`var/network/<name>/`: SQLite database, storage, node key pair and certificate), its own node
service (`manage.py node serve`, mutual TLS on 127.0.0.1:7101..7103) and its own console in
network mode (http://127.0.0.1:8001..8003). Every pair of nodes is paired through an
invitation, exactly as two admins would. Safe to run again: what exists is kept (identities,
pairings, users). Ctrl-C stops every process it started.

Run with `python -m console.nodes.devnet [--base-dir DIR]` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

NODES = [("alice", "Alice Bank"), ("bob", "Bob Shop"), ("carol", "Carol Insurance")]
ADMIN, ADMIN_PASSWORD = "admin", "privpad-admin"
REPO = Path(__file__).resolve().parents[2]
# A node admin of this node (platform admins belong to no node: they cannot own projects).
NODE_ADMIN_CODE = (
    "import os; from console.accounts.models import User; from console.nodes.models import Node; "
    "User.objects.filter(username='{username}').exists() or User.objects.create_user("
    "username='{username}', password=os.environ['DJANGO_SUPERUSER_PASSWORD'], "
    "node=Node.objects.get(is_self=True), role='admin')"
)


class DevNode:
    def __init__(self, name: str, display: str, data_dir: Path, web_port: int, node_port: int):
        self.name, self.display, self.data_dir = name, display, data_dir
        self.web_port, self.node_address = web_port, f"127.0.0.1:{node_port}"
        self.processes: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = dict(os.environ, PRIVPAD_DATA_DIR=str(self.data_dir), PRIVPAD_DEPLOYMENT="network")
        env["DJANGO_SUPERUSER_PASSWORD"] = ADMIN_PASSWORD
        return env

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise SystemExit(f"{self.name}: manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done

    def prepare(self) -> None:
        """Database, platform admin and node identity, each only if missing."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v0")
        made = self.manage("createsuperuser", "--noinput", "--username", ADMIN, "--email", "",
                           check=False)  # fmt: skip
        if made.returncode != 0 and "already taken" not in made.stderr:
            raise SystemExit(f"{self.name}: cannot create the admin user:\n{made.stderr}")
        if not (self.data_dir / "node-identity" / "node.crt").exists():
            self.manage("node", "init", "--name", self.name, "--address", self.node_address,
                        "--display-name", self.display)  # fmt: skip
        self.manage("shell", "-c", NODE_ADMIN_CODE.format(username=f"{self.name}_admin"))

    def peers(self) -> set[str]:
        with sqlite3.connect(self.data_dir / "privpad.sqlite3") as db:
            rows = db.execute(
                "SELECT n.name FROM nodes_peerroute r JOIN nodes_node n ON n.id = r.node_id"
            ).fetchall()
        return {name for (name,) in rows}

    def start(self, log_name: str, *args: str) -> None:
        log = open(self.data_dir / log_name, "a")  # noqa: SIM115 - closed with the process
        self.processes.append(
            subprocess.Popen(
                [sys.executable, *args], cwd=REPO, env=self.env(), stdout=log, stderr=log
            )
        )

    def start_service(self) -> None:
        self.start("node.log", "manage.py", "node", "serve", "--listen", self.node_address)

    def start_console(self) -> None:
        self.start("console.log", "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.web_port),
                   "console.asgi:application")  # fmt: skip

    def wait_for_console(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.web_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name}'s console did not start (see {self.data_dir}/console.log)")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def pair(inviter: DevNode, acceptor: DevNode, attempts: int = 20) -> None:
    """inviter invites, acceptor accepts (retrying while the inviter's service starts)."""
    invitation = inviter.manage("node", "invite").stdout.strip()
    for _ in range(attempts):
        done = acceptor.manage("node", "accept", invitation, check=False)
        if done.returncode == 0:
            print(f"  {acceptor.name} accepted {inviter.name}'s invitation")
            return
        if "cannot connect" not in done.stderr:  # anything but "not listening yet" is final
            raise SystemExit(f"pairing {inviter.name} and {acceptor.name} failed:\n{done.stderr}")
        time.sleep(0.5)
    raise SystemExit(f"{inviter.name}'s node service did not start (see its node.log)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-dir", type=Path, default=REPO / "var" / "network")
    parser.add_argument("--web-port", type=int, default=8001)
    parser.add_argument("--node-port", type=int, default=7101)
    args = parser.parse_args(argv)
    nodes = [
        DevNode(name, display, args.base_dir / name, args.web_port + i, args.node_port + i)
        for i, (name, display) in enumerate(NODES)
    ]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print("Preparing alice, bob and carol (own databases, storage and certificates)...")
        for node in nodes:
            node.prepare()
            node.start_service()
        for inviter, acceptor in combinations(nodes, 2):
            if acceptor.name not in inviter.peers():
                pair(inviter, acceptor)
        for node in nodes:
            node.start_console()
        for node in nodes:
            node.wait_for_console()
        _print_welcome(nodes)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        _wait(nodes)
    except KeyboardInterrupt:
        pass
    finally:
        for node in nodes:
            node.stop()
        print("Stopped the three nodes.")


def _print_welcome(nodes: list[DevNode]) -> None:
    print("\nThree paired PrivPad nodes (network mode); Ctrl-C stops them:")
    for node in nodes:
        print(f"  {node.display:<16} http://127.0.0.1:{node.web_port}/  "
              f"node service {node.node_address}  data {node.data_dir}")  # fmt: skip
    print(f"Log in to each as {ADMIN} / {ADMIN_PASSWORD} (platform admin: pairing, people) or as")
    print(f"<node>_admin / {ADMIN_PASSWORD} (node admin: projects, datasets, votes, approvals);")
    print("demo passwords: change them.")


def _wait(nodes: list[DevNode]) -> None:
    while True:
        for node in nodes:
            for process in node.processes:
                if process.poll() is not None:
                    raise SystemExit(f"a process of {node.name} exited; see {node.data_dir}/*.log")
        time.sleep(1)


if __name__ == "__main__":
    main()
