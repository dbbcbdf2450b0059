"""Runs on the dashboard and pipelines on the project page, by who is asking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from console.projects.models import Project, ProjectMember
from workflows.models import Pipeline, Run, Status

pytestmark = pytest.mark.django_db

EVIL = "<script>alert('x')</script>"


def make_run(pipeline, user, status=Status.SUCCEEDED, seconds=4.2) -> Run:
    started = timezone.now() - timedelta(minutes=5)
    return Run.objects.create(
        pipeline=pipeline,
        status=status,
        snapshot=pipeline.graph,
        created_by=user,
        started_at=started,
        finished_at=started + timedelta(seconds=seconds) if status != Status.RUNNING else None,
    )


@pytest.fixture
def pipeline(project, alice_user) -> Pipeline:
    graph = {"nodes": [{"id": "n1", "component": "read/dataset"}], "edges": []}
    return Pipeline.objects.create(
        project=project, name=f"Risk {EVIL}", graph=graph, created_by=alice_user
    )


def test_the_dashboard_lists_recent_runs_of_my_projects(bob_client, pipeline, alice_user):
    make_run(pipeline, alice_user)
    make_run(pipeline, alice_user, Status.FAILED, seconds=200)
    html = bob_client.get("/").content.decode()
    section = html[html.index('id="recent-runs"') :]
    assert section.count("/pipelines/runs/") == 2
    assert "run-status-failed" in section
    assert "run-status-succeeded" in section
    assert "4.2 s" in section
    assert "3.3 min" in section
    assert alice_user.get_username() in section
    assert EVIL not in html
    assert "&lt;script&gt;" in html


def test_the_dashboard_hides_runs_of_other_projects(carol_client, carol, pipeline, alice_user):
    make_run(pipeline, alice_user)
    own = Project.objects.create(name="Carol's own", owner_node=carol)
    ProjectMember.objects.create(project=own, node=carol)
    html = carol_client.get("/").content.decode()
    assert "/pipelines/runs/" not in html
    assert "No runs yet" in html


def test_the_project_page_lists_pipelines_with_their_last_run(
    alice_client, project, pipeline, alice_user
):
    make_run(pipeline, alice_user, Status.FAILED)
    last = make_run(pipeline, alice_user, Status.RUNNING)
    html = alice_client.get(f"/projects/{project.pk}/").content.decode()
    section = html[html.index('id="pipelines"') :]
    assert f"/pipelines/{pipeline.pk}/" in section
    assert f"/pipelines/runs/{last.pk}/" in section
    assert "run-status-running" in section
    assert f"/pipelines/new/{project.pk}/" in section


def test_an_archived_project_offers_no_new_pipeline(alice_client, project, pipeline):
    project.status = Project.Status.ARCHIVED
    project.save()
    html = alice_client.get(f"/projects/{project.pk}/").content.decode()
    assert f"/pipelines/new/{project.pk}/" not in html
    assert f"/pipelines/{pipeline.pk}/" in html


def test_a_project_without_pipelines_explains_them(bob_client, project):
    html = bob_client.get(f"/projects/{project.pk}/").content.decode()
    assert "No pipeline yet" in html
    assert f"/pipelines/new/{project.pk}/" in html
