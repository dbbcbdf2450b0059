"""/api/v1/datasets/ list, detail, delete: owner, member of an authorised project, outsider,
anonymous. Other nodes see schema and their projects' roles only; nobody sees paths."""

from __future__ import annotations

from django.conf import settings
from rest_framework.test import APIClient

from console.accounts.services import create_token
from console.audit.models import AuditEvent
from console.datasets.models import Authorization, Dataset
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import LIST, dataset_url, grant, leftovers
from workflows.actors import Actor

OPERATOR = Actor.system("tests")  # an operator on the server, like the command

OWNER_ONLY = ("original_filename", "size_bytes", "sha256", "encoding", "uploaded_by")


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [d["name"] for d in response.json()["results"]]


def assert_no_paths(response) -> None:
    text = response.content.decode()
    assert str(settings.NODE_STORAGE_DIR) not in text
    assert "relative_path" not in text
    assert "datasets/" not in text.replace('"/api/v1/datasets/', "")


def test_it_lists_my_datasets_with_file_facts(api_alice, dataset):
    response = api_alice.get(LIST)
    assert names(response) == ["customers"]
    body = response.json()["results"][0]
    assert body["is_owner"] is True
    assert body["sha256"] == dataset.sha256
    assert body["uploaded_by"] == "alice_admin"
    assert_no_paths(response)


def test_it_lists_my_nodes_datasets_to_plain_members(api_alice_member, dataset):
    assert names(api_alice_member.get(LIST)) == ["customers"]


def test_it_hides_unauthorised_datasets_from_members(api_bob, dataset, project):
    assert names(api_bob.get(LIST)) == []


def test_it_shows_authorised_datasets_to_members_without_file_facts(api_bob, dataset, project):
    grant(dataset, project, {"id": "id", "age": "feature", "income": "label", "member": "feature"})
    response = api_bob.get(LIST)
    assert names(response) == ["customers"]
    body = response.json()["results"][0]
    assert body["is_owner"] is False
    assert all(body[field] is None for field in OWNER_ONLY), body
    assert body["row_count"] == 3
    assert [c["name"] for c in body["columns"]] == ["id", "age", "income", "member"]
    assert body["authorizations"][0]["column_roles"]["income"] == "label"
    assert body["authorizations"][0]["granted_by"] is None
    assert_no_paths(response)


def test_it_shows_members_only_the_roles_of_their_projects(
    api_bob, api_carol, dataset, project, carol_project
):
    grant(dataset, project)
    grant(dataset, carol_project)
    bob_sees = api_bob.get(LIST).json()["results"][0]["authorizations"]
    carol_sees = api_carol.get(LIST).json()["results"][0]["authorizations"]
    assert [a["project"]["name"] for a in bob_sees] == [project.name]
    assert [a["project"]["name"] for a in carol_sees] == [carol_project.name]


def test_it_shows_the_owner_every_authorisation(api_alice, dataset, project, carol_project):
    grant(dataset, project)
    grant(dataset, carol_project)
    body = api_alice.get(LIST).json()["results"][0]
    assert sorted(a["project"]["name"] for a in body["authorizations"]) == sorted(
        [project.name, carol_project.name]
    )


def test_it_hides_datasets_from_outsiders(api_carol, dataset, project):
    grant(dataset, project)
    assert names(api_carol.get(LIST)) == []


def test_it_hides_the_dataset_again_once_revoked(api_bob, dataset, project):
    authorization = grant(dataset, project)
    assert names(api_bob.get(LIST)) == ["customers"]
    Authorization.objects.filter(pk=authorization.pk).update(revoked_at="2026-01-01T00:00Z")
    assert names(api_bob.get(LIST)) == []
    assert_error(api_bob.get(dataset_url(dataset.pk)), 404)


def test_it_requires_login_to_list(api_anon, dataset):
    assert_error(api_anon.get(LIST), 401, "not_authenticated")


def test_it_shows_a_dataset_to_its_owner(api_alice, dataset):
    response = api_alice.get(dataset_url(dataset.pk))
    assert response.status_code == 200
    assert response.json()["name"] == "customers"
    assert_no_paths(response)


def test_it_shows_an_authorised_dataset_to_members(api_bob, dataset, project):
    grant(dataset, project)
    response = api_bob.get(dataset_url(dataset.pk))
    assert response.status_code == 200
    assert response.json()["sha256"] is None


def test_it_answers_404_to_members_before_authorisation(api_bob, dataset, project):
    assert_error(api_bob.get(dataset_url(dataset.pk)), 404, "not_found")


def test_it_answers_404_to_outsiders_and_audits_it(api_carol, carol, dataset):
    assert_error(api_carol.get(dataset_url(dataset.pk)), 404, "not_found")
    event = AuditEvent.objects.get(action="access_denied")
    assert event.actor_node == carol
    assert event.target_id == str(dataset.pk)


def test_it_answers_404_for_unknown_datasets(api_alice):
    assert_error(api_alice.get(dataset_url(999)), 404, "not_found")


def test_it_requires_login_to_read(api_anon, dataset):
    assert_error(api_anon.get(dataset_url(dataset.pk)), 401)


def test_it_deletes_a_dataset_its_file_and_authorisations(api_alice, dataset, project):
    grant(dataset, project)
    path = dataset.path
    response = api_alice.delete(dataset_url(dataset.pk))
    assert response.status_code == 204
    assert not path.exists()
    assert leftovers() == []
    assert not Dataset.objects.exists()
    assert not Authorization.objects.exists()
    event = AuditEvent.objects.get(action="delete")
    assert event.target_id == str(dataset.pk)
    assert event.outcome == "success"


def test_it_refuses_deletion_by_members_and_outsiders(api_bob, api_carol, dataset, project):
    grant(dataset, project)
    for client in (api_bob, api_carol):
        assert_error(client.delete(dataset_url(dataset.pk)), 404)
    assert dataset.path.exists()
    assert Dataset.objects.count() == 1


def test_a_read_token_may_not_delete_a_dataset(alice_user, dataset):
    """A token's scope bounds what it does: a read token of the owning node's admin reads the
    dataset and cannot delete it."""
    client = APIClient()
    key = create_token(OPERATOR, alice_user, "read token", "read", 30)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(dataset_url(dataset.pk)).status_code == 200
    body = assert_error(client.delete(dataset_url(dataset.pk)), 403, "permission_denied")
    assert "read" in body["detail"]
    assert dataset.path.exists()
    assert Dataset.objects.count() == 1


def test_it_requires_login_to_delete(api_anon, dataset):
    assert_error(api_anon.delete(dataset_url(dataset.pk)), 401)
    assert dataset.path.exists()
