"""/api/v1/pipelines/, runs and artifacts, by who is asking: owner, member, outsider, anonymous."""

from __future__ import annotations

import json

import pytest

from tests.workflows.conftest import credit_graph, edge, node
from tests.workflows.runs import run_now
from workflows.models import Artifact, Pipeline, Run, Status

pytestmark = pytest.mark.django_db


def url(pipeline, suffix: str = "") -> str:
    return f"/api/v1/pipelines/{pipeline.pk}/{suffix}"


def test_members_list_their_projects_pipelines(credit_pipeline, api_alice, api_bob, api_carol):
    for client in (api_alice, api_bob):
        names = [p["name"] for p in client.get("/api/v1/pipelines/").json()]
        assert names == ["Credit pipeline"]
    assert api_carol.get("/api/v1/pipelines/").json() == []


def test_listing_filters_by_project(credit_pipeline, api_alice, project):
    assert len(api_alice.get(f"/api/v1/pipelines/?project={project.pk}").json()) == 1
    assert api_alice.get(f"/api/v1/pipelines/?project={project.pk + 1}").json() == []


def test_anonymous_callers_get_401(credit_pipeline, api_anon):
    for path in ("/api/v1/pipelines/", url(credit_pipeline), "/api/v1/runs/1/"):
        assert api_anon.get(path).status_code == 401, path


def test_an_outsider_gets_404_for_everything(credit_pipeline, api_carol):
    assert api_carol.get(url(credit_pipeline)).status_code == 404
    assert api_carol.patch(url(credit_pipeline), {"name": "x"}, format="json").status_code == 404
    assert api_carol.post(url(credit_pipeline, "validate/")).status_code == 404
    assert api_carol.post(url(credit_pipeline, "runs/"), {}, format="json").status_code == 404
    assert api_carol.get(url(credit_pipeline, "export/")).status_code == 404


def test_a_member_creates_a_pipeline(api_bob, project, credit):
    graph = {"nodes": [node("read", "read/dataset", dataset=credit.pk)], "edges": []}
    body = {"project": project.pk, "name": "Bob's", "graph": graph}
    response = api_bob.post("/api/v1/pipelines/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["graph"]["nodes"][0]["position"] == {"x": 0, "y": 0}


def test_an_outsider_cannot_create_in_a_project_it_is_not_in(api_carol, project):
    body = {"project": project.pk, "name": "Intruder"}
    assert api_carol.post("/api/v1/pipelines/", body, format="json").status_code == 404


def test_a_malformed_graph_is_refused(api_alice, project):
    body = {"project": project.pk, "name": "Bad", "graph": {"nodes": "nope"}}
    response = api_alice.post("/api/v1/pipelines/", body, format="json")
    assert response.status_code == 400
    assert "must be lists" in response.json()["detail"]


def test_its_creator_saves_the_graph_and_an_archived_project_is_read_only(
    credit_pipeline, api_alice, api_bob, project
):
    graph = credit_graph(1)
    response = api_alice.patch(url(credit_pipeline), {"graph": graph}, format="json")
    assert response.status_code == 200
    project.status = "archived"
    project.save()
    response = api_alice.patch(url(credit_pipeline), {"name": "Renamed"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "project_archived")
    assert api_alice.delete(url(credit_pipeline)).status_code == 409
    assert api_bob.post(url(credit_pipeline, "runs/"), {}, format="json").status_code == 409
    assert api_bob.get(url(credit_pipeline)).status_code == 200


def test_its_creator_deletes_a_pipeline_by_archiving_it(credit_pipeline, api_alice):
    assert api_alice.delete(url(credit_pipeline)).status_code == 204
    credit_pipeline.refresh_from_db()
    assert credit_pipeline.archived_at is not None
    assert api_alice.get(url(credit_pipeline)).status_code == 404
    assert api_alice.get("/api/v1/pipelines/").json() == []


def test_export_and_import_round_trip(credit_pipeline, api_alice, project):
    document = api_alice.get(url(credit_pipeline, "export/")).json()
    assert document["format"] == "privpad.pipeline"
    body = {"project": project.pk, "document": json.loads(json.dumps(document))}
    response = api_alice.post("/api/v1/pipelines/import/", body, format="json")
    assert response.status_code == 201
    assert response.json()["graph"] == credit_pipeline.graph | response.json()["graph"]
    assert Pipeline.objects.count() == 2


def test_import_refuses_other_documents(api_alice, project):
    body = {"project": project.pk, "document": {"format": "other"}}
    response = api_alice.post("/api/v1/pipelines/import/", body, format="json")
    assert response.status_code == 400


def test_validate_lists_problems_with_their_nodes(pipeline_factory, credit, api_bob):
    graph = {
        "nodes": [
            node("read", "read/dataset", dataset=credit.pk),
            node("scale", "preprocessing/scaler", features=["nope"]),
            node("stats", "stats/table_statistics"),
        ],
        "edges": [edge("read", "output_ds", "scale", "input_ds")],
    }
    pipeline = pipeline_factory(graph)
    body = api_bob.post(url(pipeline, "validate/")).json()
    assert body["valid"] is False
    assert {(p["node"], p["code"]) for p in body["problems"]} == {
        ("scale", "column_missing"),
        ("stats", "missing_input"),
    }
    assert "read" in body["outputs"]


def test_validate_refuses_a_dataset_not_authorised_to_the_project(
    pipeline_factory, claims, api_alice
):
    pipeline = pipeline_factory({"nodes": [node("r", "read/dataset", dataset=claims.pk)]})
    problems = api_alice.post(url(pipeline, "validate/")).json()["problems"]
    assert [(p["node"], p["code"]) for p in problems] == [("r", "dataset_not_authorised")]


def test_a_run_of_an_invalid_pipeline_is_refused_with_every_problem(pipeline_factory, api_alice):
    pipeline = pipeline_factory({"nodes": [node("s", "stats/table_statistics")]})
    response = api_alice.post(url(pipeline, "runs/"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_pipeline"
    assert response.json()["problems"][0]["node"] == "s"
    assert not Run.objects.exists()


def test_a_member_starts_a_run_with_a_scope(credit_pipeline, api_bob):
    body = {"scope": "downstream", "node": "split"}
    response = api_bob.post(url(credit_pipeline, "runs/"), body, format="json")
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["status"] == "pending"
    assert {n["node"] for n in run["nodes"] if n["in_scope"]} == {
        "split",
        "fill",
        "scale",
        "stats",
        "eval",
    }
    snapshot = Run.objects.get().snapshot["nodes"]
    assert [n["params"] for n in snapshot] == [n["params"] for n in credit_pipeline.graph["nodes"]]
    assert {n["version"] for n in snapshot} == {"1.0.0"}


@pytest.mark.parametrize(
    "body", [{"scope": "node"}, {"scope": "node", "node": "ghost"}, {"scope": "sideways"}]
)
def test_a_run_scope_needs_an_existing_node(credit_pipeline, api_alice, body):
    assert api_alice.post(url(credit_pipeline, "runs/"), body, format="json").status_code == 400


def test_cancel_a_pending_run_then_refuse_a_second_cancel(credit_pipeline, api_alice, api_carol):
    run = api_alice.post(url(credit_pipeline, "runs/"), {}, format="json").json()
    assert api_carol.post(f"/api/v1/runs/{run['id']}/cancel/").status_code == 404
    response = api_alice.post(f"/api/v1/runs/{run['id']}/cancel/")
    assert response.json()["status"] == "cancelled"
    assert api_alice.post(f"/api/v1/runs/{run['id']}/cancel/").status_code == 400


def test_runs_are_listed_for_members_only(credit_pipeline, api_bob, api_carol):
    run = run_now(credit_pipeline)
    listed = api_bob.get(url(credit_pipeline, "runs/")).json()
    assert [r["id"] for r in listed] == [run.pk]
    assert api_bob.get(f"/api/v1/runs/{run.pk}/").json()["status"] == "succeeded"
    assert api_carol.get(f"/api/v1/runs/{run.pk}/").status_code == 404


def test_each_node_sees_and_downloads_only_its_own_artifacts(
    credit_pipeline, api_alice, api_bob, api_carol
):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED
    alice_view = api_alice.get(f"/api/v1/runs/{run.pk}/").json()["artifacts"]
    bob_view = api_bob.get(f"/api/v1/runs/{run.pk}/").json()["artifacts"]
    assert {a["owner"] for a in alice_view} == {"alice"}
    assert {a["owner"] for a in bob_view} == {"bob"}
    assert "path" not in json.dumps(alice_view)
    table = Artifact.objects.get(node_run__run=run, node_run__node_id="fill", port="output_ds")
    download = api_alice.get(f"/api/v1/artifacts/{table.pk}/download/")
    assert download.status_code == 200
    assert b"income" in b"".join(download.streaming_content)
    assert api_bob.get(f"/api/v1/artifacts/{table.pk}/download/").status_code == 404
    assert api_bob.get(f"/api/v1/artifacts/{table.pk}/").status_code == 404
    assert api_carol.get(f"/api/v1/artifacts/{table.pk}/download/").status_code == 404
    report = Artifact.objects.get(node_run__run=run, node_run__node_id="eval", party="bob")
    assert api_bob.get(f"/api/v1/artifacts/{report.pk}/download/").status_code == 200


def test_a_reused_output_is_listed_with_the_run_that_reused_it(credit_pipeline, api_alice):
    run_now(credit_pipeline)
    second = run_now(credit_pipeline, reuse=True)
    artifacts = api_alice.get(f"/api/v1/runs/{second.pk}/").json()["artifacts"]
    assert {a["node"] for a in artifacts} >= {"read", "fill", "scale"}


def test_an_outsiders_attempt_on_a_project_is_audited(api_carol, project):
    from console.audit.models import AuditEvent

    api_carol.post("/api/v1/pipelines/", {"project": project.pk, "name": "x"}, format="json")
    assert AuditEvent.objects.filter(action="access_denied").exists()


@pytest.mark.parametrize(
    ("language", "graph_error", "version_error"),
    [
        ("en", "node 'a': 'params' must be an object", "unsupported document version 7"),
        ("zh-hans", "节点 'a'：“params”必须是对象", "不支持的文档版本 7"),
    ],
)
def test_import_names_a_bad_document_in_the_readers_language(
    api_alice, project, language, graph_error, version_error
):
    graph = {"nodes": [{"id": "a", "component": "stats/table_statistics", "params": []}]}
    document = {"format": "privpad.pipeline", "version": 1, "name": "x", "graph": graph}
    body = {"project": project.pk, "document": document}
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    response = api_alice.post("/api/v1/pipelines/import/", body, format="json", **headers)
    assert response.status_code == 400
    assert graph_error in json.dumps(response.json(), ensure_ascii=False)
    body["document"] = document | {"version": 7}
    response = api_alice.post("/api/v1/pipelines/import/", body, format="json", **headers)
    assert response.status_code == 400
    assert version_error in json.dumps(response.json(), ensure_ascii=False)
