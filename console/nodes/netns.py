"""Nodes of one machine on their own networks: a Linux network namespace and address per node.

On one machine, nodes started on loopback ports can reach each other (and everything else) over
127.0.0.1. To try nodes as separate hosts, each node gets its own network namespace with one
interface and one address, and the namespaces meet on a bridge, as hosts on a switch:

    this process --(unshare --user --map-root-user --net)--> holder: bridge privpad0, no address
                                       |-- veth --> alice's namespace: eth0 10.77.0.1/24, lo
                                       |-- veth --> bob's namespace:   eth0 10.77.0.2/24, lo
                                       `-- veth --> carol's namespace: eth0 10.77.0.3/24, lo

The user namespace makes this unprivileged: the holder is root over networks it created and
nothing else. A node's processes run in its namespace (`NodeNetwork.command` prefixes
`nsenter`): they reach the others only through their eth0 and the bridge, and 127.0.0.1 is the
node's own loopback. Nothing in a namespace reaches the machine's network, and the machine
reaches a node only through sockets handed to it: a listening socket opened here on
127.0.0.1 and inherited by the node's console (`daphne --fd`) serves browsers and tests as a
reverse proxy in front of a real node would. The file system is shared as before (data
directories stay where they are).

Lifetime: the holder (`python -m console.nodes.netns hold NAME...`, started by
`NodeNetwork.start`) keeps one sleeping process in each node's namespace and tears everything
down when its stdin closes: `NodeNetwork.close`, or the death of the process that started it.
Those sleepers die with the holder (parent-death signal); a namespace vanishes when its last
process ends. Where namespaces are refused (no `unshare`, a container without user namespaces,
not Linux), or turned off with PRIVPAD_NODE_NAMESPACES=off, `start` raises
`NamespacesUnavailable` with the reason, and callers fall back to loopback ports.

This module imports no Django: the holder runs it as a plain script.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SUBNET = "10.77.0"  # node i gets SUBNET.(i+1)/24
BRIDGE = "privpad0"
SWITCH = "PRIVPAD_NODE_NAMESPACES"  # "off": never use namespaces
START_TIMEOUT = 20.0  # seconds for the holder to build the networks
SYSTEM_PATH = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")  # `ip` is often outside a user's PATH
PR_SET_PDEATHSIG = 1


class NamespacesUnavailable(RuntimeError):
    """Network namespaces cannot be used here; the message says why."""


class NodeNetwork:
    """Per-node network namespaces held by a holder process; `start` builds, `close` removes."""

    def __init__(self, holder: subprocess.Popen, members: dict[str, dict], nsenter: str):
        self.holder, self.members, self.nsenter = holder, members, nsenter

    @classmethod
    def start(cls, names: list[str], subnet: str = SUBNET) -> NodeNetwork:
        """Namespaces for `names` (addresses subnet.1, .2, ...), or NamespacesUnavailable."""
        tools, path = _tools()
        holder = subprocess.Popen(
            [tools["unshare"], "--user", "--map-root-user", "--net", "--",
             sys.executable, "-m", "console.nodes.netns", "hold", subnet, *names],
            cwd=Path(__file__).resolve().parents[2],
            env=dict(os.environ, PATH=path),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            network = cls(holder, _read_ready(holder), tools["nsenter"])
            network.check_entry()
        except NamespacesUnavailable:
            _end(holder)
            raise
        return network

    def address(self, name: str) -> str:
        """The node's own IP address (its eth0)."""
        return self.members[name]["address"]

    def command(self, name: str, argv: list[str]) -> list[str]:
        """`argv` to run inside the node's namespace (as root of the holder's user namespace,
        which is the calling user outside it)."""
        pid = self.members[name]["pid"]
        return [
            self.nsenter,
            f"--target={pid}",
            "--user",
            "--net",
            "--preserve-credentials",
            "--",
            *argv,
        ]

    def check_entry(self) -> None:
        """NamespacesUnavailable unless a process can enter a node's namespace (a sandbox may
        allow making namespaces but refuse entering them)."""
        try:
            entered = subprocess.run(
                self.command(next(iter(self.members)), ["true"]),
                capture_output=True,
                text=True,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise NamespacesUnavailable(f"cannot enter a node's namespace: {error}") from None
        if entered.returncode != 0:
            said = entered.stderr.strip() or f"exit status {entered.returncode}"
            raise NamespacesUnavailable(f"cannot enter a node's namespace: {said}")

    def describe(self) -> str:
        addresses = ", ".join(f"{n} {m['address']}" for n, m in self.members.items())
        return f"network namespaces on bridge {BRIDGE} ({addresses})"

    def close(self) -> None:
        """Tear down: the holder ends its sleepers, then the namespaces go with their last
        process (a node process still running keeps its own until it ends)."""
        _end(self.holder)

    def __enter__(self) -> NodeNetwork:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def _tools() -> tuple[dict[str, str], str]:
    """The programs needed, and a search path that finds them (`ip` is often in /usr/sbin)."""
    if os.environ.get(SWITCH, "").lower() in {"off", "0", "no", "false"}:
        raise NamespacesUnavailable(f"turned off ({SWITCH}={os.environ[SWITCH]})")
    if not sys.platform.startswith("linux"):
        raise NamespacesUnavailable(f"network namespaces are Linux only (this is {sys.platform})")
    search = os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_PATH])
    tools = {tool: shutil.which(tool, path=search) for tool in ("unshare", "nsenter", "ip")}
    missing = sorted(tool for tool, path in tools.items() if path is None)
    if missing:
        raise NamespacesUnavailable(f"missing {', '.join(missing)} (util-linux, iproute2)")
    return tools, search


def _read_ready(holder: subprocess.Popen) -> dict[str, dict]:
    """The holder's first line: {"ready": {name: {pid, address}}} or {"error": why}."""
    ready, _, _ = select.select([holder.stdout], [], [], START_TIMEOUT)
    line = holder.stdout.readline() if ready else ""
    if not ready:
        raise NamespacesUnavailable(f"the namespaces were not ready in {START_TIMEOUT:.0f} s")
    if not line:  # `unshare` itself refused (e.g. "Operation not permitted")
        holder.wait(timeout=5)
        said = holder.stderr.read().strip() or f"exit status {holder.returncode}"
        raise NamespacesUnavailable(said.splitlines()[-1])
    answer = json.loads(line)
    if "error" in answer:
        raise NamespacesUnavailable(answer["error"])
    return answer["ready"]


def _end(holder: subprocess.Popen) -> None:
    if holder.stdin and not holder.stdin.closed:
        holder.stdin.close()
    try:
        holder.wait(timeout=10)
    except subprocess.TimeoutExpired:
        holder.kill()
        holder.wait()
    for stream in (holder.stdout, holder.stderr):
        stream.close()


# ----- the holder: runs inside the new user and network namespace -----------------------------
def hold(subnet: str, names: list[str]) -> int:
    """Build the bridge and a namespace per name, say so on stdout, wait for stdin to close."""
    sleepers: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C at a terminal: the starter closes us
    try:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("link", "set", BRIDGE, "up")
        members = {}
        for index, name in enumerate(names):
            sleeper = _namespace_sleeper()
            sleepers.append(sleeper)
            address = f"{subnet}.{index + 1}"
            _attach(sleeper.pid, f"pp{index}", address)
            members[name] = {"pid": sleeper.pid, "address": address}
        print(json.dumps({"ready": members}), flush=True)
        sys.stdin.read()  # until the starter closes it or dies
        return 0
    except (OSError, subprocess.SubprocessError, HolderError) as error:
        print(json.dumps({"error": str(error)}), flush=True)
        return 1
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


class HolderError(RuntimeError):
    """A step of building the namespaces failed (the message names the command)."""


def _ip(*args: str, namespace_of: int | None = None) -> None:
    command = ["ip", *args]
    if namespace_of is not None:
        command = ["nsenter", f"--target={namespace_of}", "--net", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise HolderError(f"`{' '.join(command)}` failed: {done.stderr.strip()}")


def _namespace_sleeper() -> subprocess.Popen:
    """A process alone in a new network namespace, killed when the holder dies."""
    mine = os.readlink("/proc/self/ns/net")
    sleeper = subprocess.Popen(
        ["unshare", "--net", "--", "sleep", "infinity"], preexec_fn=_die_with_parent
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # unshare has moved it once its namespace differs
        try:
            if os.readlink(f"/proc/{sleeper.pid}/ns/net") != mine:
                return sleeper
        except FileNotFoundError:
            break
        time.sleep(0.005)
    sleeper.kill()
    raise HolderError(f"`unshare --net` did not make a namespace (exit {sleeper.wait()})")


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _attach(pid: int, link: str, address: str) -> None:
    """A veth pair: one end on the bridge, the other the namespace's eth0 at `address`."""
    _ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", str(pid))
    _ip("link", "set", link, "master", BRIDGE, "up")
    _ip("addr", "add", f"{address}/24", "dev", "eth0", namespace_of=pid)
    _ip("link", "set", "eth0", "up", namespace_of=pid)
    _ip("link", "set", "lo", "up", namespace_of=pid)


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "hold":
        raise SystemExit("usage: python -m console.nodes.netns hold SUBNET NAME...")
    sys.exit(hold(sys.argv[2], sys.argv[3:]))
