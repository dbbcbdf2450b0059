"""Column roles suggested from the file, warnings about roles, and roles edited as a new
authorisation version (owner only; the old version kept for history, the change audited)."""

from __future__ import annotations

import pytest

from console.audit.models import AuditEvent
from console.datasets.models import Authorization, Dataset
from console.projects.models import Project
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import AUTHORIZATIONS, authorize_via_api, grant, upload
from workflows.ports import console_port

LABELLED = (
    b"customer_id,id,default_flag,score,y,churn\n"
    b"C1,1,0,0,a,1\nC2,1,1,1,b,0\nC3,2,0,1,c,2\nC4,3,1,0,d,1\n"
)


def suggestions_url(dataset_id: int) -> str:
    return f"/api/v1/datasets/{dataset_id}/role-suggestions/"


def versions_url(authorization_id: int) -> str:
    return f"{AUTHORIZATIONS}{authorization_id}/versions/"


@pytest.fixture
def labelled(api_alice) -> Dataset:
    response = upload(api_alice, LABELLED, name="labelled", filename="labelled.csv")
    assert response.status_code == 201, response.json()
    return Dataset.objects.get(pk=response.json()["id"])


def codes(warnings: list[dict]) -> list[str]:
    return [warning["code"] for warning in warnings]


# --- Suggestions ----------------------------------------------------------------------------


def test_it_suggests_a_unique_id_and_a_binary_target(api_alice, labelled):
    body = api_alice.get(suggestions_url(labelled.pk)).json()
    assert body["column_roles"] == {
        "customer_id": "id",  # unique values
        "id": "feature",  # named like an ID, but 1 appears twice
        "default_flag": "label",  # named like a target, 0/1
        "score": "feature",  # 0/1, but not named like a target
        "y": "feature",  # named like a target, but text
        "churn": "feature",  # named like a target, but a 2 among the 0/1
    }
    assert body["reasons"] == {
        "customer_id": "named like an ID and every value is unique",
        "default_flag": "named like a target and every value is 0/1",
    }
    assert body["warnings"] == []


def test_it_warns_when_nothing_can_be_suggested(api_alice, dataset):
    body = api_alice.get(suggestions_url(dataset.pk)).json()
    assert body["column_roles"] == {
        "id": "id",
        "age": "feature",
        "income": "feature",
        "member": "feature",
    }
    assert codes(body["warnings"]) == ["no_label"]


def test_a_file_missing_from_storage_gives_no_suggestion_but_no_error(api_alice, labelled):
    labelled.path.unlink()
    body = api_alice.get(suggestions_url(labelled.pk)).json()
    assert set(body["column_roles"].values()) == {"feature"}
    assert codes(body["warnings"]) == ["no_id_column", "no_label"]


def test_only_the_owner_gets_suggestions(api_bob, api_carol, api_anon, labelled, project):
    grant(labelled, project)
    assert_error(api_bob.get(suggestions_url(labelled.pk)), 404, "not_found")  # a member
    assert_error(api_carol.get(suggestions_url(labelled.pk)), 404, "not_found")
    assert_error(api_anon.get(suggestions_url(labelled.pk)), 401)


# --- Warnings -------------------------------------------------------------------------------


def test_roles_without_an_id_or_label_are_accepted_with_warnings(api_alice, dataset, project):
    response = authorize_via_api(api_alice, dataset.pk, project, {"id": "feature"})
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert codes(warnings) == ["no_id_column", "no_label"]
    assert "PSI cannot join" in warnings[0]["message"]


def test_roles_with_an_id_and_a_label_have_no_warning(api_alice, labelled, project):
    roles = {"customer_id": "id", "default_flag": "label"}
    response = authorize_via_api(api_alice, labelled.pk, project, roles)
    assert response.json()["warnings"] == []
    assert response.json()["version"] == 1
    assert response.json()["supersedes"] is None


# --- Versions -------------------------------------------------------------------------------


def test_the_owner_edits_roles_as_a_new_version(api_alice, alice_user, dataset, project):
    first = grant(dataset, project)
    roles = {"id": "id", "income": "protected"}
    response = api_alice.post(versions_url(first.pk), {"column_roles": roles}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 2
    assert body["supersedes"] == first.pk
    assert body["column_roles"] == {
        "id": "id",
        "age": "feature",
        "income": "protected",
        "member": "feature",
    }
    assert body["is_active"] is True
    first.refresh_from_db()
    assert not first.is_active
    assert first.successor.pk == body["id"]
    old = api_alice.get(f"{AUTHORIZATIONS}{first.pk}/").json()
    assert old["superseded_by"] == body["id"]
    event = AuditEvent.objects.get(action="authorize", target_id=str(body["id"]))
    assert event.actor == alice_user
    assert event.detail["version"] == 2
    assert event.detail["supersedes"] == first.pk
    assert event.detail["changed"] == {"id": ["feature", "id"], "income": ["feature", "protected"]}


def test_members_and_pipelines_see_only_the_new_version(api_alice, api_bob, dataset, project):
    first = grant(dataset, project)
    roles = {"id": "id", "age": "label"}
    new = api_alice.post(versions_url(first.pk), {"column_roles": roles}, format="json").json()
    assert [a["id"] for a in api_bob.get(AUTHORIZATIONS).json()["results"]] == [new["id"]]
    owner_sees = api_alice.get(AUTHORIZATIONS, {"dataset": dataset.pk}).json()["results"]
    assert [a["id"] for a in owner_sees] == [new["id"], first.pk]  # history kept
    source = console_port().sources(project.pk)[dataset.pk]
    assert {c.name: c.role for c in source.columns}["age"] == "label"


def test_a_new_version_keeps_the_other_fields_of_the_old_one(api_alice, dataset, project):
    first = grant(dataset, project)
    api_alice.post(versions_url(first.pk), {"column_roles": {"id": "id"}}, format="json")
    new = Authorization.objects.get(supersedes=first)
    assert (new.dataset_id, new.project_id) == (first.dataset_id, first.project_id)
    assert Authorization.objects.filter(revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("roles", "code", "text"),
    [
        ({"nope": "id"}, "unknown_column", "has no column 'nope'"),
        ({"id": "owner"}, "invalid_role", "Unknown role 'owner' for 'id'"),
        ({}, "unchanged", "already the roles"),
        ("id=id", "not_a_dict", "Expected a dictionary"),
    ],
)
def test_it_refuses_bad_roles_and_changes_nothing(api_alice, dataset, project, roles, code, text):
    first = grant(dataset, project)
    response = api_alice.post(versions_url(first.pk), {"column_roles": roles}, format="json")
    body = assert_error(response, 400, code)
    assert text in body["detail"]
    assert Authorization.objects.get().pk == first.pk
    assert not AuditEvent.objects.filter(action="authorize").exists()


def test_it_refuses_to_edit_a_replaced_or_revoked_version(api_alice, dataset, project):
    first = grant(dataset, project)
    roles = {"column_roles": {"id": "id"}}
    second = api_alice.post(versions_url(first.pk), roles, format="json").json()
    body = assert_error(api_alice.post(versions_url(first.pk), roles, format="json"), 400)
    assert body["code"] == "not_active"
    assert f"replaced by version 2 (#{second['id']})" in body["detail"]
    body = assert_error(api_alice.post(f"{AUTHORIZATIONS}{first.pk}/revoke/"), 400, "superseded")
    api_alice.post(f"{AUTHORIZATIONS}{second['id']}/revoke/")
    body = assert_error(api_alice.post(versions_url(second["id"]), roles, format="json"), 400)
    assert "is revoked; authorise the dataset again" in body["detail"]


def test_it_refuses_to_edit_in_an_archived_project(api_alice, dataset, project):
    first = grant(dataset, project)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ARCHIVED)
    response = api_alice.post(versions_url(first.pk), {"column_roles": {"id": "id"}}, format="json")
    assert "archived" in assert_error(response, 409, "project_archived")["detail"]
    assert Authorization.objects.get().is_active


def test_only_the_owner_node_edits_roles(api_bob, api_carol, api_anon, dataset, project):
    first = grant(dataset, project)
    body = {"column_roles": {"id": "id"}}
    assert_error(api_bob.post(versions_url(first.pk), body, format="json"), 404, "not_found")
    assert_error(api_carol.post(versions_url(first.pk), body, format="json"), 404, "not_found")
    assert_error(api_anon.post(versions_url(first.pk), body, format="json"), 401)
    assert Authorization.objects.get().is_active
