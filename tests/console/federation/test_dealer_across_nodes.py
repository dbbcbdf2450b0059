"""The demo across three real nodes with SEMI2K's Beaver triples from a fourth: a dealer node.

alice, bob and carol are the demo's installations (`node_installs.demo_network`, on loopback
ports); dave is a fourth installation in network mode with an engine address and
`PRIVPAD_SERVES_DEALER=true`, paired with each of them, member of no project. Alice's console
runs the demo pipeline once with the trusted first party (the default), then alice's admin
proposes dave as the project's dealer, bob's and carol's admins accept it in their message
centers (the new state reaches their copies), and alice runs it again:

- the results agree (the same AUC within the fixed-point precision: only the randomness of the
  triples differs), every party's log carries the dealer threat-model line naming dave, and
  each party's run records dave as its source of triples;
- dave's record of the service shows the three parties and that each ended normally, and, as
  an adversarial dealer would look, no file of dave's installation holds any party's ids or
  row values (it is sent none);
- dave's node killed mid-training: every party's run fails naming dave within the links'
  grace, and nothing is left running.
"""

from __future__ import annotations

import json
import time

import pytest

from console.nodes.devnet import node_admin
from tests.console.federation.test_demo_across_nodes import (
    FAILURE_WALL,
    PROJECT,
    latest_run,
    leaks,
    node_statuses,
    report_of,
    start_run,
    storage_of,
    wait_for_run,
    wait_until_final,
)
from tests.console.nodes.node_installs import (
    NodeInstall,
    demo_network,
    migrated_template,
    wait_until,
)
from tests.workflows.network.demo_job import PARTIES
from tests.workflows.network.test_party_network import ids_of, row_values

pytestmark = pytest.mark.timeout(600)
DEALER = "dave"
DEALER_LINE = "the Beaver triples come from the dealer node %(dealer)s"
FIRST_PARTY_LINE = "is the trusted first party"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """The demo's three nodes and dave, a dealer node paired with each of them."""
    template = migrated_template(tmp_path_factory.mktemp("template"))
    root = tmp_path_factory.mktemp("dealer-nodes")
    with demo_network(root, template) as installs:
        dave = NodeInstall(root, DEALER, template, network=True, engine=True)
        dave.extra_env["PRIVPAD_SERVES_DEALER"] = "true"
        try:
            dave.init(admin=node_admin(DEALER))
            dave.serve()
            invitations = {name: installs[name].invite() for name in PARTIES}
            for name in PARTIES:  # one acceptance at a time at dave
                dave.manage("node", "accept", invitations[name])
            yield {**installs, DEALER: dave}
        finally:
            dave.stop()


@pytest.fixture(scope="module")
def alice_token(nodes) -> str:
    return nodes["alice"].token(node_admin("alice"), scope="run")


@pytest.fixture(scope="module")
def first_party_run(nodes, alice_token) -> dict:
    """The demo with the trusted first party, as every project starts."""
    run = wait_for_run(nodes, alice_token, start_run(nodes, alice_token))
    assert run["status"] == "succeeded", run["message"]
    return run


@pytest.fixture(scope="module")
def dealer_chosen(nodes, first_party_run) -> None:
    proposed = nodes["alice"].act("set_dealer", node_admin("alice"), PROJECT, DEALER)
    assert proposed == {"status": "pending", "votes": {"bob": "pending", "carol": "pending"}}
    for name in ("bob", "carol"):  # each member's admin accepts in its message center
        voted = nodes[name].act("vote", node_admin(name), PROJECT, True)
        assert voted["delivered"] == "delivered", voted
    for name in PARTIES:  # the new state reaches each member's copy
        wait_until(lambda n=name: copy_names(nodes[n]) == DEALER, timeout=30)


@pytest.fixture(scope="module")
def dealer_run(nodes, alice_token, dealer_chosen) -> dict:
    run = wait_for_run(nodes, alice_token, start_run(nodes, alice_token))
    assert run["status"] == "succeeded", run["message"]
    return run


def copy_names(node: NodeInstall) -> str:
    [(dealer,)] = node.query("SELECT dealer FROM federation_sharedproject")
    return dealer


def auc_of(nodes, run: dict) -> float:
    return report_of(storage_of(nodes["alice"]), str(run["id"]))["summary"]["auc"]


def logged_lines(node: NodeInstall, run: int) -> list[dict]:
    rows = node.query("SELECT logs FROM workflows_noderun WHERE run_id = ?", run)
    return [line["message"] for (logs,) in rows for line in json.loads(logs)]


def threat_lines(node: NodeInstall, run: int) -> list[dict]:
    return [
        message
        for message in logged_lines(node, run)
        if isinstance(message, dict) and "threat model of" in message.get("msgid", "")
    ]


def services(dave: NodeInstall) -> list[dict]:
    rows = dave.query(
        "SELECT n.name, s.remote_run, s.parties, s.state, s.endings, s.message, s.started_at, "
        "s.ended_at FROM federation_dealerservice s JOIN nodes_node n ON n.id = s.origin_id "
        "ORDER BY s.id"
    )
    keys = ("origin", "run", "parties", "state", "endings", "message", "started", "ended")
    found = [dict(zip(keys, row, strict=True)) for row in rows]
    for service in found:
        service["parties"], service["endings"] = map(json.loads, (service["parties"],
                                                                  service["endings"]))  # fmt: skip
    return found


def final_service(dave: NodeInstall, run: int) -> dict:
    def ended():
        found = [s for s in services(dave) if s["run"] == run]
        return found[0] if found and found[0]["state"] in ("ended", "failed") else None

    return wait_until(ended, timeout=FAILURE_WALL)


# ----- the tests -------------------------------------------------------------------------------
def test_the_first_party_run_states_the_first_party_and_asks_no_dealer(nodes, first_party_run):
    for name in PARTIES:
        run, _, _ = latest_run(nodes[name])
        lines = threat_lines(nodes[name], run)
        assert lines, name
        assert all(FIRST_PARTY_LINE in line["msgid"] for line in lines), (name, lines)
        [(dealer,)] = nodes[name].query(
            "SELECT dealer FROM federation_runtriplesource WHERE run_id = ?", run
        )
        assert dealer == "", name
    assert services(nodes[DEALER]) == []


def test_the_dealer_run_equals_the_first_party_run_and_names_the_dealer(
    nodes, first_party_run, dealer_run
):
    assert auc_of(nodes, dealer_run) == pytest.approx(auc_of(nodes, first_party_run), abs=1e-3)
    assert 0.85 < auc_of(nodes, dealer_run) < 0.92
    for name in PARTIES:
        run, status, message = latest_run(nodes[name])
        assert status == "succeeded", (name, message)
        lines = threat_lines(nodes[name], run)
        assert lines, name
        assert all(DEALER_LINE in line["msgid"] for line in lines), (name, lines)
        assert {line["params"]["dealer"] for line in lines} == {DEALER}
        [(dealer,)] = nodes[name].query(
            "SELECT dealer FROM federation_runtriplesource WHERE run_id = ?", run
        )
        assert dealer == DEALER, name


def test_the_dealers_record_shows_each_partys_service_ended_normally(nodes, dealer_run):
    service = final_service(nodes[DEALER], dealer_run["id"])
    assert service["origin"] == "alice"
    assert sorted(service["parties"]) == sorted(PARTIES)
    assert service["state"] == "ended", (service["message"], service["endings"])
    assert set(service["endings"]) == set(PARTIES)
    assert all("has shut down its link" in ending for ending in service["endings"].values())
    assert service["started"] is not None
    assert service["ended"] is not None
    assert service["message"] == ""


def test_the_dealer_holds_no_partys_data(nodes, dealer_run):
    dave = nodes[DEALER]
    assert dave.query("SELECT count(*) FROM workflows_run") == [(0,)]
    assert dave.query("SELECT count(*) FROM projects_project") == [(0,)]
    assert dave.query("SELECT count(*) FROM datasets_dataset") == [(0,)]
    ids = {i.encode() for party in PARTIES for i in ids_of(party)}
    values = set().union(*(row_values(nodes[name].data_dir) for name in PARTIES))
    assert len(ids) > 1500
    assert len(values) > 10_000  # the scan bites
    assert leaks(dave, ids, values) == []


def test_killing_the_dealer_mid_run_fails_every_party_naming_it(nodes, alice_token, dealer_run):
    alice_run = start_run(nodes, alice_token)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # every party training: the dealer then dies
        runs = {"alice": alice_run, **{n: latest_run(nodes[n])[0] for n in ("bob", "carol")}}
        if all(node_statuses(nodes[n], r).get("train") == "running" for n, r in runs.items()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the parties never all reached training")
    nodes[DEALER].kill_service()
    killed = time.monotonic()

    run = wait_for_run(nodes, alice_token, alice_run, wall=FAILURE_WALL)
    assert time.monotonic() - killed < FAILURE_WALL
    assert run["status"] == "failed"
    assert DEALER in run["message"], run["message"]
    for name in ("bob", "carol"):
        member_run = runs[name]
        assert wait_until_final(nodes[name], member_run) == "failed"
        assert "running" not in node_statuses(nodes[name], member_run).values()
        [(message,)] = nodes[name].query(
            "SELECT message FROM workflows_run WHERE id = ?", member_run
        )
        assert DEALER in message, (name, message)
    statuses = {node["node"]: node["status"] for node in run["nodes"]}
    assert not {"running", "pending"} & set(statuses.values()), statuses
    assert statuses["train"] == "failed"


def test_a_dealer_whose_operator_turned_serving_off_refuses_and_the_run_names_it(
    nodes, alice_token, dealer_run
):
    dave = nodes[DEALER]
    dave.kill_service()  # (already down after the previous test, if it ran)
    dave.extra_env["PRIVPAD_SERVES_DEALER"] = "false"
    try:
        dave.serve()
        status, body = nodes["alice"].api(alice_token, f"pipelines/{pipeline_id(nodes)}/runs/",
                                          {"scope": "all"})  # fmt: skip
        assert status == 503, body  # nodes that could not take part: nothing started
        said = body["detail"]
        assert said.startswith("the run cannot start: dave: the dealer node cannot serve"), said
        assert "its operator has not enabled PRIVPAD_SERVES_DEALER" in said, said
        for name in ("bob", "carol"):  # accepted, then told: nothing runs there
            run, status, _ = latest_run(nodes[name])
            assert wait_until_final(nodes[name], run) == "cancelled", name
    finally:
        dave.extra_env["PRIVPAD_SERVES_DEALER"] = "true"


def pipeline_id(nodes) -> int:
    [(pipeline,)] = nodes["alice"].query("SELECT id FROM workflows_pipeline")
    return pipeline
