"""A throwaway production-shaped console: redis-server, daphne and `db_worker` processes.

Everything listens on 127.0.0.1 only and lives in a temporary data directory (SQLite, node
storage) loaded with the demo (`migrate`, `bootstrap_demo`). The processes get the settings
production uses (`DATABASE_URL`, `REDIS_URL`, `PRIVPAD_RUN_EXECUTION=worker`): the database is a
throwaway PostgreSQL 15 cluster (`console.testing.pgcluster`; fsync off) when Debian's server is
installed, else SQLite in the data directory; runs go through django-tasks-db's queue, are
executed by separate `manage.py db_worker` processes, and their events reach daphne through
Redis. `LiveStack` is a context manager: on leaving it (also after a failure) it terminates
every process it started and removes the directory; if the harness itself is killed, its
servers get SIGTERM from the kernel (`PR_SET_PDEATHSIG`). The caller's own Django settings and
database are never touched: `DATABASE_URL` and other `PRIVPAD_*` variables are not passed on.
"""

from __future__ import annotations

import ctypes
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from console.testing.pgcluster import ThrowawayCluster, find_pg_bin, free_port

REPO = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
WORKER_POLL_SECONDS = "0.2"


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class LiveStack:
    def __init__(self, workers: int = 2, postgres: bool = True) -> None:
        self.worker_count = workers
        pg_bin = find_pg_bin() if postgres else None
        self.postgres = ThrowawayCluster(pg_bin) if pg_bin is not None else None
        self.root = Path(tempfile.mkdtemp(prefix="privpad-wsload-"))
        self.redis_port, self.http_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.workers: list[subprocess.Popen] = []
        self.base_url = f"http://{HOST}:{self.http_port}"

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> LiveStack:
        try:
            if self.postgres is not None:
                self.postgres.start()
            self._start_redis()
            self._manage("migrate", "--noinput", "-v0")
            self._manage("bootstrap_demo")
            self._start_daphne()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:  # the servers' own words, before their logs are removed
            for name in ("daphne", *(f"worker-{i}" for i in range(self.worker_count))):
                tail = self.log_tail(name)
                if tail.strip():
                    print(f"--- {name} log (end) ---\n{tail}", file=sys.stderr)
        self.stop()

    def stop(self) -> None:
        self.stop_workers()
        for process in reversed(list(self.processes.values())):
            _terminate(process)
        self.processes.clear()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def database(self) -> str:
        return "postgresql" if self.postgres is not None else "sqlite"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PRIVPAD_") and key not in {"DATABASE_URL", "REDIS_URL"}
        }
        if self.postgres is not None:
            env["DATABASE_URL"] = self.postgres.url
        return env | {
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "PRIVPAD_DATA_DIR": str(self.root / "data"),
            "REDIS_URL": f"redis://{HOST}:{self.redis_port}/0",
            "PRIVPAD_RUN_EXECUTION": "worker",
            "PRIVPAD_LOG_LEVEL": "WARNING",
        }

    def _manage(self, *args: str) -> None:
        command = [sys.executable, "manage.py", *args]
        done = subprocess.run(
            command, cwd=REPO, env=self.env(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        process.log = log  # type: ignore[attr-defined]
        return process

    def _start_redis(self) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        (self.root / "redis").mkdir()
        command = [binary, "--port", str(self.redis_port), "--bind", HOST, "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.root / "redis")]
        self.processes["redis"] = self._spawn("redis", command)
        _wait_until(lambda: _redis_pong(self.redis_port), "redis-server", self.processes["redis"])

    def _start_daphne(self) -> None:
        command = [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(self.http_port)]
        self.processes["daphne"] = self._spawn("daphne", [*command, "console.asgi:application"])
        _wait_until(lambda: _answers(self.base_url), "daphne", self.processes["daphne"])

    def start_workers(self) -> None:
        """Start the `db_worker` processes (each executes one run at a time: the cap)."""
        for index in range(self.worker_count):
            command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay"]
            command += ["--no-reload", "--interval", WORKER_POLL_SECONDS, "-v0"]
            self.workers.append(self._spawn(f"worker-{index}", command))

    def stop_workers(self) -> None:
        for worker in self.workers:
            _terminate(worker)
        self.workers.clear()

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def log_tail(self, name: str, size: int = 3000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # -- HTTP ----------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> HttpSession:
        return HttpSession(self.base_url, username, password)


class HttpSession:
    """One user signed in through the login form (session and CSRF cookies)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base_url}/accounts/login/", timeout=30).read()
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf}
        request = urllib.request.Request(
            f"{base_url}/accounts/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Origin": base_url, "Referer": f"{base_url}/accounts/login/"},
        )
        self.opener.open(request, timeout=30).read()
        if "sessionid" not in self.cookies:
            raise RuntimeError(f"could not sign in as {username}")

    @property
    def cookies(self) -> dict[str, str]:
        return {cookie.name: cookie.value for cookie in self.jar}

    @property
    def csrf(self) -> str:
        return self.cookies["csrftoken"]

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def api(self, method: str, path: str, body: dict | None = None):
        headers = {"Accept": "application/json", "Origin": self.base_url}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/{path}", data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read()[:2000].decode(errors="replace")
            raise RuntimeError(f"{method} /api/v1/{path} answered {error.code}: {detail}") from None


def rss_kib(pid: int) -> dict[str, int]:
    """Current and peak resident memory of a process (KiB), from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return {"rss_kib": fields.get("VmRSS", 0), "peak_rss_kib": fields.get("VmHWM", 0)}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when its parent dies, even by SIGKILL (Linux)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
    log = getattr(process, "log", None)
    if log is not None:
        log.close()


def _wait_until(ready, name: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer within {START_TIMEOUT_SECONDS} s")
        time.sleep(0.1)


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _answers(base_url: str) -> bool:
    try:
        urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=2).read()
        return True
    except (OSError, urllib.error.URLError):
        return False
