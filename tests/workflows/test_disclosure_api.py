"""Issue 11's scenarios replayed through the REST API, as bob, carol and a node outside.

alice owns `credit` (label `y`); bob owns `shop`. Both authorisations let aggregates over at
least 20 rows reach every member (the fixtures' standing policy); anything else needs the
owner's approval. Every scenario is refused before running, waits for alice's approval, or
gives the other party only k-aggregated data; after alice approves, exactly the plan she saw
runs, and the privacy ledger says what each party received.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from console.audit.models import AuditEvent
from console.datasets.models import Authorization
from console.nodes.models import Node
from console.projects.models import ProjectMember
from tests.workflows.conftest import credit_frame, edge, node
from workflows.executor import execute_run
from workflows.messages import render
from workflows.models import Approval, LedgerEntry, Run, Status

pytestmark = pytest.mark.django_db


def create(client, project, graph: dict, name: str = "bob's pipeline") -> dict:
    body = {"project": project.pk, "name": name, "graph": graph}
    response = client.post("/api/v1/pipelines/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def start(client, pipeline: dict):
    return client.post(f"/api/v1/pipelines/{pipeline['id']}/runs/", {}, format="json")


def plan_of(client, pipeline: dict) -> dict:
    response = client.post(f"/api/v1/pipelines/{pipeline['id']}/validate/")
    assert response.status_code == 200
    return response.json()


def entries(plan: dict, source: str, recipient: str) -> list[dict]:
    return [
        e
        for e in plan["disclosure"]["entries"]
        if (e["source"], e["recipient"]) == (source, recipient)
    ]


def label_as_prediction(credit) -> dict:
    """Scenario 1: read alice's table, split, evaluate her label against one of her features."""
    return {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("split", "data_prep/train_test_split"),
            node("eval", "ml.eval/binary_classification", label="y", prediction="score"),
        ],
        "edges": [
            edge("read", "output_ds", "split", "input_ds"),
            edge("split", "test_ds", "eval", "input_ds"),
        ],
    }


def scores_for_bob(credit, shop, save_ids: bool = True, epochs: int = 2) -> dict:
    """Scenario 3: SS-LR on alice's features and label, predictions (with ids) to bob."""
    # score is in [0, 1]: SS-LR refuses unscaled features (age, spend) as diverging.
    train = {"features": ["score"], "label": "y", "epochs": epochs}
    return {
        "nodes": [
            node("read_a", "read/dataset", dataset=credit.pk),
            node("read_b", "read/dataset", dataset=shop.pk),
            node("psi", "data_prep/psi", keys1=["id"], keys2=["id"]),
            node("train", "ml.train/ss_lr", **train),
            node("predict", "ml.predict/ss_lr", receiver="bob", save_ids=save_ids),
        ],
        "edges": [
            edge("read_a", "output_ds", "psi", "input_ds1"),
            edge("read_b", "output_ds", "psi", "input_ds2"),
            edge("psi", "output_ds", "train", "input_ds"),
            edge("train", "output_model", "predict", "input_model"),
            edge("psi", "output_ds", "predict", "input_ds"),
        ],
    }


def set_policy(dataset, **policy) -> None:
    authorization = Authorization.objects.get(dataset=dataset, revoked_at__isnull=True)
    authorization.disclosure_policy = {"aggregates": "allow"} | policy
    authorization.save()


def test_bob_evaluating_alices_label_gets_only_k_aggregates(credit, project, api_bob):
    pipeline = create(api_bob, project, label_as_prediction(credit))
    plan = plan_of(api_bob, pipeline)
    to_bob = entries(plan, "alice", "bob")
    assert [(e["node"], e["form"], e["k"]) for e in to_bob] == [("eval", "aggregate", 20)]
    assert {c["name"] for c in to_bob[0]["columns"]} == {"y", "score"}
    assert plan["disclosure"]["consent"]["alice"]["state"] == "policy"
    response = start(api_bob, pipeline)
    assert response.status_code == 201, response.json()
    execute_run(response.json()["id"])
    ledger = LedgerEntry.objects.filter(run_id=response.json()["id"], recipient="bob")
    assert [(e.node_id, e.kind, e.min_group, e.consents) for e in ledger] == [
        ("eval", "aggregate", 20, {"alice": "policy"})
    ]


def test_when_alice_asks_about_aggregates_bobs_run_waits(credit, project, api_bob, alice):
    set_policy(credit, aggregates="ask")
    pipeline = create(api_bob, project, label_as_prediction(credit))
    response = start(api_bob, pipeline)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "approval_required"
    assert "alice" in body["detail"]
    [approval] = body["approvals"]
    assert (approval["party"], approval["status"]) == ("alice", "pending")
    assert approval["may_decide"] is False
    assert any(s.startswith("bob receives: AUC, KS, F1") for s in approval["plan"]["sentences"])
    assert not Run.objects.exists()
    requested = AuditEvent.objects.get(action="approval_request")
    assert (requested.node, requested.actor_username) == (alice, "bob_admin")
    assert AuditEvent.objects.filter(action="run_refused", node=alice).exists()
    # Asking again does not pile up requests.
    assert start(api_bob, pipeline).status_code == 409
    assert Approval.objects.count() == 1


def test_scores_for_bob_need_alices_approval_then_exactly_that_plan_runs(
    credit, shop, project, api_bob, api_alice
):
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    # (bob, a party of the model, also learns the bound of alice's features: an aggregate)
    [scores] = [
        e
        for e in entries(plan_of(api_bob, pipeline), "alice", "bob")
        if (e["node"], e["form"]) == ("predict", "row_level")
    ]
    assert (scores["form"], scores["decision"]) == ("row_level", "ask")
    refused = start(api_bob, pipeline)
    assert refused.status_code == 409
    [approval] = [a for a in refused.json()["approvals"] if a["party"] == "alice"]
    sentence = next(s for s in approval["plan"]["sentences"] if "[row-level, node predict]" in s)
    assert sentence.startswith("bob receives: id-linked prediction scores over up to 60 rows")
    assert "derived from your column score and label y" in sentence

    pending = api_alice.get("/api/v1/approvals/?status=pending&mine=1").json()
    assert [a["id"] for a in pending] == [approval["id"]]
    assert pending[0]["may_decide"] is True
    decided = api_alice.post(
        f"/api/v1/approvals/{approval['id']}/",
        {"decision": "approve", "comment": "for the Q3 campaign only"},
        format="json",
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "approved"

    started = start(api_bob, pipeline)
    assert started.status_code == 201, started.json()
    run = Run.objects.get(pk=started.json()["id"])
    assert run.disclosure_fingerprint == approval["fingerprint"]
    # The start is in the audit log of bob (the creator) and of alice (whose data it reads).
    started_for = AuditEvent.objects.filter(action="run_start").values_list("node__name", flat=True)
    assert sorted(started_for) == ["alice", "bob"]
    assert run.consents["alice"] == approval["id"]
    execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, run.message
    received = LedgerEntry.objects.get(
        run=run, recipient="bob", node_id="predict", kind="row_level"
    )
    assert received.rows == 60
    assert received.consents == {"alice": approval["id"]}
    assert {(c["party"], c["name"]) for c in received.columns} >= {
        ("alice", "y"),
        ("alice", "score"),
    }
    ledger = api_bob.get(f"/api/v1/runs/{run.pk}/").json()["ledger"]
    assert any(e["recipient"] == "bob" and e["kind"] == "row_level" for e in ledger)
    # The bounds of alice's inputs that training and prediction revealed to bob are recorded.
    bounds = LedgerEntry.objects.filter(run=run, recipient="bob", what__contains="magnitude")
    assert sorted((e.node_id, e.kind, e.min_group, e.source_parties) for e in bounds) == [
        ("predict", "aggregate", None, ["alice"]),
        ("train", "aggregate", None, ["alice"]),
    ]

    # A change that does not alter the plan needs nothing new; one that alters it asks again.
    graph = scores_for_bob(credit, shop, epochs=3)
    api_bob.patch(f"/api/v1/pipelines/{pipeline['id']}/", {"graph": graph}, format="json")
    assert start(api_bob, pipeline).status_code == 201
    graph = scores_for_bob(credit, shop, save_ids=False)
    api_bob.patch(f"/api/v1/pipelines/{pipeline['id']}/", {"graph": graph}, format="json")
    again = start(api_bob, pipeline)
    assert again.status_code == 409
    assert again.json()["approvals"][0]["fingerprint"] != approval["fingerprint"]


def test_only_alices_approvers_decide(credit, shop, project, api_bob, api_carol, alice_member_user):
    from rest_framework.test import APIClient

    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    approval = Approval.objects.get(pk=start(api_bob, pipeline).json()["approvals"][0]["id"])
    member = APIClient()
    member.force_authenticate(alice_member_user)
    path = f"/api/v1/approvals/{approval.pk}/"
    body = {"decision": "approve"}
    assert api_bob.post(path, body, format="json").status_code == 403
    assert api_carol.post(path, body, format="json").status_code == 404
    assert api_carol.get("/api/v1/approvals/").json() == []
    assert member.post(path, body, format="json").status_code == 403
    alice_member_user.user_permissions.add(Permission.objects.get(codename="decide_approval"))
    member = APIClient()
    member.force_authenticate(type(alice_member_user).objects.get(pk=alice_member_user.pk))
    assert member.post(path, body, format="json").status_code == 200
    assert member.post(path, body, format="json").status_code == 409  # already approved


def test_a_rejected_plan_refuses_the_run_and_a_withdrawn_approval_stops_execution(
    credit, shop, project, api_bob, api_alice
):
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    approval_id = start(api_bob, pipeline).json()["approvals"][0]["id"]
    path = f"/api/v1/approvals/{approval_id}/"
    api_alice.post(path, {"decision": "reject", "comment": "not my label"}, format="json")
    refused = start(api_bob, pipeline)
    assert (refused.status_code, refused.json()["code"]) == (409, "approval_rejected")
    assert AuditEvent.objects.filter(action="approval_reject").get().detail["comment"] == (
        "not my label"
    )
    # Approved, started, then withdrawn before the executor picks the run up: nothing runs.
    api_alice.post(path, {"decision": "approve"}, format="json")
    run_id = start(api_bob, pipeline).json()["id"]
    api_alice.post(path, {"decision": "reject", "comment": "changed my mind"}, format="json")
    execute_run(run_id)
    run = Run.objects.get(pk=run_id)
    assert run.status == Status.FAILED
    assert "no approval of the disclosure plan by alice" in render(run.message)
    assert not LedgerEntry.objects.filter(run=run).exists()
    assert set(run.nodes.values_list("status", flat=True)) == {Status.SKIPPED}


def test_a_policy_refusing_label_results_refuses_the_pipeline_outright(
    credit, shop, project, api_bob
):
    set_policy(credit, label_results="refuse")
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    problems = plan_of(api_bob, pipeline)["problems"]
    assert [(p["node"], p["code"]) for p in problems] == [("predict", "disclosure_refused")]
    assert "only alice receives predictions and curves" in problems[0]["message"]
    response = start(api_bob, pipeline)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_pipeline")
    assert not Approval.objects.exists()


def test_row_level_never_leaving_refuses_predictions_from_alices_features(
    credit, shop, project, api_bob
):
    set_policy(credit, row_level="refuse")
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    [problem] = plan_of(api_bob, pipeline)["problems"]
    assert problem["node"] == "predict"
    assert "never leave as row-level data" in problem["message"]


def test_table_statistics_of_alices_columns_reach_bob_only_as_k_aggregates(
    credit, project, api_bob
):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    plan = plan_of(api_bob, create(api_bob, project, graph))
    assert {(e["form"], e["k"]) for e in entries(plan, "alice", "bob")} == {("aggregate", 20)}
    set_policy(credit, aggregates_min_k=50)
    plan = plan_of(api_bob, create(api_bob, project, graph, name="again"))
    [entry] = entries(plan, "alice", "bob")
    assert entry["decision"] == "ask"
    assert "at least 50 rows" in entry["reason"]


def test_alices_min_and_max_reach_bob_only_with_her_consent(credit, project, api_bob, api_alice):
    graph = statistics_of(credit)
    graph["nodes"][1]["params"]["single_row_values"] = True
    pipeline = create(api_bob, project, graph)
    single = [e for e in entries(plan_of(api_bob, pipeline), "alice", "bob") if e["k"] is None]
    assert [(e["form"], e["decision"]) for e in single] == [("row_level", "ask")]
    response = start(api_bob, pipeline)
    assert response.status_code == 409
    [approval] = response.json()["approvals"]
    sentence = next(s for s in approval["plan"]["sentences"] if "single rows' values" in s)
    assert sentence.startswith("bob receives: min, quartiles and max of columns")
    path = f"/api/v1/approvals/{approval['id']}/"
    api_alice.post(path, {"decision": "approve"}, format="json")
    run_id = start(api_bob, pipeline).json()["id"]
    execute_run(run_id)
    received = LedgerEntry.objects.filter(run_id=run_id, recipient="bob", kind="row_level")
    assert [e.consents for e in received] == [{"alice": approval["id"]}]
    [output] = api_bob.get(f"/api/v1/runs/{run_id}/nodes/stats/").json()["outputs"]
    boxes = {box["name"]: box for box in output["charts"][0]["data"]}
    ages = credit_frame()["age"]
    assert (boxes["age (alice)"]["lowerfence"], boxes["age (alice)"]["upperfence"]) == (
        [ages.min()],
        [ages.max()],
    )


@pytest.mark.parametrize("status", [Node.Status.OFFLINE, Node.Status.DISABLED])
def test_an_unavailable_nodes_data_cannot_be_used(credit, project, api_bob, alice, status):
    pipeline = create(api_bob, project, label_as_prediction(credit))
    Node.objects.filter(pk=alice.pk).update(status=status)
    [problem] = plan_of(api_bob, pipeline)["problems"]
    assert (problem["node"], problem["code"]) == ("read", "node_unavailable")
    assert f"alice, whose node is {status}" in problem["message"]
    assert start(api_bob, pipeline).status_code == 400


def test_a_revoked_authorisation_voids_the_approval(credit, shop, project, api_bob, api_alice):
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    approval_id = start(api_bob, pipeline).json()["approvals"][0]["id"]
    api_alice.post(f"/api/v1/approvals/{approval_id}/", {"decision": "approve"}, format="json")
    old = Authorization.objects.get(dataset=credit, revoked_at__isnull=True)
    assert api_alice.post(f"/api/v1/authorizations/{old.pk}/revoke/").status_code == 200
    Authorization.objects.create(
        dataset=credit,
        project=project,
        column_roles=old.column_roles,
        disclosure_policy=old.disclosure_policy,
    )
    again = start(api_bob, pipeline)
    assert again.status_code == 409
    assert again.json()["approvals"][0]["id"] != approval_id
    assert api_alice.get(f"/api/v1/approvals/{approval_id}/").json()["void"] is True
    assert again.json()["approvals"][0]["void"] is False


def test_carol_as_a_new_member_needs_alices_approval_too(
    credit, shop, project, carol, api_carol, alice_user
):
    ProjectMember.objects.create(project=project, node=carol, added_by=alice_user)
    graph = scores_for_bob(credit, shop)
    graph["nodes"][-1]["params"]["receiver"] = "alice"
    pipeline = create(api_carol, project, graph, name="carol's copy")
    response = start(api_carol, pipeline)
    assert response.status_code == 409
    assert {a["party"] for a in response.json()["approvals"]} == {"alice", "bob"}


def statistics_of(credit) -> dict:
    return {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }


def test_carol_as_a_member_replays_bobs_scenarios(
    credit, shop, project, carol, api_carol, alice, alice_user
):
    ProjectMember.objects.create(project=project, node=carol, added_by=alice_user)
    # alice's label against her own feature, and her table's statistics: k-aggregates only
    for graph in (label_as_prediction(credit), statistics_of(credit)):
        pipeline = create(
            api_carol, project, graph, name=f"carol probes {graph['nodes'][-1]['id']}"
        )
        plan = plan_of(api_carol, pipeline)
        assert {(e["form"], e["k"]) for e in entries(plan, "alice", "carol")} == {("aggregate", 20)}
        response = start(api_carol, pipeline)
        assert response.status_code == 201, response.json()
        execute_run(response.json()["id"])
        received = LedgerEntry.objects.filter(run_id=response.json()["id"], recipient="carol")
        assert {(e.kind, e.min_group, e.consents["alice"]) for e in received} == {
            ("aggregate", 20, "policy")
        }
    # id-linked scores from alice's features and label, to carol: refused before anything runs
    # (carol holds no part of the model); to bob, see test_carol_as_a_new_member_needs_...
    graph = scores_for_bob(credit, shop)
    graph["nodes"][-1]["params"]["receiver"] = "carol"
    response = start(api_carol, create(api_carol, project, graph, name="carol's scores"))
    assert (response.status_code, response.json()["code"]) == (400, "invalid_pipeline")
    [problem] = response.json()["problems"]
    assert (problem["node"], problem["code"]) == ("predict", "invalid_params")
    assert not Approval.objects.exists()
    # alice's node offline: her data cannot be used by carol either
    Node.objects.filter(pk=alice.pk).update(status=Node.Status.OFFLINE)
    response = start(api_carol, create(api_carol, project, statistics_of(credit), name="later"))
    assert (response.status_code, response.json()["code"]) == (400, "invalid_pipeline")


def test_a_node_outside_the_project_sees_nothing(credit, project, api_bob, api_carol):
    pipeline = create(api_bob, project, label_as_prediction(credit))
    assert api_carol.post(f"/api/v1/pipelines/{pipeline['id']}/validate/").status_code == 404
    assert start(api_carol, pipeline).status_code == 404
    body = {"project": project.pk, "name": "x", "graph": label_as_prediction(credit)}
    assert api_carol.post("/api/v1/pipelines/", body, format="json").status_code == 404


def test_pipeline_creation_and_edits_are_audited_for_the_creators_node(
    credit, project, api_bob, bob
):
    pipeline = create(api_bob, project, label_as_prediction(credit))
    graph = label_as_prediction(credit)
    graph["nodes"][2]["params"]["threshold"] = 0.7
    response = api_bob.patch(
        f"/api/v1/pipelines/{pipeline['id']}/", {"graph": graph}, format="json"
    )
    assert response.status_code == 200, response.content
    created = AuditEvent.objects.get(action="pipeline_create")
    edited = AuditEvent.objects.get(action="pipeline_update")
    assert (created.node, created.actor_username) == (bob, "bob_admin")
    assert (edited.node, edited.actor_username) == (bob, "bob_admin")
    assert edited.detail["changes"]["params"] == {"eval": {"threshold": [None, 0.7]}}


def test_the_pipeline_detail_returns_the_plan_with_sentences(credit, project, api_bob):
    pipeline = create(api_bob, project, label_as_prediction(credit))
    body = api_bob.get(f"/api/v1/pipelines/{pipeline['id']}/").json()
    [entry] = entries(body, "alice", "bob")
    assert entry["sentence"].startswith("bob receives: AUC, KS, F1")
    assert "derived from alice's column score and label y" in entry["sentence"]
    assert len(body["disclosure"]["fingerprint"]) == 64


def test_the_terminal_runner_refuses_a_plan_its_owners_did_not_approve(
    credit, shop, project, api_bob
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    with pytest.raises(CommandError, match="discloses data of alice, bob without their approval"):
        call_command("runpipeline", str(pipeline["id"]), stdout=StringIO(), stderr=StringIO())
    assert not Run.objects.exists()


def test_an_approver_of_the_source_party_consents_by_starting_the_run(
    credit, shop, project, api_bob, api_alice
):
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    pending = start(api_bob, pipeline).json()["approvals"]
    assert {a["party"] for a in pending} == {"alice"}  # bob's own part: he consents by starting
    response = start(api_alice, pipeline)  # alice's admin runs bob's pipeline herself
    assert response.status_code == 201, response.json()
    approval = Approval.objects.get(party="alice")
    assert (approval.status, approval.comment) == ("approved", "approved by starting the run")
    assert approval.decided_by.username == "alice_admin"


def test_a_protected_column_appears_in_no_plan_entry_nor_output(shop, project, api_alice):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=shop.pk),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "stats", "input_ds")],
    }
    pipeline = create(api_alice, project, graph, name="alice looks at bob's shop")
    plan = plan_of(api_alice, pipeline)
    shared = {c["name"] for e in entries(plan, "bob", "alice") for c in e["columns"]}
    assert shared == {"id", "spend"}  # never bob's protected `visits`
    columns = plan["outputs"]["read"]["output_ds"]["columns"]
    assert "visits" not in {column["name"] for column in columns}
