"""The demo across three real nodes: loaded as `make network` loads it, run from alice's console.

Three installations (`node_installs`: own process tree, data directory, SQLite database, node
service, engine address), in network mode, paired pairwise (bob and carol too). Where the
machine allows it, each runs in its own network namespace with its own address (10.77.0.1..3
on a bridge, `console.nodes.netns`): the nodes then reach each other only over their
interfaces, and their invitations and routes carry those addresses. Elsewhere (e.g. a
container refusing user namespaces, or PRIVPAD_NODE_NAMESPACES=off) they run on loopback
ports; the module says which at its start, and the namespace check is skipped with the reason.
One three-node run either way: the namespaces replace the loopback ports, they add no run.

The demo is loaded by `make network`'s own loader (`console.nodes.devnet.load_demo`: each node
uploads and authorises only its own dataset, publishing its schema and standing policy; alice
creates the project and invites; bob and carol accept, and their policies allow the demo's
plan, so nobody is asked to approve it). Alice starts the demo pipeline through her console's
REST API: her console process runs her part, bob's and carol's node services run theirs over
the engine links.

Checked: the AUC equals the embedded run of the same pipeline on the same data; as an
adversarial member would, every file of bob's and carol's installations (SQLite database,
storage, logs) is scanned for alice's ids, row values and labels, and alice's for theirs;
killing bob's node mid-run fails the run at alice naming bob within the links' timeout, with
nothing left running anywhere, and a re-run once bob is back succeeds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from console.demo.pipeline import PIPELINE_NAME
from console.nodes.devnet import node_admin
from tests.console.nodes.node_installs import (
    NODE_PORT,
    NodeInstall,
    Placement,
    demo_network,
    migrated_template,
    namespaces_if_allowed,
)
from tests.workflows.network.demo_job import PARTIES, demo_job
from tests.workflows.network.test_party_network import ids_of, row_values, tables_with
from workflows.party import run_party

pytestmark = pytest.mark.timeout(420)
PROJECT = "Joint credit risk"
RUN_WALL = 120.0  # seconds a run may take on a loaded 2-core machine
FAILURE_WALL = 40.0  # the engine links' reconnect grace (10 s), then every party stops
FINAL = {"succeeded", "failed", "cancelled", "interrupted"}
DEMO_ID = re.compile(rb"C\d{6}")
NUMBER = re.compile(rb"-?\d+\.\d+(?:e-?\d+)?")


@pytest.fixture(scope="module")
def placement(request) -> Placement:
    """The nodes' own network namespaces if the machine allows them, else loopback ports."""
    with namespaces_if_allowed(PARTIES) as placed:
        say(request.config, f"{request.module.__name__}: three nodes {placed.mode}")
        yield placed


def say(config, line: str) -> None:
    """Write `line` to the terminal now, whatever the verbosity and capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n{line}")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, placement):
    template = migrated_template(tmp_path_factory.mktemp("template"))
    root = tmp_path_factory.mktemp("demo-nodes")
    with demo_network(root, template, placement.network) as installs:
        yield installs


@pytest.fixture(scope="module")
def alice_token(nodes) -> str:
    return nodes["alice"].token(node_admin("alice"), scope="run")


@pytest.fixture(scope="module")
def embedded_auc(tmp_path_factory) -> float:
    """The same pipeline on the same tables, every party in this one process."""
    root = tmp_path_factory.mktemp("embedded")
    storage = {party: root / party for party in PARTIES}
    result = run_party(demo_job("1", storage))
    assert result.status == "succeeded", result.message
    return report_of(storage["alice"], "1")["summary"]["auc"]


# ----- helpers: a run as alice's console and each node's database show it ---------------------
def start_run(nodes, token: str) -> int:
    [(pipeline,)] = nodes["alice"].query("SELECT id FROM workflows_pipeline")
    status, body = nodes["alice"].api(token, f"pipelines/{pipeline}/runs/", {"scope": "all"})
    assert status == 201, body
    return body["id"]


def wait_for_run(nodes, token: str, run: int, wall: float = RUN_WALL) -> dict:
    deadline = time.monotonic() + wall
    while time.monotonic() < deadline:
        status, body = nodes["alice"].api(token, f"runs/{run}/")
        assert status == 200, body
        if body["status"] in FINAL:
            return body
        time.sleep(0.25)
    raise AssertionError(f"run {run} still {body['status']} after {wall:.0f} s: {body['nodes']}")


def latest_run(node: NodeInstall) -> tuple[int, str, str]:
    [row] = node.query("SELECT id, status, message FROM workflows_run ORDER BY id DESC LIMIT 1")
    return row


def node_statuses(node: NodeInstall, run: int) -> dict[str, str]:
    rows = node.query("SELECT node_id, status FROM workflows_noderun WHERE run_id = ?", run)
    return dict(rows)


def report_of(storage: Path, run: str) -> dict:
    return json.loads((storage / "runs" / run / "evaluate" / "report.json").read_text())


def storage_of(node: NodeInstall) -> Path:
    return node.data_dir / "nodes" / node.name


# ----- helpers: what an adversarial member scans its own files for ----------------------------
def floats_anywhere(data: bytes) -> set[float]:
    """Every float64 at any byte offset, little- or big-endian (SQLite stores REAL values
    big-endian inside its records), and every decimal number written as text."""
    found: set[float] = set()
    for offset in range(8):
        usable = (len(data) - offset) // 8 * 8
        for dtype in ("<f8", ">f8"):
            words = np.frombuffer(data[offset : offset + usable], dtype=dtype)
            found.update(words[np.isfinite(words)].tolist())
    found.update(float(match) for match in NUMBER.findall(data))
    return found


def files_of(node: NodeInstall) -> list[Path]:
    """Everything the installation keeps: database, storage, identity, uploads, and its logs."""
    logs = [node.log("node"), node.log("console")]
    return [p for p in node.data_dir.rglob("*") if p.is_file()] + [p for p in logs if p.exists()]


def leaks(node: NodeInstall, ids: set[bytes], values: set[float]) -> list[str]:
    problems = []
    for path in files_of(node):
        data = path.read_bytes()
        found_ids = set(DEMO_ID.findall(data)) & ids
        if found_ids:
            problems.append(f"{path}: {len(found_ids)} ids, e.g. {sorted(found_ids)[:3]}")
        found = values & floats_anywhere(data)
        if found:
            problems.append(f"{path}: {len(found)} values, e.g. {sorted(found)[:3]}")
    return problems


# ----- the tests -------------------------------------------------------------------------------
def test_the_demo_is_loaded_across_the_three_nodes(nodes):
    for name, node in nodes.items():  # read from each node's own database
        assert node.peers() == set(PARTIES) - {name}, name
        [(owner, project)] = node.query(
            "SELECT n.name, p.id FROM projects_project p "
            "JOIN nodes_node n ON n.id = p.owner_node_id"
        )
        assert owner == "alice", name
        members = node.query(
            "SELECT n.name FROM projects_projectmember m JOIN nodes_node n ON n.id = m.node_id "
            "WHERE m.project_id = ? ORDER BY n.name",
            project,
        )
        assert [member for (member,) in members] == list(PARTIES), name
        remote = node.query(
            "SELECT n.name FROM federation_remotedataset r JOIN nodes_node n ON n.id = r.node_id "
            "WHERE r.revoked_at IS NULL ORDER BY n.name"
        )
        assert [owner for (owner,) in remote] == sorted(set(PARTIES) - {name}), name
        assert len(node.query("SELECT id FROM datasets_dataset")) == 1, name  # its own alone
        assert len(node.query("SELECT id FROM datasets_authorization")) == 1, name
        assert node.query("SELECT name FROM workflows_pipeline") == [(PIPELINE_NAME,)], name
    for name in ("bob", "carol"):
        assert nodes[name].query("SELECT id FROM federation_pipelinereplica")
        # Their standing policies reached alice with their schemas and allow the demo's plan:
        # nothing was asked of them.
        assert nodes[name].query("SELECT id FROM workflows_approval") == [], name
        policies = nodes["alice"].query(
            "SELECT r.policy FROM federation_remotedataset r JOIN nodes_node n "
            "ON n.id = r.node_id WHERE n.name = ?",
            name,
        )
        assert json.loads(policies[0][0])["row_level_to"] == ["alice"], name
    assert nodes["alice"].query("SELECT id FROM workflows_approval") == []


def test_each_node_reaches_the_others_only_over_its_own_interface(nodes, placement):
    network = placement.network
    if network is None:
        pytest.skip(f"the nodes ran {placement.mode}")
    for name, node in nodes.items():  # its own address, and the peers' as paired
        address = f"{network.address(name)}:{NODE_PORT}"
        assert node.query("SELECT address FROM nodes_node WHERE is_self") == [(address,)]
        routes = dict(node.query(
            "SELECT n.name, r.address FROM nodes_peerroute r JOIN nodes_node n ON n.id = r.node_id"
        ))  # fmt: skip
        assert routes == {p: f"{network.address(p)}:{NODE_PORT}" for p in PARTIES if p != name}
    spaces = {name: os.readlink(f"/proc/{node.server.pid}/ns/net") for name, node in nodes.items()}
    assert len(set(spaces.values()) | {os.readlink("/proc/self/ns/net")}) == 4, spaces
    # From inside alice's namespace: her interfaces, and bob's service only at his address.
    argv = [sys.executable, "-c", PROBE, network.address("bob"), str(NODE_PORT)]
    seen = probe(network.command("alice", argv))
    assert seen == {"interfaces": ["eth0", "lo"], "bob": "connected", "loopback": "refused"}


PROBE = """
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
def reach(host):
    try:
        socket.create_connection((host, port), timeout=5).close()
        return "connected"
    except ConnectionRefusedError:
        return "refused"
seen = {"bob": reach(host), "loopback": reach("127.0.0.1")}
print(json.dumps({"interfaces": sorted(name for _, name in socket.if_nameindex()), **seen}))
"""


def probe(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def test_loading_alices_part_again_changes_nothing(nodes):
    alice = nodes["alice"]
    audited = "SELECT count(*) FROM audit_auditevent WHERE action != 'node_call'"
    before = alice.query(audited)
    again = alice.manage("network_demo", "authorise", "pipeline", "--user", "alice_admin").stdout
    assert "already authorised" in again
    assert f"pipeline '{PIPELINE_NAME}' kept" in again
    assert "allowed by the standing policies of alice, bob, carol" in again
    assert alice.query(audited) == before
    assert len(alice.query("SELECT id FROM workflows_pipeline")) == 1
    assert alice.query("SELECT id FROM workflows_approval") == []


def test_the_demo_runs_from_alices_console_as_embedded_and_keeps_each_nodes_data_home(
    nodes, alice_token, embedded_auc
):
    run = wait_for_run(nodes, alice_token, start_run(nodes, alice_token))
    assert run["status"] == "succeeded", run["message"]
    assert {node["status"] for node in run["nodes"]} == {"succeeded"}
    alice_run = str(run["id"])
    auc = report_of(storage_of(nodes["alice"]), alice_run)["summary"]["auc"]
    assert auc == pytest.approx(embedded_auc, abs=1e-3)
    assert 0.85 < auc < 0.92  # the demo's joint model
    for name in ("bob", "carol"):  # each member's own record of its part, its own report copy
        member_run, status, message = latest_run(nodes[name])
        assert status == "succeeded", (name, message)
        # A member's part lives apart from its own runs (`runs.member_part_root`).
        part = storage_of(nodes[name]) / "peer-runs" / "alice" / f"run-{member_run}"
        copy = report_of(part, alice_run)
        assert copy["disclosure"]["view"] == "aggregated"
    for name, node in nodes.items():  # each node counts the engine traffic of its own party
        [(run_here,)] = node.query("SELECT max(id) FROM workflows_run")
        counts = node.query("SELECT comm_bytes FROM workflows_noderun WHERE run_id = ?", run_here)
        sent = [json.loads(raw) for (raw,) in counts]
        assert {party for each in sent for party in each} == {name}, (name, sent)
        assert sum(each.get(name, 0) for each in sent) > 1_000_000, name

    held = {name: row_values(node.data_dir) for name, node in nodes.items()}
    assert len(held["alice"]) > 10_000  # incomes, scaled features, predictions: the scan bites
    for owner in PARTIES:
        for other in (p for p in PARTIES if p != owner):
            foreign = {i.encode() for i in ids_of(owner) - ids_of(other)}
            assert len(foreign) > 500
            problems = leaks(nodes[other], foreign, held[owner] - held[other])
            assert problems == [], f"{owner}'s data at {other}: {problems}"
    # Alice's label and the predictions from it are in no table of bob's or carol's.
    for name in ("bob", "carol"):
        assert tables_with(nodes[name].data_dir, {"default_flag", "pred"}) == []
    assert tables_with(nodes["alice"].data_dir, {"pred"})


def test_killing_bobs_node_mid_run_fails_the_run_naming_bob_and_a_rerun_succeeds(
    nodes, alice_token, embedded_auc
):
    alice_run = start_run(nodes, alice_token)
    member_runs = {}
    deadline = time.monotonic() + RUN_WALL
    while time.monotonic() < deadline:  # every party training: bob then dies mid-protocol
        member_runs = {name: latest_run(nodes[name])[0] for name in ("bob", "carol")}
        runs = {"alice": alice_run, **member_runs}
        if all(node_statuses(nodes[n], r).get("train") == "running" for n, r in runs.items()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the parties never all reached training")
    nodes["bob"].kill_service()
    killed = time.monotonic()

    run = wait_for_run(nodes, alice_token, alice_run, wall=FAILURE_WALL)
    assert time.monotonic() - killed < FAILURE_WALL
    assert run["status"] == "failed"
    assert "bob" in run["message"], run["message"]
    statuses = {node["node"]: node["status"] for node in run["nodes"]}
    assert not {"running", "pending"} & set(statuses.values()), statuses
    assert statuses["psi"] == "succeeded"  # finished outputs are kept
    assert statuses["train"] == "failed"
    [train] = [node for node in run["nodes"] if node["node"] == "train"]
    assert train["party"] == "bob", (train["party"], train["message"], run["message"])
    assert (storage_of(nodes["alice"]) / "runs" / str(alice_run) / "psi").exists()
    carol_run, carol_status, _ = latest_run(nodes["carol"])
    wait_until_final(nodes["carol"], carol_run)
    assert "running" not in node_statuses(nodes["carol"], carol_run).values()

    nodes["bob"].serve()  # bob is back: the part its dead service left is not left running
    bob_run = member_runs["bob"]
    assert latest_run(nodes["bob"])[1] in FINAL - {"succeeded"}
    assert "running" not in node_statuses(nodes["bob"], bob_run).values()

    again = wait_for_run(nodes, alice_token, start_run(nodes, alice_token))
    assert again["status"] == "succeeded", again["message"]
    auc = report_of(storage_of(nodes["alice"]), str(again["id"]))["summary"]["auc"]
    assert auc == pytest.approx(embedded_auc, abs=1e-3)


def wait_until_final(node: NodeInstall, run: int, wall: float = FAILURE_WALL) -> str:
    deadline = time.monotonic() + wall
    while time.monotonic() < deadline:
        [(status,)] = node.query("SELECT status FROM workflows_run WHERE id = ?", run)
        if status in FINAL:
            return status
        time.sleep(0.2)
    raise AssertionError(f"{node.name}'s run {run} still {status} after {wall:.0f} s")
