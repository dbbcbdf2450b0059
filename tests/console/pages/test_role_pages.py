"""The authorisation pages: roles pre-filled from suggestions, a confirm step for roles without
an ID column or a label, roles edited as a new version, and a confirm step before revoking."""

from __future__ import annotations

import re

import pytest

from console.audit.models import AuditEvent
from console.datasets.models import Authorization
from tests.console.pages.conftest import make_dataset
from workflows.models import Pipeline


def roles_url(authorization: Authorization) -> str:
    return f"/datasets/authorizations/{authorization.pk}/roles/"


def revoke_url(authorization: Authorization) -> str:
    return f"/datasets/authorizations/{authorization.pk}/revoke/"


def selected(html: str, field: str) -> str:
    """The selected option of select `field` in `html`."""
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected>', select).group(1)


@pytest.fixture
def labelled(alice):
    rows = [[f"c{i}", str(20 + i), str(i % 2)] for i in range(6)]
    dataset = make_dataset(alice, "labelled", ["customer_id", "age", "default_flag"], rows)
    for column, kind in zip(dataset.columns, ["str", "int", "int"], strict=True):
        column["type"] = kind  # as the upload profile says
    dataset.save(update_fields=["columns"])
    return dataset


# --- Suggestions and the confirm step -------------------------------------------------------


def test_the_form_is_prefilled_with_suggested_roles_and_says_why(alice_client, labelled, project):
    html = alice_client.get(f"/datasets/{labelled.pk}/").content.decode()
    assert [selected(html, f"role_{i}") for i in range(3)] == ["id", "feature", "label"]
    assert "named like an ID and every value is unique" in html
    assert "named like a target and every value is 0/1" in html
    assert "check them before you confirm" in html
    assert not Authorization.objects.exists()  # suggested, not applied


def test_roles_with_an_id_and_a_label_are_authorised_at_once(alice_client, labelled, project):
    data = {"project": project.pk, "role_0": "id", "role_1": "feature", "role_2": "label"}
    response = alice_client.post(f"/datasets/{labelled.pk}/authorize/", data)
    assert response.status_code == 302
    assert Authorization.objects.get().column_roles["default_flag"] == "label"


def test_roles_without_an_id_or_label_ask_for_confirmation(alice_client, labelled, project):
    data = {"project": project.pk, "role_0": "feature", "role_1": "feature", "role_2": "feature"}
    response = alice_client.post(f"/datasets/{labelled.pk}/authorize/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="no_id_column"' in html
    assert 'data-code="no_label"' in html
    assert "Authorise anyway" in html
    assert selected(html, "role_0") == "feature"  # the owner's choice is kept, not replaced
    assert not Authorization.objects.exists()
    response = alice_client.post(f"/datasets/{labelled.pk}/authorize/", {**data, "confirm": "on"})
    assert response.status_code == 302
    assert set(Authorization.objects.get().column_roles.values()) == {"feature"}


def test_a_bad_form_is_refused_before_any_confirm_step(alice_client, labelled, project):
    data = {"project": project.pk, "role_0": "owner", "role_1": "feature", "role_2": "feature"}
    response = alice_client.post(f"/datasets/{labelled.pk}/authorize/", data)
    assert response.status_code == 400
    assert "Authorise anyway" not in response.content.decode()


# --- Editing roles --------------------------------------------------------------------------


@pytest.fixture
def granted(labelled, project) -> Authorization:
    roles = {"customer_id": "id", "age": "feature", "default_flag": "label"}
    return Authorization.objects.create(dataset=labelled, project=project, column_roles=roles)


def test_the_roles_page_starts_from_the_current_roles(alice_client, granted):
    html = alice_client.get(roles_url(granted)).content.decode()
    assert [selected(html, f"role_{i}") for i in range(3)] == ["id", "feature", "label"]
    assert "Saving makes version 2 of this authorisation" in html


def test_editing_roles_makes_a_new_version_and_keeps_the_old(alice_client, granted, labelled):
    data = {"role_0": "id", "role_1": "protected", "role_2": "label"}
    response = alice_client.post(roles_url(granted), data, follow=True)
    html = response.content.decode()
    assert "version 2 replaces version 1" in html
    new = Authorization.objects.get(revoked_at__isnull=True)
    assert (new.version, new.supersedes_id) == (2, granted.pk)
    assert new.column_roles["age"] == "protected"
    assert "Replaced by version 2" in html
    assert "Superseded" in html
    assert AuditEvent.objects.get(action="authorize").detail["supersedes"] == granted.pk


def test_editing_roles_away_from_the_label_asks_for_confirmation(alice_client, granted):
    data = {"role_0": "id", "role_1": "feature", "role_2": "feature"}
    response = alice_client.post(roles_url(granted), data)
    assert response.status_code == 200
    assert 'data-code="no_label"' in response.content.decode()
    assert Authorization.objects.count() == 1
    alice_client.post(roles_url(granted), {**data, "confirm": "on"})
    assert Authorization.objects.count() == 2


def test_unchanged_roles_are_refused_with_the_reason(alice_client, granted):
    data = {"role_0": "id", "role_1": "feature", "role_2": "label"}
    response = alice_client.post(roles_url(granted), data)
    assert response.status_code == 400
    assert "already the roles of this authorisation" in response.content.decode()
    assert Authorization.objects.count() == 1


def test_a_replaced_version_cannot_be_edited_again(alice_client, granted):
    alice_client.post(roles_url(granted), {"role_0": "id", "role_1": "label", "role_2": "label"})
    response = alice_client.get(roles_url(granted), follow=True)
    assert "was replaced by version 2" in response.content.decode()


def test_only_the_owner_edits_roles(bob_client, carol_client, anon_client, granted):
    data = {"role_0": "feature", "role_1": "feature", "role_2": "feature", "confirm": "on"}
    for client in (bob_client, carol_client):  # a member, an outsider
        assert client.get(roles_url(granted)).status_code == 404
        assert client.post(roles_url(granted), data).status_code == 404
    assert anon_client.get(roles_url(granted)).status_code == 302  # to the login page
    assert Authorization.objects.count() == 1


# --- Revoking -------------------------------------------------------------------------------


def test_revoking_asks_first_and_names_the_pipelines_that_read_it(
    alice_client, alice_user, granted, project
):
    reads = {"id": "read", "component": "read/dataset", "params": {"dataset": granted.dataset_id}}
    Pipeline.objects.create(project=project, name="Scorecard", graph={"nodes": [reads]})
    Pipeline.objects.create(project=project, name="Unrelated", graph={"nodes": []})
    html = alice_client.get(revoke_url(granted)).content.decode()
    assert "Revoke authorisation" in html
    assert "Scorecard" in html
    assert "Unrelated" not in html
    assert Authorization.objects.get().is_active  # asking changed nothing
    alice_client.post(revoke_url(granted))
    assert not Authorization.objects.get().is_active


def test_only_the_owner_sees_the_revoke_step(bob_client, carol_client, granted):
    assert bob_client.get(revoke_url(granted)).status_code == 404
    assert carol_client.get(revoke_url(granted)).status_code == 404


def test_the_revoke_step_of_a_revoked_authorisation_says_so(alice_client, granted):
    alice_client.post(revoke_url(granted))
    response = alice_client.get(revoke_url(granted), follow=True)
    assert "is revoked; authorise the dataset again" in response.content.decode()


def test_roles_of_an_archived_project_are_not_edited(alice_client, granted, project):
    project.status = project.Status.ARCHIVED
    project.save()
    data = {"role_0": "id", "role_1": "protected", "role_2": "label"}
    response = alice_client.post(roles_url(granted), data)
    assert response.status_code == 400
    assert "is archived and read-only" in response.content.decode()
    assert Authorization.objects.count() == 1
