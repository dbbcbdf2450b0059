"""`make network`: three PrivPad nodes on this machine (alice, bob, carol), paired, serving,
with the demo project and pipeline loaded across them.

Each node is a separate installation, as at three institutions: its own data directory
(`var/network/<name>/`: SQLite database, storage, node key pair and certificate), its own node
service (`manage.py node serve`, mutual TLS on 127.0.0.1:7101..7103), its own engine address
for runs (`PRIVPAD_ENGINE_ADDRESS`, 127.0.0.1:7201..7203) and its own console in network mode
(http://127.0.0.1:8001..8003). Every pair of nodes is paired through an invitation, exactly as
two admins would. Then the demo is loaded as the three admins would load it (`load_demo`: each
node uploads and authorises only its own dataset; alice creates the project, invites bob and
carol, who accept; alice's pipeline is replicated; bob and carol approve any request of its
disclosure plan: none while their published standing policies allow it, as the demo's do).
Safe to run again: what exists is kept (identities, pairings, users, the demo). Ctrl-C stops
every process it started.

With `--namespaces` (Linux; `console.nodes.netns`), each node runs in its own network namespace
with its own address (10.77.0.1..3 on a bridge, same ports as above) and reaches the others
only over that interface, as on three hosts; its console still serves on this machine's
127.0.0.1:8001..8003 (a socket handed to it). Its data goes to `var/network-namespaces/`, as a
node keeps the address it was made with.

Run with `python -m console.nodes.devnet [--base-dir DIR] [--namespaces]` from the repository
root. The tests' separate installations (`tests/console/nodes/node_installs.py`) are this
module's `Installation`.
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
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

from console.nodes.netns import NamespacesUnavailable, NodeNetwork

NODES = [("alice", "Alice Bank"), ("bob", "Bob Shop"), ("carol", "Carol Insurance")]
ADMIN, ADMIN_PASSWORD = "admin", "privpad-admin"
REPO = Path(__file__).resolve().parents[2]
DATABASE = "privpad.sqlite3"
CONSOLE_START = 60.0  # seconds for a console to answer on a loaded machine
# A node admin of this node (platform admins belong to no node: they cannot own projects).
NODE_ADMIN_CODE = (
    "import os; from console.accounts.models import User; from console.nodes.models import Node; "
    "User.objects.filter(username='{username}').exists() or User.objects.create_user("
    "username='{username}', password=os.environ['DJANGO_SUPERUSER_PASSWORD'], "
    "node=Node.objects.get(is_self=True), role='admin')"
)


class InstallationError(RuntimeError):
    """A `manage.py` command of an installation failed; the message carries its stderr."""


class Installation:
    """One PrivPad installation on this machine: a data directory and the processes it runs.

    Its `manage.py` commands and servers run in subprocesses with PRIVPAD_DATA_DIR set, so
    several installations are independent nodes talking over loopback (also the tests' nodes).
    With a `NodeNetwork` (`console.nodes.netns`), every process of it runs inside its own
    network namespace instead: its own interface and address, the others only over the wire.
    """

    def __init__(
        self,
        name: str,
        data_dir: Path,
        extra_env: dict | None = None,
        network: NodeNetwork | None = None,
    ):
        self.name, self.data_dir = name, data_dir
        self.extra_env = dict(extra_env or {})
        self.network = network
        self.processes: list[subprocess.Popen] = []

    def env(self) -> dict:
        return dict(os.environ, PRIVPAD_DATA_DIR=str(self.data_dir), **self.extra_env)

    def command(self, *args: str) -> list[str]:
        """`python ARGS` as this installation runs it (in its namespace, if it has one)."""
        argv = [sys.executable, *args]
        return self.network.command(self.name, argv) if self.network else argv

    def manage(self, *args: str, check: bool = True, timeout: float = 300):
        """Run `manage.py ARGS`; InstallationError with its stderr if it fails and `check`."""
        done = subprocess.run(
            self.command("manage.py", *args),
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            command = " ".join(args)
            raise InstallationError(f"{self.name}: manage.py {command} failed:\n{done.stderr}")
        return done

    def spawn(
        self, *args: str, stdout=None, env: dict | None = None, pass_fds: tuple[int, ...] = ()
    ) -> subprocess.Popen:
        """Start `python ARGS` for this installation (handing it `pass_fds`); `stop` ends it."""
        process = subprocess.Popen(
            self.command(*args),
            cwd=REPO,
            env=env or self.env(),
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            text=True,
            pass_fds=pass_fds,
        )
        self.processes.append(process)
        return process

    def start_console(self, port: int, log: Path, env: dict | None = None) -> subprocess.Popen:
        """Start this installation's console (daphne) serving http://127.0.0.1:`port`.

        The listening socket is opened here, on this machine's loopback, and handed to daphne
        (`--fd`): a console in a network namespace has no other way in, as behind a reverse
        proxy (and the port is held from the start, so nothing can take it meanwhile)."""
        try:
            listener = socket.create_server(("127.0.0.1", port))
        except OSError as error:
            message = f"{self.name}'s console cannot listen on {port}: {error}"
            raise InstallationError(message) from None
        with listener, log.open("a") as output:  # the console holds its own copies
            fd = listener.fileno()
            return self.spawn("-m", "daphne", "--fd", str(fd), "console.asgi:application",
                              stdout=output, env=env, pass_fds=(fd,))  # fmt: skip

    def wait_for_console(self, console: subprocess.Popen, port: int, log: Path) -> None:
        """Return once the console answers HTTP (requests wait on its socket meanwhile)."""
        deadline = time.monotonic() + CONSOLE_START
        while time.monotonic() < deadline:
            if console.poll() is not None:
                raise InstallationError(f"{self.name}'s console exited (see {log})")
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ).close()
                return
            except urllib.error.HTTPError:
                return  # an answer all the same
            except OSError:  # not answering yet (a timeout, or a reset while it starts)
                time.sleep(0.2)
        raise InstallationError(
            f"{self.name}'s console did not answer in {CONSOLE_START:.0f} s (see {log})"
        )

    def query(self, sql: str, *params) -> list[tuple]:
        """Read this installation's own database (as its admin could)."""
        with sqlite3.connect(self.data_dir / DATABASE, timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def peers(self) -> set[str]:
        rows = self.query(
            "SELECT n.name FROM nodes_peerroute r JOIN nodes_node n ON n.id = r.node_id"
        )
        return {name for (name,) in rows}

    def stop(self) -> None:
        """Terminate every process this installation started (killed if it lingers)."""
        for process in self.processes:
            process.terminate()
        for process in list(self.processes):
            self.stop_process(process)

    def stop_process(self, process: subprocess.Popen) -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self.processes.remove(process)


# The demo across the nodes (`manage.py network_demo STEP...` at each node, see
# `console.demo.network`): phases in order; the nodes of one phase load at the same time.
DEMO_PHASES = [
    {"alice": ("dataset", "project")},
    {"bob": ("dataset", "accept", "authorise"), "carol": ("dataset", "accept", "authorise")},
    {"alice": ("authorise", "pipeline")},
    {"bob": ("approve",), "carol": ("approve",)},
]


def node_admin(name: str) -> str:
    return f"{name}_admin"


def load_demo(nodes: dict[str, Installation], say=print) -> None:
    """Load the demo across running, paired nodes (`console.demo.network`), phase by phase."""
    for phase in DEMO_PHASES:
        with ThreadPoolExecutor(len(phase)) as pool:
            done = pool.map(
                lambda item: nodes[item[0]].manage(
                    "network_demo", *item[1], "--user", node_admin(item[0])
                ),  # fmt: skip
                phase.items(),
            )
            for result in list(done):
                for line in result.stdout.strip().splitlines():
                    say(f"  {line}")


class DevNode(Installation):
    def __init__(
        self,
        name: str,
        display: str,
        data_dir: Path,
        ports: tuple[int, int, int],
        network: NodeNetwork | None = None,
    ):
        web_port, node_port, engine = ports
        host = network.address(name) if network else "127.0.0.1"
        environment = {
            "PRIVPAD_DEPLOYMENT": "network",
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "PRIVPAD_ENGINE_ADDRESS": f"{host}:{engine}",
        }
        super().__init__(name, data_dir, environment, network)
        self.display, self.web_port = display, web_port
        self.node_address = f"{host}:{node_port}"
        self.console: subprocess.Popen | None = None

    def prepare(self) -> None:
        """Database, platform admin and node identity, each only if missing."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v0")
        made = self.manage("createsuperuser", "--noinput", "--username", ADMIN, "--email", "",
                           check=False)  # fmt: skip
        if made.returncode != 0 and "already taken" not in made.stderr:
            raise InstallationError(f"{self.name}: cannot create the admin user:\n{made.stderr}")
        if not (self.data_dir / "node-identity" / "node.crt").exists():
            self.manage("node", "init", "--name", self.name, "--address", self.node_address,
                        "--display-name", self.display)  # fmt: skip
        else:
            self.check_address()
        self.manage("shell", "-c", NODE_ADMIN_CODE.format(username=node_admin(self.name)))

    def check_address(self) -> None:
        """The node keeps the address it was made with: its peers call it there."""
        [(address,)] = self.query("SELECT address FROM nodes_node WHERE is_self")
        if address != self.node_address:
            raise InstallationError(
                f"{self.name} was made with the address {address}, not {self.node_address}: "
                f"use the same mode and ports as then, or another --base-dir"
            )

    def start_service(self) -> None:
        log = open(self.data_dir / "node.log", "a")  # noqa: SIM115 - closed with the process
        self.spawn("manage.py", "node", "serve", "--listen", self.node_address, stdout=log)

    def serve_console(self) -> None:
        self.console = self.start_console(self.web_port, self.data_dir / "console.log")

    def wait_until_serving(self) -> None:
        self.wait_for_console(self.console, self.web_port, self.data_dir / "console.log")


def pair(inviter: DevNode, acceptor: DevNode, attempts: int = 20) -> None:
    """inviter invites, acceptor accepts (retrying while the inviter's service starts)."""
    invitation = inviter.manage("node", "invite").stdout.strip()
    for _ in range(attempts):
        done = acceptor.manage("node", "accept", invitation, check=False)
        if done.returncode == 0:
            print(f"  {acceptor.name} accepted {inviter.name}'s invitation")
            return
        if "cannot connect" not in done.stderr:  # anything but "not listening yet" is final
            raise InstallationError(
                f"pairing {inviter.name} and {acceptor.name} failed:\n{done.stderr}"
            )
        time.sleep(0.5)
    raise InstallationError(f"{inviter.name}'s node service did not start (see its node.log)")


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    network = _namespaces(NODES) if args.namespaces else None
    base_dir = args.base_dir or REPO / "var" / ("network-namespaces" if network else "network")
    nodes = [
        DevNode(name, display, base_dir / name,
                (args.web_port + i, args.node_port + i, args.engine_port + i), network)
        for i, (name, display) in enumerate(NODES)
    ]  # fmt: skip
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print("Preparing alice, bob and carol (own databases, storage and certificates)...")
        if network:
            print(f"  each in its own {network.describe()}")
        for node in nodes:
            node.prepare()
            node.start_service()
        for inviter, acceptor in combinations(nodes, 2):
            if acceptor.name not in inviter.peers():
                pair(inviter, acceptor)
        if not args.no_demo:
            print("Loading the demo project and pipeline across the three nodes...")
            load_demo({node.name: node for node in nodes})
        for node in nodes:
            node.serve_console()
        for node in nodes:
            node.wait_until_serving()
        _print_welcome(nodes)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        _wait(nodes)
    except KeyboardInterrupt:
        pass
    except InstallationError as error:
        raise SystemExit(str(error)) from None
    finally:
        for node in nodes:
            node.stop()
        if network:
            network.close()
        print("Stopped the three nodes.")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--base-dir", type=Path, help="default var/network (or "
                        "var/network-namespaces with --namespaces)")  # fmt: skip
    ports = (("web", "console", 8001), ("node", "node service", 7101), ("engine", "engine", 7201))
    for option, what, port in ports:
        parser.add_argument(
            f"--{option}-port",
            type=int,
            default=port,
            help=f"alice's {what} port (bob's and carol's are the next two; default {port})",
        )
    parser.add_argument("--no-demo", action="store_true", help="paired nodes, no demo project")
    parser.add_argument(
        "--namespaces",
        action="store_true",
        help="each node in its own network namespace at 10.77.0.1..3 (Linux, unshare)",
    )
    return parser.parse_args(argv)


def _namespaces(nodes: list[tuple[str, str]]) -> NodeNetwork:
    try:
        return NodeNetwork.start([name for name, _ in nodes])
    except NamespacesUnavailable as refused:
        raise SystemExit(
            f"Network namespaces are unavailable here: {refused}. "
            "Run without --namespaces: the nodes then use loopback ports."
        ) from None


def _print_welcome(nodes: list[DevNode]) -> None:
    print("\nThree paired PrivPad nodes (network mode); Ctrl-C stops them:")
    for node in nodes:
        print(f"  {node.display:<16} http://127.0.0.1:{node.web_port}/  "
              f"node service {node.node_address}  data {node.data_dir}")  # fmt: skip
    print("Logins (demo passwords: change them before sharing a node):")
    for node in nodes:
        print(f"  {node.display:<16} {node_admin(node.name):<12} / {ADMIN_PASSWORD}  (node admin: "
              "projects, datasets, runs, votes, approvals)")  # fmt: skip
    print(f"  every node       {ADMIN:<12} / {ADMIN_PASSWORD}  (platform admin: pairing, people)")
    print("At alice: Projects -> Joint credit risk -> the demo pipeline -> Run all.")


def _wait(nodes: list[DevNode]) -> None:
    while True:
        for node in nodes:
            for process in node.processes:
                if process.poll() is not None:
                    raise SystemExit(f"a process of {node.name} exited; see {node.data_dir}/*.log")
        time.sleep(1)


if __name__ == "__main__":
    main()
