"""Separate PrivPad installations for tests: own data directory, SQLite database, node service.

`NodeInstall` is `make network`'s `Installation` (`console.nodes.devnet`) with free loopback
ports and a database copied from a template: two or three of them are independent nodes
talking over loopback, as in a network deployment. The template is migrated once per test
module and copied (migrating costs seconds per install). With `engine=True` a node also has
its own engine address for runs (`PRIVPAD_ENGINE_ADDRESS`, a free loopback port); its console
answers the REST API (`api`) as a browser or script would.

Given a `NodeNetwork` (`console.nodes.netns`, see `namespaces_if_allowed`), a node runs every
process in its own network namespace instead: its node service and engine listen on its own
address (the same ports at every node, as on separate hosts), and it reaches the others only
over its interface. Its console's listening socket is opened here, on this machine's loopback,
and handed to daphne (`--fd`), as a reverse proxy in front of a node would be: so the test
still drives the console's REST API (in both modes, one way of serving).
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from console.nodes.devnet import DATABASE, REPO, Installation, load_demo, node_admin
from console.nodes.netns import NamespacesUnavailable, NodeNetwork

_HANDED_OUT: set[int] = set()
NODE_PORT, ENGINE_PORT = 7100, 7200  # in namespaces: each node alone on its address
LOG = logging.getLogger(__name__)


def free_port() -> int:
    """A loopback port free now, and never one this process handed out before (the kernel may
    give a just-released port again: two servers of one test would then collide)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


class NodeInstall(Installation):
    def __init__(
        self,
        root: Path,
        name: str,
        template: Path,
        network: bool = False,
        engine: bool = False,
        namespaces: NodeNetwork | None = None,
    ):
        env = {"PRIVPAD_SECRET_KEY": f"test-only-secret-key-of-{name}-0123456789abcdef"}
        host = namespaces.address(name) if namespaces else "127.0.0.1"
        ports = (NODE_PORT, ENGINE_PORT) if namespaces else (free_port(), free_port())
        if network:  # every process of this node in network mode, as a deployed node is
            env["PRIVPAD_DEPLOYMENT"] = "network"
        if engine:
            env["PRIVPAD_ENGINE_ADDRESS"] = f"{host}:{ports[1]}"
        super().__init__(name, root / name, env, namespaces)
        self.port, self.web_port = ports[0], free_port()
        self.address = f"{host}:{self.port}"
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

    def init(self, node_name: str | None = None, admin: str = "", invitations: int = 0):
        """`manage.py node init`; with `admin`, also that node admin, and `invitations`
        invitations (`node invite`), returned: one process, as each Django start costs
        seconds on a loaded machine."""
        arguments = ["--name", node_name or self.name, "--address", self.address]
        if not admin:
            self.manage("node", "init", *arguments)
            return []
        code = (
            "from django.core.management import call_command; "
            f"call_command('node', 'init', *{arguments!r}); "
            "from tests.console.federation.node_actions import make_admin; "
            f"make_admin({admin!r}); "
            f"[call_command('node', 'invite') for _ in range({invitations})]"
        )
        out = self.manage("shell", "-c", code).stdout.splitlines()
        return [line for line in out if line.startswith("privpad-invitation/")]

    def invite(self) -> str:
        return self.manage("node", "invite").stdout.strip()

    def serve(self) -> None:
        """Start this node's service and return once it says it is serving."""
        self.server = self.spawn(
            "manage.py", "node", "serve", "--listen", self.address, stdout=subprocess.PIPE
        )
        said = []  # it may log first (e.g. runs it recovered): read up to its "serving on"
        while not said or ("serving on" not in said[-1] and said[-1]):
            said.append(self.server.stdout.readline())
        if "serving on" not in said[-1]:
            self.stop_service()
            raise AssertionError(f"{self.name}'s node service did not start: {''.join(said)}")
        # The service logs as it works (runs of other nodes execute in it): keep reading, so a
        # full pipe never blocks it, into node.log for a failing test to show.
        threading.Thread(target=_copy_lines, args=(self.server.stdout, self.log("node")),
                         daemon=True).start()  # fmt: skip

    def kill_service(self) -> None:
        """Kill the node service at once (SIGKILL), as a crash or a pulled cable would."""
        if self.server is not None:
            self.server.kill()
            self.stop_process(self.server)
            self.server = None

    def log(self, name: str) -> Path:
        return self.data_dir.parent / f"{self.name}-{name}.log"

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

    def serve_console(self, deployment: str = "network") -> str:
        """Start this node's console (network mode unless told) and return its URL once it
        answers. It serves on a socket opened here, on this machine's loopback (see above)."""
        env = dict(self.env(), PRIVPAD_DEPLOYMENT=deployment)
        console = self.start_console(self.web_port, self.log("console"), env)
        self.wait_for_console(console, self.web_port, self.log("console"))
        return f"http://127.0.0.1:{self.web_port}"

    def token(self, username: str, scope: str = "run") -> str:
        """A new API token of `username` (`manage.py create_api_token`)."""
        made = self.manage("create_api_token", username, "--name", "test", "--scope", scope)
        return made.stdout.strip()

    def api(self, token: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """GET (or POST `body` to) `/api/v1/<path>` of this node's console: (status, JSON)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}/api/v1/{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

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


DEMO_PARTIES = ("alice", "bob", "carol")
PAIRS = [("alice", "bob"), ("bob", "carol"), ("alice", "carol")]  # (inviter, acceptor)


class Placement(NamedTuple):
    """Where a test's nodes run: `network` (their namespaces) or None for loopback ports;
    `mode` says which ("in network namespaces ...", "on loopback ports (why)")."""

    network: NodeNetwork | None
    mode: str


@contextmanager
def namespaces_if_allowed(names) -> Iterator[Placement]:
    """Per-node network namespaces where this machine allows them (`console.nodes.netns`),
    else loopback ports, the reason logged. The namespaces are torn down on leaving."""
    try:
        network = NodeNetwork.start(list(names))
    except NamespacesUnavailable as refused:
        LOG.warning("nodes on loopback ports: network namespaces unavailable: %s", refused)
        yield Placement(None, f"on loopback ports (network namespaces unavailable: {refused})")
        return
    with network:
        yield Placement(network, f"in {network.describe()}")


@contextmanager
def demo_network(
    root: Path, template: Path, namespaces: NodeNetwork | None = None
) -> Iterator[dict[str, NodeInstall]]:
    """alice, bob and carol as `make network` makes them: separate installations in network
    mode with engine addresses (each in its own namespace, given `namespaces`), paired
    pairwise, the demo loaded by its own loader (`console.nodes.devnet.load_demo`), alice's
    console serving. Stopped on leaving."""
    nodes = {
        name: NodeInstall(root, name, template, network=True, engine=True, namespaces=namespaces)
        for name in DEMO_PARTIES
    }
    try:
        made = dict(at_once(nodes.values(), _start_with_admin))
        invitations = {pair: made[pair[0]].pop() for pair in PAIRS}
        for phase in (PAIRS[:2], PAIRS[2:]):  # at most one acceptance at a node at a time
            at_once(phase, lambda pair: nodes[pair[1]].manage("node", "accept",
                                                               invitations[pair]))  # fmt: skip
        load_demo(nodes, say=lambda line: None)
        nodes["alice"].serve_console()
        yield nodes
    finally:  # all at once: each node's processes take their time to stop
        at_once(nodes.values(), NodeInstall.stop)


def at_once(items, function) -> list:
    """`function` over `items` in threads: each starts processes of its own node, so on a
    loaded machine the nodes get ready in the time of about one."""
    items = list(items)
    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(function, items))


def _start_with_admin(node: NodeInstall) -> tuple[str, list[str]]:
    """Init the node with its admin and the invitations it hands out (`PAIRS`), serve it."""
    wanted = sum(inviter == node.name for inviter, _ in PAIRS)
    invitations = node.init(admin=node_admin(node.name), invitations=wanted)
    if len(invitations) != wanted:
        raise AssertionError(f"{node.name} made {len(invitations)} of {wanted} invitations")
    node.serve()
    return node.name, invitations


def _copy_lines(source, target: Path) -> None:
    with target.open("a") as log:
        try:
            for line in source:
                log.write(line)
                log.flush()
        except (ValueError, OSError):  # the pipe was closed when the service was stopped
            pass


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
