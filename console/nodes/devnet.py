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

With `--dealer`, a fourth installation joins them: dave ("Dave Trust Services", ports
8004/7104/7204, 10.77.0.4 with `--namespaces`), which serves SEMI2K's Beaver triples as a
dealer node (`PRIVPAD_SERVES_DEALER=true`, `console.federation.dealers`). It is paired with the
three and member of no project; once the demo is loaded, alice's admin proposes dave as the
demo project's dealer, bob's and carol's admins accept in turn (`network_demo propose_dealer`,
`accept_dealer`), and this waits until every member's copy of the project names dave: "Run
all" at alice then takes its triples from dave, whose operator sees the run under Nodes ->
Runs served as dealer node.

Run with `python -m console.nodes.devnet [--base-dir DIR] [--namespaces] [--dealer]` from the
repository root. The tests' separate installations (`tests/console/nodes/node_installs.py`)
are this module's `Installation`.
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
# `--dealer`: a fourth installation, no party, serving the demo project's Beaver triples (the
# name is `console.demo.network.DEALER`, as the project's is its `PROJECT_NAME`).
DEALER_NODE = ("dave", "Dave Trust Services")
DEMO_PROJECT = "Joint credit risk"
DEALER_AGREED = 60.0  # seconds for the project's new state to reach every member
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
# `--dealer`: the owner proposes dave, the members vote one after the other (the owner counts
# each vote as it arrives: two at once could race on the proposal's tally).
DEALER_PHASES = [
    {"alice": ("propose_dealer",)},
    {"bob": ("accept_dealer",)},
    {"carol": ("accept_dealer",)},
]


def node_admin(name: str) -> str:
    return f"{name}_admin"


def load_demo(nodes: dict[str, Installation], say=print, phases: list[dict] = DEMO_PHASES) -> None:
    """Load the demo across running, paired nodes (`console.demo.network`), phase by phase."""
    for phase in phases:
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
        serves_dealer: bool = False,
    ):
        web_port, node_port, engine = ports
        host = network.address(name) if network else "127.0.0.1"
        environment = {
            "PRIVPAD_DEPLOYMENT": "network",
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "PRIVPAD_ENGINE_ADDRESS": f"{host}:{engine}",
        }
        if serves_dealer:
            environment["PRIVPAD_SERVES_DEALER"] = "true"
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


def demo_dealer(node: Installation) -> str:
    """The demo project's dealer node as `node`'s copy names it ("": the trusted first party,
    None: no copy of the project there)."""
    found = node.query(
        "SELECT s.dealer FROM federation_sharedproject s "
        "JOIN projects_project p ON p.id = s.project_id WHERE p.name = ?",
        DEMO_PROJECT,
    )
    return found[0][0] if found else None


def wait_for_dealer(members: list[Installation], dealer: str) -> None:
    """Return once every member's copy of the demo project names `dealer` (a party whose copy
    names another source refuses the run); InstallationError naming those that do not."""
    deadline = time.monotonic() + DEALER_AGREED
    while lagging := [node.name for node in members if demo_dealer(node) != dealer]:
        if time.monotonic() > deadline:
            raise InstallationError(
                f"the demo project's copy at {', '.join(lagging)} does not name {dealer} as its "
                f"dealer node after {DEALER_AGREED:.0f} s (see their node.log)"
            )
        time.sleep(0.5)


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
    network = _namespaces(roster(args.dealer)) if args.namespaces else None
    nodes = plan(args, network)
    parties, names = nodes[: len(NODES)], _listed(node.name for node in nodes)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(f"Preparing {names} (own databases, storage and certificates)...")
        if network:
            print(f"  each in its own {network.describe()}")
        for node in nodes:
            node.prepare()
            node.start_service()
        for inviter, acceptor in combinations(nodes, 2):
            if acceptor.name not in inviter.peers():
                pair(inviter, acceptor)
        if not args.no_demo:
            _load_demo(nodes, parties, args.dealer)
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
        print(f"Stopped {names}.")


def roster(dealer: bool) -> list[tuple[str, str]]:
    """(name, display name) of the installations, in port order."""
    return [*NODES, DEALER_NODE] if dealer else list(NODES)


def plan(args: argparse.Namespace, network: NodeNetwork | None) -> list[DevNode]:
    """The installations to run: alice, bob and carol, and dave with `--dealer`, each with its
    data directory under the base directory and the next port of each series."""
    base_dir = args.base_dir or REPO / "var" / ("network-namespaces" if network else "network")
    return [
        DevNode(name, display, base_dir / name,
                (args.web_port + i, args.node_port + i, args.engine_port + i), network,
                serves_dealer=(name, display) == DEALER_NODE)
        for i, (name, display) in enumerate(roster(args.dealer))
    ]  # fmt: skip


def _load_demo(nodes: list[DevNode], parties: list[DevNode], dealer: bool) -> None:
    print("Loading the demo project and pipeline across the three nodes...")
    by_name = {node.name: node for node in nodes}
    load_demo(by_name)
    if dealer:
        print(f"Choosing {DEALER_NODE[0]} as the demo project's dealer node (the members vote)...")
        load_demo(by_name, phases=DEALER_PHASES)
        wait_for_dealer(parties, DEALER_NODE[0])
    elif chosen := demo_dealer(parties[0]):
        print(
            f"Note: the demo project takes its Beaver triples from the dealer node {chosen} (an "
            "earlier --dealer), which is not started now: its runs are refused, naming it. Run "
            "with --dealer, or propose the trusted first party on alice's project page."
        )


def _listed(names) -> str:
    *others, last = names
    return f"{', '.join(others)} and {last}"


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
            help=f"alice's {what} port (bob's, carol's and dave's are the next ones; "
            f"default {port})",
        )
    parser.add_argument("--no-demo", action="store_true", help="paired nodes, no demo project")
    parser.add_argument(
        "--namespaces",
        action="store_true",
        help="each node in its own network namespace at 10.77.0.1, .2, ... (Linux, unshare)",
    )
    parser.add_argument(
        "--dealer",
        action="store_true",
        help="also dave, a fourth node serving the demo project's Beaver triples as its dealer "
        "node (proposed by alice, accepted by bob and carol)",
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
    print(f"\n{_listed(node.name for node in nodes)}: paired PrivPad nodes (network mode); "
          "Ctrl-C stops them:")  # fmt: skip
    for node in nodes:
        print(f"  {node.display:<20} http://127.0.0.1:{node.web_port}/  "
              f"node service {node.node_address}  data {node.data_dir}")  # fmt: skip
    print("Logins (demo passwords: change them before sharing a node):")
    for node in nodes:
        duties = ("runs served as dealer node" if node.name == DEALER_NODE[0]
                  else "projects, datasets, runs, votes, approvals")  # fmt: skip
        print(f"  {node.display:<20} {node_admin(node.name):<12} / {ADMIN_PASSWORD}  "
              f"(node admin: {duties})")  # fmt: skip
    print(
        f"  every node           {ADMIN:<12} / {ADMIN_PASSWORD}  (platform admin: pairing, people)"
    )
    print(f"At alice: Projects -> {DEMO_PROJECT} -> the demo pipeline -> Run all.")
    if any(node.name == DEALER_NODE[0] for node in nodes):
        print(f"Its Beaver triples come from {DEALER_NODE[0]}: at {DEALER_NODE[0]}, Nodes -> "
              "Runs served as dealer node lists the run.")  # fmt: skip


def _wait(nodes: list[DevNode]) -> None:
    while True:
        for node in nodes:
            for process in node.processes:
                if process.poll() is not None:
                    raise SystemExit(f"a process of {node.name} exited; see {node.data_dir}/*.log")
        time.sleep(1)


if __name__ == "__main__":
    main()
