"""Roles: a viewer opens everything its node may see but never runs or edits; an approver holds
the disclosure-decision permission; analysts work as before."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from console.accounts.models import User
from console.accounts.roles import RolePermissionBackend
from console.datasets.models import Dataset
from console.projects.models import Project
from tests.console.accounts.conftest import api_as, token_client, token_for
from tests.console.api.helpers import assert_error, make_dataset
from tests.console.datasets.helpers import CSV, multipart
from workflows.models import Pipeline, Run

GRAPH = {"nodes": [], "edges": []}


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.PRIVPAD_DATA_DIR = tmp_path
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"


@pytest.fixture
def pipeline(project, alice_user) -> Pipeline:
    return Pipeline.objects.create(project=project, name="Risk", graph=GRAPH, created_by=alice_user)


@pytest.fixture
def viewer_api(alice_viewer):
    return api_as(alice_viewer)


def test_a_viewer_reads_projects_pipelines_and_runs(viewer_api, pipeline):
    assert viewer_api.get("/api/v1/projects/").status_code == 200
    assert viewer_api.get(f"/api/v1/pipelines/{pipeline.pk}/").status_code == 200
    assert viewer_api.get(f"/api/v1/pipelines/{pipeline.pk}/runs/").status_code == 200
    # Validation changes nothing: a viewer may ask what a run would refuse.
    assert viewer_api.post(f"/api/v1/pipelines/{pipeline.pk}/validate/").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/v1/pipelines/", {"project": "{project}", "name": "Mine"}),
        ("patch", "/api/v1/pipelines/{pipeline}/", {"name": "Renamed"}),
        ("delete", "/api/v1/pipelines/{pipeline}/", None),
        ("post", "/api/v1/pipelines/{pipeline}/runs/", {}),
        ("post", "/api/v1/projects/", {"name": "Viewer's"}),
        ("patch", "/api/v1/projects/{project}/", {"name": "Renamed"}),
    ],
)
def test_a_viewer_cannot_run_or_edit_through_the_api(viewer_api, pipeline, method, url, body):
    url = url.format(project=pipeline.project_id, pipeline=pipeline.pk)
    if body is not None:
        body = {k: v.format(project=pipeline.project_id) for k, v in body.items()}
    response = getattr(viewer_api, method)(url, body, format="json")
    assert_error(response, 403)
    assert "read-only" in response.json()["detail"]
    assert Pipeline.objects.get().name == "Risk"
    assert not Run.objects.exists()
    assert Project.objects.count() == 1


def test_a_viewer_cannot_upload_a_dataset(viewer_api):
    body, content_type = multipart("c.csv", CSV, name="customers")
    response = viewer_api.generic("POST", "/api/v1/datasets/", body, content_type)
    assert_error(response, 403)
    assert not Dataset.objects.exists()


def test_a_viewer_cannot_upload_through_the_page(alice_viewer):
    client = Client()
    client.force_login(alice_viewer)
    body, content_type = multipart("c.csv", CSV, name="customers")
    response = client.generic("POST", "/datasets/upload/", body, content_type)
    assert response["Location"] == "/datasets/"
    assert not Dataset.objects.exists()
    assert "Upload" not in client.get("/datasets/").content.decode()


def test_a_viewer_sees_no_change_buttons(alice_viewer, pipeline, alice):
    dataset = make_dataset(alice)
    client = Client()
    client.force_login(alice_viewer)
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "Preview rows" in html  # the node's own data: viewers may look
    assert "/delete/" not in html
    assert 'id="authorize"' not in html
    html = client.get(f"/projects/{pipeline.project_id}/").content.decode()
    assert "New pipeline" not in html
    assert "Edit details" not in html
    assert "Archive" not in html
    assert client.post(f"/datasets/{dataset.pk}/delete/").status_code == 403
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_a_viewers_token_is_capped_by_the_role(alice_viewer, pipeline):
    client = token_client(token_for(alice_viewer, "admin"))
    assert client.get(f"/api/v1/pipelines/{pipeline.pk}/").status_code == 200
    assert_error(client.post(f"/api/v1/pipelines/{pipeline.pk}/runs/", {}, format="json"), 403)


def test_the_canvas_is_read_only_for_a_viewer(alice_viewer, pipeline):
    client = Client()
    client.force_login(alice_viewer)
    html = client.get(f"/pipelines/{pipeline.pk}/").content.decode()
    data = re.search(r'id="canvas-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert '"readonly": true' in data
    assert "viewers open pipelines and results but do not run or edit them" in data
    new = client.post(f"/pipelines/new/{pipeline.project_id}/", {"name": "x", "template": "blank"})
    assert new.status_code == 403
    assert Pipeline.objects.count() == 1


def test_an_analyst_still_runs_and_edits(alice_member_user, pipeline):
    api = api_as(alice_member_user)
    assert api.patch(f"/api/v1/projects/{pipeline.project_id}/", {"name": "X"}).status_code == 200


@pytest.mark.parametrize(
    ("role", "decides"),
    [("admin", True), ("approver", True), ("analyst", False), ("viewer", False)],
)
def test_approvers_and_node_admins_hold_the_disclosure_permission(alice, role, decides):
    user = User.objects.create_user(username=f"u_{role}", password="x", node=alice, role=role)
    assert user.has_perm("workflows.decide_approval") is decides
    assert user.is_approver is decides
    user.is_active = False
    assert RolePermissionBackend().has_perm(user, "workflows.decide_approval") is False


def test_a_platform_admin_without_node_is_not_an_approver(platform_admin):
    # Superusers hold every Django permission; `is_approver` (a party's decision) they do not.
    assert platform_admin.is_approver is False
