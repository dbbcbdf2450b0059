"""Separate PrivPad installations for tests: own data directory, SQLite database, node service.

Each `NodeInstall` runs `manage.py` in a subprocess with its own PRIVPAD_DATA_DIR, so two or
three of them are independent nodes talking over loopback, as in a network deployment. The
database is migrated once per test session and copied (migrating costs seconds per install).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATABASE = "privpad.sqlite3"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NodeInstall:
    def __init__(self, root: Path, name: str, template: Path, network: bool = False):
        self.name, self.port, self.network = name, free_port(), network
        self.address = f"127.0.0.1:{self.port}"
        self.data_dir = root / name
        self.data_dir.mkdir(parents=True)
        shutil.copy(template / DATABASE, self.data_dir / DATABASE)
        self.server: subprocess.Popen | None = None
        self.console: subprocess.Popen | None = None
        self.web_port = free_port()

    def env(self) -> dict:
        env = dict(os.environ, PRIVPAD_DATA_DIR=str(self.data_dir))
        if self.network:
            env["PRIVPAD_DEPLOYMENT"] = "network"
        env["PRIVPAD_SECRET_KEY"] = f"test-only-secret-key-of-{self.name}-0123456789abcdef"
        return env

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{self.name}: manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done

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
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "node", "serve", "--listen", self.address],
            cwd=REPO,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.server.stdout.readline()
        if "serving on" not in line:
            self.stop()
            raise AssertionError(f"{self.name}'s node service did not start: {line}")

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
        self.console = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.web_port),
             "console.asgi:application"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _answers(self.web_port), timeout=60)
        return f"http://127.0.0.1:{self.web_port}"

    def stop(self) -> None:
        if self.console is not None:
            self.console.terminate()
            self.console.wait(timeout=10)
            self.console = None
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.server.stdout.close()
            self.server = None

    def file(self, name: str) -> bytes:
        return (self.data_dir / "node-identity" / name).read_bytes()

    def query(self, sql: str, *params) -> list[tuple]:
        """Read this installation's own database (as its admin could), not the test database."""
        with sqlite3.connect(self.data_dir / DATABASE, timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def node_calls(self) -> list[dict]:
        rows = self.query(
            "SELECT outcome, detail, actor_username FROM audit_auditevent WHERE action='node_call'"
        )
        return [{"outcome": o, "user": u, **json.loads(d)} for o, d, u in rows]


def migrated_template(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PRIVPAD_DATA_DIR=str(directory))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    return directory


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")
