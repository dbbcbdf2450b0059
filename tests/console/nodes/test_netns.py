"""Per-node network namespaces (`console.nodes.netns`), and the loopback fallback where refused.

Each test here takes a fraction of a second: the namespaces are built by one holder process
(`unshare`, `ip`, `nsenter`), with no node installation. Where this machine refuses them, the
namespace tests skip with the reason (as CI in a locked-down container would).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from console.nodes.devnet import REPO
from console.nodes.netns import SWITCH, NamespacesUnavailable, NodeNetwork
from tests.console.nodes.node_installs import namespaces_if_allowed

PORT = 7100
LISTEN = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
print("listening", flush=True)
while True:
    server.accept()[0].close()
"""
PROBE = """
import json, socket, sys
def reach(host):
    try:
        socket.create_connection((host, int(sys.argv[1])), timeout=3).close()
        return "connected"
    except OSError as error:
        return type(error).__name__
interfaces = sorted(name for _, name in socket.if_nameindex())
print(json.dumps({"interfaces": interfaces, **{host: reach(host) for host in sys.argv[2:]}}))
"""


@pytest.fixture
def network():
    try:
        started = NodeNetwork.start(["alice", "bob"])
    except NamespacesUnavailable as refused:
        pytest.skip(f"network namespaces unavailable here: {refused}")
    with started:
        yield started


def python_in(network: NodeNetwork, name: str, code: str, *args: str) -> list[str]:
    return network.command(name, [sys.executable, "-c", code, *args])


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie is as good as gone
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_each_node_has_its_own_address_and_reaches_the_other_only_over_it(network):
    assert (network.address("alice"), network.address("bob")) == ("10.77.0.1", "10.77.0.2")
    server = subprocess.Popen(python_in(network, "bob", LISTEN, str(PORT)), stdout=subprocess.PIPE)
    try:
        assert server.stdout.readline() == b"listening\n"
        own_space = os.readlink(f"/proc/{server.pid}/ns/net")
        probe = python_in(network, "alice", PROBE, str(PORT), "10.77.0.2", "127.0.0.1")
        seen = json.loads(subprocess.run(probe, capture_output=True, timeout=30).stdout)
    finally:
        server.kill()
        server.wait()
        server.stdout.close()
    assert seen == {
        "interfaces": ["eth0", "lo"],
        "10.77.0.2": "connected",  # over alice's eth0 and the bridge
        "127.0.0.1": "ConnectionRefusedError",  # bob's port is not on alice's loopback
    }
    assert own_space != os.readlink("/proc/self/ns/net")


def test_closing_ends_the_holder_and_every_namespace_process(network):
    sleepers = [member["pid"] for member in network.members.values()]
    assert all(alive(pid) for pid in sleepers)
    network.close()
    assert network.holder.returncode == 0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in sleepers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in sleepers)


def test_a_killed_holder_takes_its_namespace_processes_with_it(network):
    sleepers = [member["pid"] for member in network.members.values()]
    os.kill(network.holder.pid, signal.SIGKILL)  # as if the test process had been killed
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in sleepers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in sleepers)


def test_the_switch_turns_namespaces_off_and_says_so(monkeypatch):
    monkeypatch.setenv(SWITCH, "off")
    with pytest.raises(NamespacesUnavailable, match=f"turned off \\({SWITCH}=off\\)"):
        NodeNetwork.start(["alice"])


def test_a_machine_refusing_user_namespaces_gets_the_reason():
    """As in a container without user namespaces: inside a user namespace allowed none."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    code = (
        "from console.nodes.netns import NodeNetwork, NamespacesUnavailable\n"
        "try:\n    NodeNetwork.start(['alice'])\n"
        "except NamespacesUnavailable as refused:\n    print('refused:', refused)\n"
    )
    refuse = f'echo 0 > /proc/sys/user/max_user_namespaces && exec {sys.executable} -c "$0"'
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", refuse, code],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if done.returncode != 0 and "refused" not in done.stdout:
        pytest.skip(f"cannot build a refusing user namespace here: {done.stderr.strip()}")
    assert done.stdout.startswith("refused: unshare: unshare failed:"), done


def test_the_tests_fall_back_to_loopback_ports_naming_the_reason(monkeypatch, caplog):
    monkeypatch.setenv(SWITCH, "off")
    with caplog.at_level(logging.WARNING), namespaces_if_allowed(["alice"]) as placed:
        assert placed.network is None
    assert (
        placed.mode
        == f"on loopback ports (network namespaces unavailable: turned off ({SWITCH}=off))"
    )
    assert "network namespaces unavailable: turned off" in caplog.text
