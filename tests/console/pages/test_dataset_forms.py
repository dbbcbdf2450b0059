"""Upload (without JS), authorise, revoke and delete forms of the dataset pages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from console.datasets.models import Authorization, Dataset
from console.projects.models import Project
from tests.console.pages.conftest import authorize


def _csv(content: str, name: str = "loans.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def test_it_shows_the_upload_form_with_api_and_limit(alice_client):
    html = alice_client.get("/datasets/upload/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'data-api-url="/api/v1/datasets/"' in html
    assert 'data-detail-url="/datasets/0/"' in html
    assert 'src="/static/console/js/upload.js"' in html


def test_it_uploads_without_javascript(alice_client, alice):
    data = {"file": _csv("id,收入\n1,10\n2,\n"), "name": "loans", "description": ""}
    response = alice_client.post("/datasets/upload/", data)
    dataset = Dataset.objects.get(node=alice, name="loans")
    assert response["Location"] == f"/datasets/{dataset.pk}/"
    assert dataset.row_count == 2
    assert dataset.column_names == ["id", "收入"]


def test_it_requires_a_file_and_a_name(alice_client):
    response = alice_client.post("/datasets/upload/", {"name": "", "description": ""})
    assert response.status_code == 200
    assert response.content.decode().count('class="field-error"') == 2
    assert not Dataset.objects.exists()


def test_it_shows_the_services_reason_for_a_bad_csv(alice_client):
    data = {"file": _csv("a,a\n1,2\n"), "name": "dupes", "description": ""}
    html = alice_client.post("/datasets/upload/", data).content.decode()
    assert '<p class="field-error">Duplicate column names in the header:' in html
    assert not Dataset.objects.exists()


def test_it_rejects_a_duplicate_name_inline(alice_client, dataset):
    data = {"file": _csv("id\n1\n"), "name": dataset.name, "description": ""}
    html = alice_client.post("/datasets/upload/", data).content.decode()
    assert "already has a dataset named" in html
    assert Dataset.objects.count() == 1


def test_it_authorises_with_a_role_per_column(alice_client, dataset, project):
    data = {"project": project.pk, "role_0": "id", "role_1": "feature", "role_2": "protected"}
    data["confirm"] = "on"  # no label: confirmed (the confirm step: test_role_pages.py)
    response = alice_client.post(f"/datasets/{dataset.pk}/authorize/", data)
    assert response.status_code == 302
    authorization = Authorization.objects.get(dataset=dataset, project=project)
    assert authorization.column_roles == {
        "customer_id": "id",
        "年龄": "feature",
        "secret": "protected",
    }


def test_it_offers_only_my_nodes_active_unshared_projects(
    alice_client, alice, bob, dataset, project
):
    foreign = Project.objects.create(name="Bob only", owner_node=bob)
    html = alice_client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert f'<option value="{project.pk}">' in html
    assert f'<option value="{foreign.pk}">' not in html
    authorize(dataset, project)
    html = alice_client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert f'<option value="{project.pk}">' not in html


def test_it_rejects_a_bad_role_and_a_foreign_project(alice_client, bob, dataset, project):
    foreign = Project.objects.create(name="Bob only", owner_node=bob)
    data = {"project": foreign.pk, "role_0": "owner", "role_1": "feature", "role_2": "label"}
    response = alice_client.post(f"/datasets/{dataset.pk}/authorize/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose an active project your node is a member of." in html
    assert "Select a valid choice. owner is not one of the available choices." in html
    assert not Authorization.objects.exists()


def test_it_refuses_to_authorise_to_an_archived_project(alice_client, dataset, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    data = {"project": project.pk, "role_0": "id", "role_1": "feature", "role_2": "label"}
    response = alice_client.post(f"/datasets/{dataset.pk}/authorize/", data)
    assert response.status_code == 400
    assert not Authorization.objects.exists()


def test_it_lets_only_the_owner_authorise(
    bob_client, carol_client, dataset, project, authorization
):
    data = {"project": project.pk, "role_0": "id", "role_1": "feature", "role_2": "label"}
    assert bob_client.post(f"/datasets/{dataset.pk}/authorize/", data).status_code == 404
    assert carol_client.post(f"/datasets/{dataset.pk}/authorize/", data).status_code == 404
    assert Authorization.objects.count() == 1


def test_it_revokes(alice_client, dataset, authorization):
    response = alice_client.post(
        f"/datasets/authorizations/{authorization.pk}/revoke/", follow=True
    )
    authorization.refresh_from_db()
    assert authorization.revoked_at is not None
    assert "revoked" in response.content.decode()


def test_it_reports_a_second_revocation(alice_client, dataset, authorization):
    alice_client.post(f"/datasets/authorizations/{authorization.pk}/revoke/")
    url = f"/datasets/authorizations/{authorization.pk}/revoke/"
    response = alice_client.post(url, follow=True)
    assert "already revoked" in response.content.decode()


def test_it_lets_only_the_owner_revoke(bob_client, carol_client, authorization):
    url = f"/datasets/authorizations/{authorization.pk}/revoke/"
    assert bob_client.post(url).status_code == 404
    assert carol_client.post(url).status_code == 404
    assert alice_unrevoked(authorization)


def alice_unrevoked(authorization: Authorization) -> bool:
    authorization.refresh_from_db()
    return authorization.revoked_at is None


def test_it_asks_before_deleting(alice_client, dataset, authorization):
    html = alice_client.get(f"/datasets/{dataset.pk}/delete/").content.decode()
    assert "cannot be undone" in html
    assert "Joint credit model" in html
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_it_deletes_the_dataset_and_its_file(alice_client, dataset):
    path = dataset.path
    response = alice_client.post(f"/datasets/{dataset.pk}/delete/")
    assert response["Location"] == "/datasets/"
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not path.exists()


def test_it_lets_only_the_owner_delete(bob_client, carol_client, dataset, authorization):
    assert bob_client.get(f"/datasets/{dataset.pk}/delete/").status_code == 404
    assert bob_client.post(f"/datasets/{dataset.pk}/delete/").status_code == 404
    assert carol_client.post(f"/datasets/{dataset.pk}/delete/").status_code == 404
    assert dataset.path.exists()
