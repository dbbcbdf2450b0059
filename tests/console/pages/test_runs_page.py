"""The runs page (/runs/) and GET /api/v1/runs/: runs across pipelines, by who is asking.

Members list the runs of their node's projects (and only those) and filter them by project,
pipeline, status and starter; a platform admin lists every run as metadata, without links to
run pages (which stay members-only); a bad filter value is refused with the value named.
"""

from __future__ import annotations

import pytest
from django.test import Client

from console.projects.models import Project, ProjectMember
from tests.console.conftest import make_user
from tests.console.pages.test_pipelines_listings import EVIL, make_run
from workflows.models import Pipeline, Status

pytestmark = pytest.mark.django_db


def make_pipeline(project, user, name) -> Pipeline:
    graph = {"nodes": [{"id": "n1", "component": "read/dataset"}], "edges": []}
    return Pipeline.objects.create(project=project, name=name, graph=graph, created_by=user)


@pytest.fixture
def world(project, alice_user, bob_user, carol, carol_user):
    """Two pipelines in alice+bob's project, one in carol's own project."""
    risk = make_pipeline(project, alice_user, f"Risk {EVIL}")
    churn = make_pipeline(project, bob_user, "Churn")
    own = Project.objects.create(name="Carol only", owner_node=carol)
    ProjectMember.objects.create(project=own, node=carol)
    hidden = make_pipeline(own, carol_user, "Claims")
    runs = {
        "risk_ok": make_run(risk, alice_user),
        "risk_failed": make_run(risk, bob_user, Status.FAILED),
        "churn_ok": make_run(churn, bob_user),
        "claims": make_run(hidden, carol_user),
    }
    return {"risk": risk, "churn": churn, "hidden": hidden, "own": own, "runs": runs}


def listed(html: str) -> set[str]:
    return {part.split('"')[0] for part in html.split('href="/pipelines/runs/')[1:]}


def test_it_lists_every_run_of_my_projects_and_nothing_else(bob_client, world):
    response = bob_client.get("/runs/")
    html = response.content.decode()
    assert response.status_code == 200
    runs = world["runs"]
    wanted = {f"{runs[name].pk}/" for name in ("risk_ok", "risk_failed", "churn_ok")}
    assert listed(html) == wanted
    assert "Claims" not in html
    assert "Carol only" not in html
    assert EVIL not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", {"risk_failed"}),
        ("started_by=bob_admin", {"risk_failed", "churn_ok"}),
        ("pipeline={churn}", {"churn_ok"}),
        ("project={project}&status=succeeded", {"risk_ok", "churn_ok"}),
    ],
)
def test_it_filters_by_project_pipeline_status_and_starter(
    alice_client, world, project, query, expected
):
    url = "/runs/?" + query.format(churn=world["churn"].pk, project=project.pk)
    html = alice_client.get(url).content.decode()
    assert listed(html) == {f"{world['runs'][name].pk}/" for name in expected}
    assert 'href="/runs/">Clear' in html


def test_a_filter_outside_what_i_may_see_is_refused_by_name(alice_client, world):
    html = alice_client.get(f"/runs/?pipeline={world['hidden'].pk}").content.decode()
    assert listed(html) == set()
    assert "Not filtered by pipeline" in html
    assert str(world["hidden"].pk) in html
    html = alice_client.get("/runs/?status=done").content.decode()
    assert "Not filtered by status" in html
    assert "done" in html


def test_the_page_is_in_the_navigation_and_needs_a_login(alice_client, anon_client, world):
    assert 'href="/runs/"' in alice_client.get("/").content.decode()
    response = anon_client.get("/runs/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_platform_admin_lists_every_run_without_opening_them(platform_admin, world):
    client = Client()
    client.force_login(platform_admin)
    html = client.get("/runs/").content.decode()
    assert listed(html) == set()
    for name in ("Churn", "Claims", "Carol only"):
        assert name in html
    assert html.count("run-status-succeeded") == 3
    dashboard = client.get("/").content.decode()
    section = dashboard[dashboard.index('id="recent-runs"') :]
    assert "Recent runs on this platform" in section
    assert section.count("run-status-") == 4
    assert "No runs yet" not in section


def test_a_user_without_a_node_lists_nothing(world):
    client = Client()
    client.force_login(make_user("drifter", None))
    html = client.get("/runs/").content.decode()
    assert "No runs yet" in html


def test_the_api_lists_filters_and_names_pipelines_and_projects(api_bob, world, project):
    rows = api_bob.get("/api/v1/runs/").json()
    runs = world["runs"]
    assert {row["id"] for row in rows} == {
        runs[n].pk for n in ("risk_ok", "risk_failed", "churn_ok")
    }
    churn = next(row for row in rows if row["id"] == runs["churn_ok"].pk)
    assert churn["pipeline_name"] == "Churn"
    assert churn["project"] == project.pk
    assert churn["project_name"] == project.name
    assert churn["started_by"] == "bob_admin"
    assert churn["nodes"] is None
    failed = api_bob.get("/api/v1/runs/", {"status": "failed"}).json()
    assert [row["id"] for row in failed] == [runs["risk_failed"].pk]


def test_the_api_refuses_a_bad_filter_with_its_value(api_bob, world):
    response = api_bob.get("/api/v1/runs/", {"pipeline": world["hidden"].pk})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert str(world["hidden"].pk) in body["detail"]
    assert api_bob.get("/api/v1/runs/", {"project": "x"}).status_code == 400


def test_the_api_needs_a_login(api_anon, world):
    assert api_anon.get("/api/v1/runs/").status_code in (401, 403)
