"""`make network`'s wiring (`console.nodes.devnet`) without starting a console: which
installations it plans, on which ports and addresses, with which settings, and which demo
steps it runs at which node, in order.

Starting the nodes for real takes minutes on a loaded machine: the demo across three real nodes
is `tests/console/federation/test_demo_across_nodes.py`, a dealer node's part of a run
`tests/console/federation/test_dealer_across_nodes.py`, and `--dealer` as a whole is tried by
hand (`python -m console.nodes.devnet --dealer`). The demo steps themselves are
`tests/console/demo/test_network_demo.py`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from console.nodes import devnet


def planned(*options: str, network=None) -> dict[str, devnet.DevNode]:
    args = devnet._arguments(["--base-dir", "/srv/net", *options])
    return {node.name: node for node in devnet.plan(args, network)}


class Addresses:
    """What `plan` asks of a `NodeNetwork`: each node's own address (10.77.0.i, in order)."""

    def __init__(self, names: list[str]):
        self.names = names

    def address(self, name: str) -> str:
        return f"10.77.0.{self.names.index(name) + 1}"


class Recorder(devnet.Installation):
    """An installation that records its `manage.py` commands and reads a given dealer."""

    def __init__(self, name: str, log: list, dealer: str | None = None):
        super().__init__(name, Path("/nonexistent") / name)
        self.log, self.dealer = log, dealer

    def manage(self, *args: str, check: bool = True, timeout: float = 300):
        self.log.append((self.name, args))
        return subprocess.CompletedProcess(args, 0, stdout=f"{self.name}: done\n", stderr="")

    def query(self, sql: str, *params) -> list[tuple]:
        assert params == (devnet.DEMO_PROJECT,)
        return [] if self.dealer is None else [(self.dealer,)]


def test_it_plans_the_three_nodes_with_the_first_ports_and_no_dealer():
    nodes = planned()
    assert list(nodes) == ["alice", "bob", "carol"]
    assert [n.web_port for n in nodes.values()] == [8001, 8002, 8003]
    assert [n.node_address for n in nodes.values()] == [
        f"127.0.0.1:{p}" for p in (7101, 7102, 7103)
    ]
    assert nodes["carol"].data_dir == Path("/srv/net/carol")
    assert not any("PRIVPAD_SERVES_DEALER" in n.extra_env for n in nodes.values())


def test_with_dealer_dave_is_the_fourth_node_and_serves_triples():
    nodes = planned("--dealer")
    assert list(nodes) == ["alice", "bob", "carol", "dave"]
    dave = nodes["dave"]
    assert dave.display == "Dave Trust Services"
    assert dave.data_dir == Path("/srv/net/dave")
    assert (dave.web_port, dave.node_address) == (8004, "127.0.0.1:7104")
    assert dave.extra_env["PRIVPAD_ENGINE_ADDRESS"] == "127.0.0.1:7204"
    assert dave.extra_env["PRIVPAD_DEPLOYMENT"] == "network"
    assert dave.extra_env["PRIVPAD_SERVES_DEALER"] == "true"
    assert not any("PRIVPAD_SERVES_DEALER" in nodes[n].extra_env for n in ("alice", "bob", "carol"))


def test_moved_ports_move_daves_too():
    dave = planned("--dealer", "--web-port", "9001", "--node-port", "9101", "--engine-port",
                   "9201")["dave"]  # fmt: skip
    assert (dave.web_port, dave.node_address) == (9004, "127.0.0.1:9104")
    assert dave.extra_env["PRIVPAD_ENGINE_ADDRESS"] == "127.0.0.1:9204"


def test_in_namespaces_dave_has_the_fourth_address():
    names = [name for name, _ in devnet.roster(dealer=True)]
    dave = planned("--dealer", "--namespaces", network=Addresses(names))["dave"]
    assert dave.node_address == "10.77.0.4:7104"
    assert dave.extra_env["PRIVPAD_ENGINE_ADDRESS"] == "10.77.0.4:7204"


def test_with_namespaces_and_dealer_it_asks_for_four_namespaces(monkeypatch):
    asked = []

    def refuse(roster):
        asked.append([name for name, _ in roster])
        raise SystemExit("no namespaces in this test")

    monkeypatch.setattr(devnet, "_namespaces", refuse)
    with pytest.raises(SystemExit):
        devnet.main(["--dealer", "--namespaces", "--base-dir", "/nonexistent"])
    assert asked == [["alice", "bob", "carol", "dave"]]


def test_the_demo_and_dealer_names_are_the_demo_loaders():
    from console.demo import network

    assert devnet.DEALER_NODE[0] == network.DEALER
    assert devnet.DEMO_PROJECT == network.PROJECT_NAME
    steps = {step for phase in devnet.DEMO_PHASES + devnet.DEALER_PHASES for s in phase.values()
             for step in s}  # fmt: skip
    assert steps <= set(network.STEP_FUNCTIONS)


def test_with_dealer_alice_proposes_dave_after_the_demo_and_the_members_accept_in_turn(capsys):
    log = []
    nodes = [Recorder(name, log, dealer="dave") for name in ("alice", "bob", "carol")]
    devnet._load_demo([*nodes, Recorder("dave", log)], nodes, dealer=True)
    demo_steps = sum(len(phase) for phase in devnet.DEMO_PHASES)
    assert log[demo_steps:] == [
        ("alice", ("network_demo", "propose_dealer", "--user", "alice_admin")),
        ("bob", ("network_demo", "accept_dealer", "--user", "bob_admin")),
        ("carol", ("network_demo", "accept_dealer", "--user", "carol_admin")),
    ]
    assert not any(name == "dave" for name, _ in log)  # dave is asked nothing: no member
    assert "Choosing dave as the demo project's dealer node" in capsys.readouterr().out


def test_without_dealer_no_dealer_step_runs():
    log = []
    nodes = [Recorder(name, log, dealer="") for name in ("alice", "bob", "carol")]
    devnet._load_demo(nodes, nodes, dealer=False)
    assert not any("dealer" in " ".join(args) for _, args in log)


def test_without_dealer_it_warns_when_an_earlier_run_chose_dave(capsys):
    nodes = [Recorder(name, [], dealer="dave") for name in ("alice", "bob", "carol")]
    devnet._load_demo(nodes, nodes, dealer=False)
    said = capsys.readouterr().out
    assert "takes its Beaver triples from the dealer node dave" in said
    assert "Run with --dealer, or propose the trusted first party" in said


def test_it_waits_until_every_members_copy_names_the_dealer(monkeypatch):
    copies = iter(["", "", "dave"])  # carol's copy arrives on the third look

    class Late(Recorder):
        def query(self, sql: str, *params) -> list[tuple]:
            return [(next(copies),)]

    monkeypatch.setattr(devnet.time, "sleep", lambda seconds: None)
    members = [Recorder("alice", [], "dave"), Recorder("bob", [], "dave"), Late("carol", [])]
    devnet.wait_for_dealer(members, "dave")
    with pytest.raises(StopIteration):
        next(copies)  # every look was taken


def test_a_member_whose_copy_never_names_the_dealer_is_named(monkeypatch):
    monkeypatch.setattr(devnet, "DEALER_AGREED", 0.0)
    monkeypatch.setattr(devnet.time, "sleep", lambda seconds: None)
    members = [Recorder("alice", [], "dave"), Recorder("bob", [], ""), Recorder("carol", [])]
    with pytest.raises(devnet.InstallationError, match="copy at bob, carol does not name dave"):
        devnet.wait_for_dealer(members, "dave")


def test_the_welcome_names_daves_console_and_what_to_look_at(capsys):
    devnet._print_welcome(list(planned("--dealer").values()))
    said = capsys.readouterr().out
    assert "alice, bob, carol and dave: paired PrivPad nodes" in said
    assert "Dave Trust Services  http://127.0.0.1:8004/  node service 127.0.0.1:7104" in said
    assert "dave_admin   / privpad-admin  (node admin: runs served as dealer node)" in said
    assert "at dave, Nodes -> Runs served as dealer node lists the run" in said
