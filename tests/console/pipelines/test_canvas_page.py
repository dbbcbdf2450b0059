"""The canvas pages as the server renders them, by who is asking: the editor, a new pipeline
from each template, the read-only page of a past run, and what the page's starting data may
contain (never rows, never storage paths)."""

from __future__ import annotations

import json
import re

import pytest

from console.projects.models import Project
from tests.console.pages.conftest import ROW_MARKER, authorize, make_dataset
from workflows.models import Pipeline, Run, Status
from workflows.starters import STARTERS

pytestmark = pytest.mark.django_db

GRAPH = {
    "nodes": [
        {
            "id": "read_1",
            "component": "read/dataset",
            "version": "1.0.0",
            "params": {},
            "position": {"x": 40, "y": 40},
        }
    ],
    "edges": [],
}


@pytest.fixture
def pipeline(project, alice_user) -> Pipeline:
    return Pipeline.objects.create(
        project=project, name="Risk model", graph=GRAPH, created_by=alice_user
    )


@pytest.fixture
def run(pipeline, alice_user) -> Run:
    snapshot = {"nodes": [{**GRAPH["nodes"][0], "id": "snap_1"}], "edges": []}
    return Run.objects.create(
        pipeline=pipeline, status=Status.SUCCEEDED, snapshot=snapshot, created_by=alice_user
    )


def canvas_data(response) -> dict:
    html = response.content.decode()
    match = re.search(
        r'<script id="canvas-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "the page carries no canvas-data script"
    return json.loads(match.group(1))


@pytest.mark.parametrize(("who", "readonly"), [("alice_client", False), ("bob_client", True)])
def test_members_get_the_editor_read_only_unless_they_edit_it(request, who, readonly, pipeline):
    # alice created the pipeline; bob, not one of its editors, reads it.
    response = request.getfixturevalue(who).get(f"/pipelines/{pipeline.pk}/")
    assert response.status_code == 200
    data = canvas_data(response)
    assert data["mode"] == "edit"
    assert data["readonly"] is readonly
    assert data["pipeline"]["graph"] == GRAPH
    assert {party["name"] for party in data["parties"]} == {"alice", "bob"}
    assert 'src="/static/console/js/pipeline.js"' in response.content.decode()


def test_outsiders_get_404_and_anonymous_users_log_in(carol_client, anon_client, pipeline, run):
    for path in (f"/pipelines/{pipeline.pk}/", f"/pipelines/runs/{run.pk}/"):
        assert carol_client.get(path).status_code == 404
        response = anon_client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_archived_project_shows_the_editor_read_only(alice_client, project, pipeline):
    project.status = Project.Status.ARCHIVED
    project.save()
    data = canvas_data(alice_client.get(f"/pipelines/{pipeline.pk}/"))
    assert data["readonly"] is True
    assert "archived" in data["readonly_reason"]


def test_the_run_page_shows_the_snapshot_read_only(alice_client, bob_client, run):
    for client in (alice_client, bob_client):
        data = canvas_data(client.get(f"/pipelines/runs/{run.pk}/"))
        assert data["mode"] == "run"
        assert data["readonly"] is True
        assert data["pipeline"]["graph"]["nodes"][0]["id"] == "snap_1"
        assert data["run"]["id"] == run.pk
        assert data["run"]["started_by"] == "alice_admin"


@pytest.mark.parametrize("template", sorted(STARTERS))
def test_a_new_pipeline_starts_from_each_template(alice_client, project, template):
    page = alice_client.get(f"/pipelines/new/{project.pk}/")
    assert page.status_code == 200
    assert f'value="{template}"' in page.content.decode()
    response = alice_client.post(
        f"/pipelines/new/{project.pk}/", {"name": f"From {template}", "template": template}
    )
    created = Pipeline.objects.get(name=f"From {template}")
    assert response.status_code == 302
    assert response["Location"] == f"/pipelines/{created.pk}/"
    assert created.project == project
    if template == "blank":
        assert created.graph["nodes"] == []
    else:
        assert created.graph["nodes"], f"template {template} gave an empty graph"


def test_no_new_pipeline_in_an_archived_project_or_for_outsiders(
    alice_client, carol_client, anon_client, project
):
    assert carol_client.get(f"/pipelines/new/{project.pk}/").status_code == 404
    assert anon_client.get(f"/pipelines/new/{project.pk}/").status_code == 302
    project.status = Project.Status.ARCHIVED
    project.save()
    response = alice_client.post(
        f"/pipelines/new/{project.pk}/", {"name": "Too late", "template": "blank"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"
    assert not Pipeline.objects.filter(name="Too late").exists()


def test_the_starting_data_holds_schemas_but_no_rows_or_paths(
    alice_client, bob_client, alice, project, pipeline
):
    rows = [[f"c{i}", f"{ROW_MARKER}-{i}"] for i in range(3)]
    dataset = make_dataset(alice, "customers", ["customer_id", "secret"], rows)
    authorize(dataset, project)
    storage = str(alice.ensure_storage())
    for client in (alice_client, bob_client):
        response = client.get(f"/pipelines/{pipeline.pk}/")
        html = response.content.decode()
        data = canvas_data(response)
        (listed,) = data["datasets"]
        assert listed["name"] == "customers"
        assert listed["party"] == "alice"
        assert [column["name"] for column in listed["columns"]] == ["customer_id", "secret"]
        assert ROW_MARKER not in html
        assert storage not in html
        assert dataset.relative_path not in html
        assert "relative_path" not in json.dumps(data)
