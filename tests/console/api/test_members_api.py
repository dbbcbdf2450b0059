"""/api/v1/projects/<id>/members/: the owner node adds and removes members."""

from __future__ import annotations

from console.audit.models import AuditEvent
from console.projects.models import Project
from tests.console.api.helpers import assert_error, authorize, make_dataset


def members_url(project, node: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/members/" + (f"{node}/" if node else "")


def archive(project) -> None:
    project.status = Project.Status.ARCHIVED
    project.save()


def test_it_lists_members_to_owner_and_member(api_alice, api_bob, project):
    for client in (api_alice, api_bob):
        body = client.get(members_url(project)).json()
        assert [(m["node"]["name"], m["is_owner"]) for m in body] == [
            ("alice", True),
            ("bob", False),
        ]


def test_it_reads_one_member(api_bob, project):
    assert api_bob.get(members_url(project, "bob")).json()["node"]["institution"] == "Bob Shop"
    assert_error(api_bob.get(members_url(project, "carol")), 404)


def test_it_hides_members_from_outsiders_and_anonymous(api_carol, api_anon, project):
    assert_error(api_carol.get(members_url(project)), 404)
    assert_error(api_anon.get(members_url(project)), 401)


def test_it_lets_the_owner_add_a_member(api_alice, project, carol):
    response = api_alice.post(members_url(project), {"node": "carol"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["node"]["name"] == "carol"
    assert project.has_member(carol)
    assert AuditEvent.objects.filter(action="member_add", detail__member="carol").exists()


def test_it_validates_new_members(api_alice, project, carol):
    url = members_url(project)
    assert_error(api_alice.post(url, {}, format="json"), 400, "required")
    body = assert_error(api_alice.post(url, {"node": "dave"}, format="json"), 400, "unknown_node")
    assert body["detail"] == "node: Unknown node 'dave'."
    body = assert_error(api_alice.post(url, {"node": "bob"}, format="json"), 400, "already_member")
    assert "already a member" in body["detail"]


def test_it_refuses_member_changes_from_a_member(api_bob, project, carol):
    assert_error(api_bob.post(members_url(project), {"node": "carol"}, format="json"), 403)
    assert_error(api_bob.delete(members_url(project, "alice")), 403)
    assert not project.has_member(carol)


def test_it_refuses_member_changes_from_outsiders(api_carol, project, carol):
    assert_error(api_carol.post(members_url(project), {"node": "carol"}, format="json"), 404)
    assert_error(api_carol.delete(members_url(project, "bob")), 404)
    assert not project.has_member(carol)


def test_it_refuses_member_changes_from_anonymous(api_anon, project, carol):
    assert_error(api_anon.post(members_url(project), {"node": "carol"}, format="json"), 401)
    assert_error(api_anon.delete(members_url(project, "bob")), 401)


def test_it_removes_a_member_and_revokes_its_authorisations(api_alice, project, bob):
    authorization = authorize(make_dataset(bob), project)
    response = api_alice.delete(members_url(project, "bob"))
    assert response.status_code == 204
    authorization.refresh_from_db()
    assert authorization.revoked_at is not None
    assert not project.has_member(bob)


def test_it_refuses_to_remove_the_owner(api_alice, project):
    body = assert_error(api_alice.delete(members_url(project, "alice")), 400, "owner_member")
    assert "owns the project" in body["detail"]


def test_it_answers_404_for_removing_a_non_member(api_alice, project, carol):
    assert_error(api_alice.delete(members_url(project, "carol")), 404)
    assert_error(api_alice.delete(members_url(project, "nobody")), 404)


def test_it_refuses_member_changes_to_archived_projects(api_alice, project, carol, bob):
    archive(project)
    url = members_url(project)
    assert_error(api_alice.post(url, {"node": "carol"}, format="json"), 409, "project_archived")
    assert_error(api_alice.delete(members_url(project, "bob")), 409, "project_archived")
    assert project.has_member(bob)
    assert not project.has_member(carol)


def test_it_still_lists_members_of_archived_projects(api_bob, project):
    archive(project)
    assert len(api_bob.get(members_url(project)).json()) == 2
