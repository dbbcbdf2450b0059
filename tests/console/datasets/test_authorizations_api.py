"""/api/v1/authorizations/: the owner node authorises its datasets to its active projects with
column roles and revokes them; members see active ones on their projects; outsiders nothing."""

from __future__ import annotations

from console.audit.models import AuditEvent
from console.datasets.models import Authorization
from console.projects.models import Project
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import AUTHORIZATIONS, authorize_via_api, grant


def revoke_url(authorization_id: int) -> str:
    return f"{AUTHORIZATIONS}{authorization_id}/revoke/"


def detail_url(authorization_id: int) -> str:
    return f"{AUTHORIZATIONS}{authorization_id}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [a["id"] for a in response.json()["results"]]


def test_it_authorises_with_roles_defaulting_to_feature(api_alice, alice, dataset, project):
    response = authorize_via_api(api_alice, dataset.pk, project, {"id": "id", "member": "label"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["column_roles"] == {
        "id": "id",
        "age": "feature",
        "income": "feature",
        "member": "label",
    }
    assert body["is_active"] is True
    assert body["granted_by"] == "alice_admin"
    event = AuditEvent.objects.get(action="authorize")
    assert (event.node, event.detail["project"]) == (alice, project.pk)


def test_it_names_unknown_columns(api_alice, dataset, project):
    response = authorize_via_api(api_alice, dataset.pk, project, {"ID": "id", "zip": "feature"})
    body = assert_error(response, 400, "unknown_column")
    assert "has no column 'ID', 'zip'" in body["detail"]
    assert not Authorization.objects.exists()


def test_it_names_unknown_roles(api_alice, dataset, project):
    response = authorize_via_api(api_alice, dataset.pk, project, {"age": "secret"})
    body = assert_error(response, 400, "invalid_role")
    assert "'secret' for 'age'" in body["detail"]
    assert "id, feature, label, protected" in body["detail"]


def test_it_refuses_an_archived_project(api_alice, dataset, project):
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ARCHIVED)
    body = assert_error(authorize_via_api(api_alice, dataset.pk, project), 409, "project_archived")
    assert "archived" in body["detail"]
    assert not Authorization.objects.exists()


def test_it_refuses_a_second_active_authorisation(api_alice, dataset, project):
    first = authorize_via_api(api_alice, dataset.pk, project).json()
    body = assert_error(authorize_via_api(api_alice, dataset.pk, project), 400, "duplicate")
    assert f"authorisation #{first['id']}" in body["detail"]
    assert "edit that authorisation's column roles instead" in body["detail"]


def test_it_authorises_again_after_revoking(api_alice, dataset, project):
    first = authorize_via_api(api_alice, dataset.pk, project).json()
    assert api_alice.post(revoke_url(first["id"])).status_code == 200
    second = authorize_via_api(api_alice, dataset.pk, project, {"income": "label"})
    assert second.status_code == 201
    assert second.json()["column_roles"]["income"] == "label"


def test_it_answers_404_for_projects_my_node_is_not_in(api_carol, carol, carol_user, project):
    from tests.console.datasets.helpers import upload

    dataset_id = upload(api_carol).json()["id"]
    assert_error(authorize_via_api(api_carol, dataset_id, project), 404, "not_found")


def test_it_answers_404_for_another_nodes_dataset(api_bob, dataset, project):
    assert_error(authorize_via_api(api_bob, dataset.pk, project), 404, "not_found")
    assert not Authorization.objects.exists()


def test_it_validates_the_body(api_alice, dataset, project):
    response = api_alice.post(AUTHORIZATIONS, {"dataset": "x"}, format="json")
    body = assert_error(response, 400)
    assert "dataset" in body["detail"]


def test_it_requires_login_to_authorise(api_anon, dataset, project):
    assert_error(authorize_via_api(api_anon, dataset.pk, project), 401)


def test_it_lists_authorisations_by_who_asks(
    api_alice, api_bob, api_carol, dataset, project, carol_project
):
    to_bob = grant(dataset, project)
    to_carol = grant(dataset, carol_project)
    assert sorted(ids(api_alice.get(AUTHORIZATIONS))) == sorted([to_bob.pk, to_carol.pk])
    assert ids(api_bob.get(AUTHORIZATIONS)) == [to_bob.pk]
    assert ids(api_carol.get(AUTHORIZATIONS)) == [to_carol.pk]


def test_it_hides_revoked_authorisations_from_members(api_alice, api_bob, dataset, project):
    authorization = grant(dataset, project)
    assert api_alice.post(revoke_url(authorization.pk)).status_code == 200
    assert ids(api_bob.get(AUTHORIZATIONS)) == []
    assert ids(api_alice.get(AUTHORIZATIONS)) == [authorization.pk]
    assert_error(api_bob.get(detail_url(authorization.pk)), 404)


def test_it_filters_by_project_and_dataset(api_alice, dataset, project, carol_project):
    to_bob = grant(dataset, project)
    to_carol = grant(dataset, carol_project)
    assert ids(api_alice.get(AUTHORIZATIONS, {"project": project.pk})) == [to_bob.pk]
    assert ids(api_alice.get(AUTHORIZATIONS, {"project": carol_project.pk})) == [to_carol.pk]
    assert len(ids(api_alice.get(AUTHORIZATIONS, {"dataset": dataset.pk}))) == 2
    assert ids(api_alice.get(AUTHORIZATIONS, {"dataset": dataset.pk + 1})) == []


def test_it_refuses_a_malformed_filter(api_alice):
    body = assert_error(api_alice.get(AUTHORIZATIONS, {"project": "abc"}), 400)
    assert "'abc' is not a project id" in body["detail"]


def test_it_requires_login_to_list(api_anon):
    assert_error(api_anon.get(AUTHORIZATIONS), 401)


def test_it_shows_an_authorisation_to_owner_and_member(api_alice, api_bob, dataset, project):
    authorization = grant(dataset, project)
    for client in (api_alice, api_bob):
        response = client.get(detail_url(authorization.pk))
        assert response.status_code == 200
        assert response.json()["dataset"] == {
            "id": dataset.pk,
            "name": "customers",
            "node": "alice",
        }


def test_it_answers_404_to_outsiders_and_audits_it(api_carol, carol, dataset, project):
    authorization = grant(dataset, project)
    assert_error(api_carol.get(detail_url(authorization.pk)), 404, "not_found")
    event = AuditEvent.objects.get(action="access_denied")
    assert (event.actor_node, event.target_id) == (carol, str(authorization.pk))


def test_it_revokes_and_audits(api_alice, alice_user, dataset, project):
    authorization = grant(dataset, project)
    response = api_alice.post(revoke_url(authorization.pk))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["revoked_by"] == "alice_admin"
    authorization.refresh_from_db()
    assert authorization.revoked_at is not None
    assert authorization.revoked_by == alice_user
    assert AuditEvent.objects.get(action="revoke").target_id == str(authorization.pk)


def test_it_refuses_to_revoke_twice(api_alice, dataset, project):
    authorization = grant(dataset, project)
    api_alice.post(revoke_url(authorization.pk))
    body = assert_error(api_alice.post(revoke_url(authorization.pk)), 400, "already_revoked")
    assert "was already revoked on" in body["detail"]
    assert AuditEvent.objects.filter(action="revoke").count() == 1


def test_it_revokes_in_an_archived_project(api_alice, dataset, project):
    authorization = grant(dataset, project)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ARCHIVED)
    assert api_alice.post(revoke_url(authorization.pk)).status_code == 200


def test_it_lets_only_the_owner_revoke(api_bob, api_carol, dataset, project):
    authorization = grant(dataset, project)
    for client in (api_bob, api_carol):
        assert_error(client.post(revoke_url(authorization.pk)), 404, "not_found")
    authorization.refresh_from_db()
    assert authorization.is_active


def test_it_requires_login_to_revoke(api_anon, dataset, project):
    authorization = grant(dataset, project)
    assert_error(api_anon.post(revoke_url(authorization.pk)), 401)
