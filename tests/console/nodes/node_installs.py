"""Separate PrivPad installations for tests: own data directory, SQLite database, node service.

`NodeInstall` is `make network`'s `Installation` (`console.nodes.devnet`) with free loopback
ports and a database copied from a template: two or three of them are independent nodes
talking over loopback, as in a network deployment. The template is migrated once per test
module and copied (migrating costs seconds per install).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from console.nodes.devnet import DATABASE, REPO, Installation, wait_for_port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NodeInstall(Installation):
    def __init__(self, root: Path, name: str, template: Path, network: bool = False):
        env = {"PRIVPAD_SECRET_KEY": f"test-only-secret-key-of-{name}-0123456789abcdef"}
        if network:  # every process of this node in network mode, as a deployed node is
            env["PRIVPAD_DEPLOYMENT"] = "network"
        super().__init__(name, root / name, env)
        self.port, self.web_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.data_dir.mkdir(parents=True)
        shutil.copy(template / DATABASE, self.data_dir / DATABASE)
        self.server: subprocess.Popen | None = None

    def manage(self, *args: str, check: bool = True, timeout: float = 120):
        return super().manage(*args, check=check, timeout=timeout)

    def act(self, action: str, *arguments):
        """Run `tests.console.federation.node_actions.<action>(*arguments)` in this node."""
        code = (
            "from tests.console.federation.node_actions import main; "
            f"main({action!r}, {json.dumps(json.dumps(arguments))})"
        )
        out = self.manage("shell", "-c", code).stdout
        return json.loads(out.rsplit("RESULT ", 1)[1])

    def init(self, node_name: str | None = None) -> None:
        self.manage("node", "init", "--name", node_name or self.name, "--address", self.address)

    def invite(self) -> str:
        return self.manage("node", "invite").stdout.strip()

    def serve(self) -> None:
        """Start this node's service and return once it says it is serving."""
        self.server = self.spawn(
            "manage.py", "node", "serve", "--listen", self.address, stdout=subprocess.PIPE
        )
        line = self.server.stdout.readline()
        if "serving on" not in line:
            self.stop_service()
            raise AssertionError(f"{self.name}'s node service did not start: {line}")

    def stop_service(self) -> None:
        """Stop only the node service (the node is then offline for its peers)."""
        if self.server is not None:
            self.stop_process(self.server)
            self.server = None

    def add_admin(self, password: str) -> None:
        env = dict(self.env(), DJANGO_SUPERUSER_PASSWORD=password)
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", "admin",
             "--email", "admin@example.org"],
            cwd=REPO, env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def serve_console(self) -> str:
        """Start this node's console (network mode) and return its URL once it answers."""
        env = dict(self.env(), PRIVPAD_DEPLOYMENT="network")
        self.spawn("-m", "daphne", "-b", "127.0.0.1", "-p", str(self.web_port),
                   "console.asgi:application", stdout=subprocess.DEVNULL, env=env)  # fmt: skip
        wait_for_port(self.web_port, 60, f"{self.name}'s console")
        return f"http://127.0.0.1:{self.web_port}"

    def stop(self) -> None:
        super().stop()
        self.server = None

    def file(self, name: str) -> bytes:
        return (self.data_dir / "node-identity" / name).read_bytes()

    def redirect_route(self, peer: str, address: str) -> None:
        """Point this node's route to `peer` at another address (as a hostile network could)."""
        with sqlite3.connect(self.data_dir / DATABASE, timeout=20) as db:
            db.execute(
                "UPDATE nodes_peerroute SET address=? WHERE node_id="
                "(SELECT id FROM nodes_node WHERE name=?)",
                (address, peer),
            )

    def node_calls(self) -> list[dict]:
        rows = self.query(
            "SELECT outcome, detail, actor_username FROM audit_auditevent WHERE action='node_call'"
        )
        return [{"outcome": o, "user": u, **json.loads(d)} for o, d, u in rows]


def call_node(
    peer: NodeInstall, key: bytes, cert: bytes, payload: bytes, method: str = "Health"
) -> bytes:
    """Call `method` at `peer`'s service with any key pair (a peer's, an old one, a forger's)."""
    from console.nodes.link import transport

    reply, _seconds = transport.call(
        peer=peer.name,
        address=peer.address,
        root_cert=peer.file("node.crt"),
        key=key,
        cert_chain=cert,
        method=method,
        payload=payload,
    )
    return reply


def migrated_template(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    Installation("template", directory).manage("migrate", "--noinput", "-v0")
    return directory


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")
