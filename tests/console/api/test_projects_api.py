"""/api/v1/projects/: owner, member, outsider, anonymous; archived projects are read-only."""

from __future__ import annotations

import pytest

from console.audit.models import AuditEvent
from console.projects.models import Project
from tests.console.api.helpers import assert_error, authorize, make_dataset

LIST = "/api/v1/projects/"


def detail_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/"


def test_it_lists_the_projects_of_my_node(api_alice, api_bob, api_carol, project):
    for client in (api_alice, api_bob):
        body = client.get(LIST).json()
        assert [p["name"] for p in body["results"]] == ["Joint credit model"]
        assert body["results"][0]["members"] == ["alice", "bob"]
    assert api_carol.get(LIST).json()["results"] == []


def test_it_lists_every_project_for_platform_admins(api_admin, project):
    assert api_admin.get(LIST).json()["count"] == 1


def test_it_requires_login_to_list(api_anon, project):
    assert_error(api_anon.get(LIST), 401, "not_authenticated")


def test_it_creates_a_project_owned_by_my_node(api_carol, carol):
    response = api_carol.post(LIST, {"name": "Claims", "description": "d"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner_node"] == "carol"
    assert [m["node"]["name"] for m in body["members"]] == ["carol"]
    assert AuditEvent.objects.filter(action="project_create", actor_node=carol).exists()


def test_it_validates_a_new_project(api_alice):
    body = assert_error(api_alice.post(LIST, {"description": "no name"}, format="json"), 400)
    assert body["detail"].startswith("name:")
    assert "name" in body["errors"]
    assert_error(api_alice.post(LIST, {"name": "x" * 121}, format="json"), 400, "max_length")


def test_it_refuses_projects_from_users_without_a_node(api_admin):
    body = assert_error(api_admin.post(LIST, {"name": "Orphan"}, format="json"), 400, "no_node")
    assert "belong to a node" in body["detail"]


def test_it_requires_login_to_create(api_anon):
    assert_error(api_anon.post(LIST, {"name": "x"}, format="json"), 401)
    assert not Project.objects.exists()


def test_it_shows_members_and_authorised_datasets_to_members(api_alice, api_bob, project, bob):
    dataset = make_dataset(bob)
    authorize(dataset, project)
    make_dataset(bob, "unshared")
    for client in (api_alice, api_bob):
        body = client.get(detail_url(project)).json()
        assert [m["node"]["name"] for m in body["members"]] == ["alice", "bob"]
        assert [m["is_owner"] for m in body["members"]] == [True, False]
        assert [d["name"] for d in body["datasets"]] == ["customers"]
        shown = body["datasets"][0]
        assert shown["column_roles"]["id"] == "id"
        assert set(shown) == {
            "authorization", "dataset", "name", "node", "row_count", "columns",
            "column_roles", "authorized_at",
        }  # fmt: skip


def test_it_never_exposes_storage_paths_or_checksums(api_alice, project, bob):
    authorize(make_dataset(bob), project)
    text = api_alice.get(detail_url(project)).content.decode()
    for secret in ("secret-customers", "datasets/", "abab", "customers.csv", "storage"):
        assert secret not in text


def test_it_hides_revoked_authorisations(api_alice, project, bob):
    from django.utils import timezone

    authorization = authorize(make_dataset(bob), project)
    authorization.revoked_at = timezone.now()
    authorization.save()
    assert api_alice.get(detail_url(project)).json()["datasets"] == []


def test_it_shows_no_dataset_schemas_to_a_non_member_platform_admin(api_admin, project, bob):
    authorize(make_dataset(bob), project)
    body = api_admin.get(detail_url(project)).json()
    assert body["datasets"] == []
    assert len(body["members"]) == 2


def test_it_answers_404_to_outsiders_and_audits_it(api_carol, project, carol):
    assert_error(api_carol.get(detail_url(project)), 404, "not_found")
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.actor_node == carol
    assert denied.target_id == str(project.pk)


def test_it_answers_404_for_unknown_projects(api_alice):
    assert_error(api_alice.get("/api/v1/projects/999999/"), 404, "not_found")


def test_it_requires_login_to_read(api_anon, project):
    assert_error(api_anon.get(detail_url(project)), 401)


def test_it_lets_the_owner_rename(api_alice, project):
    response = api_alice.patch(detail_url(project), {"name": "Renamed"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Renamed"
    assert AuditEvent.objects.filter(action="project_update").exists()


def test_it_refuses_edits_from_a_member_with_403(api_bob, project):
    body = assert_error(api_bob.patch(detail_url(project), {"name": "x"}, format="json"), 403)
    assert "owner node 'alice'" in body["detail"]
    project.refresh_from_db()
    assert project.name == "Joint credit model"


def test_it_refuses_edits_from_outsiders_with_404(api_carol, project):
    assert_error(api_carol.patch(detail_url(project), {"name": "x"}, format="json"), 404)


def test_it_refuses_edits_from_anonymous(api_anon, project):
    assert_error(api_anon.patch(detail_url(project), {"name": "x"}, format="json"), 401)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "empty"),
        ({"owner_node": "carol"}, "invalid_field"),
        ({"status": "deleted"}, "invalid_choice"),
        ({"name": ""}, "blank"),
    ],
)
def test_it_validates_edits(api_alice, project, body, code):
    assert_error(api_alice.patch(detail_url(project), body, format="json"), 400, code)


def test_it_refuses_put_and_delete_with_405(api_alice, project):
    assert_error(api_alice.put(detail_url(project), {"name": "x"}, format="json"), 405)
    assert_error(api_alice.delete(detail_url(project)), 405, "method_not_allowed")
    assert Project.objects.filter(pk=project.pk).exists()


def test_it_archives_and_then_refuses_edits_with_409(api_alice, project):
    response = api_alice.patch(detail_url(project), {"status": "archived"}, format="json")
    assert response.json()["status"] == "archived"
    body = assert_error(
        api_alice.patch(detail_url(project), {"name": "x"}, format="json"), 409, "project_archived"
    )
    assert "archived" in body["detail"]


def test_it_refuses_a_rename_while_unarchiving(api_alice, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    body = {"status": "active", "name": "x"}
    assert_error(api_alice.patch(detail_url(project), body, format="json"), 409)
    project.refresh_from_db()
    assert project.is_archived


def test_it_lets_the_owner_unarchive(api_alice, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    response = api_alice.patch(detail_url(project), {"status": "active"}, format="json")
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert not project.is_archived


def test_it_refuses_unarchiving_by_a_member(api_bob, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    assert_error(api_bob.patch(detail_url(project), {"status": "active"}, format="json"), 403)
