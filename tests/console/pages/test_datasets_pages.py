"""Dataset list, detail and preview as the owner, a member, an outsider and anonymous."""

from __future__ import annotations

import pytest

from console.audit.models import AuditEvent
from tests.console.pages.conftest import ROW_MARKER, authorize, make_dataset


@pytest.mark.parametrize(
    "url", ["/datasets/", "/datasets/upload/", "/datasets/1/", "/datasets/1/preview/"]
)
def test_it_redirects_anonymous_to_login(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lists_my_datasets_and_shared_ones_separately(bob_client, bob, dataset, authorization):
    make_dataset(bob, "clicks", ["uid", "clicks"], [["1", "2"]])
    html = bob_client.get("/datasets/").content.decode()
    mine, shared = html.split('id="shared"', 1)
    assert "clicks" in mine.split('id="mine"', 1)[1]
    assert dataset.name not in mine
    assert dataset.name in shared
    assert "<td>Alice</td>" in shared
    assert "Joint credit model" in shared


def test_it_does_not_list_unshared_datasets(bob_client, carol_client, dataset, project):
    assert dataset.name not in bob_client.get("/datasets/").content.decode()
    assert dataset.name not in carol_client.get("/datasets/").content.decode()


def test_it_tells_an_empty_node_to_upload(carol_client):
    html = carol_client.get("/datasets/").content.decode()
    assert "Your node has no datasets yet" in html
    assert 'href="/datasets/upload/"' in html


def test_it_shows_the_owner_schema_authorisations_and_actions(alice_client, dataset, authorization):
    html = alice_client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert '<td class="column-name">年龄</td>' in html
    assert f'href="/datasets/{dataset.pk}/preview/"' in html
    assert f'href="/datasets/{dataset.pk}/delete/"' in html
    assert f'href="/datasets/authorizations/{authorization.pk}/revoke/"' in html  # confirm step
    assert "customers.csv" in html


def test_it_shows_a_member_schema_and_roles_only(bob_client, dataset, authorization):
    response = bob_client.get(f"/datasets/{dataset.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="column-name">年龄</td>' in html
    assert '<span class="badge role-id">' in html
    for hidden in ("/preview/", "/delete/", "/revoke/", "/authorize/", "customers.csv"):
        assert hidden not in html
    assert ROW_MARKER not in html


def test_it_never_shows_storage_paths(alice_client, bob_client, dataset, authorization):
    for client in (alice_client, bob_client):
        html = client.get(f"/datasets/{dataset.pk}/").content.decode()
        assert dataset.relative_path not in html
        assert str(dataset.node.storage_root) not in html


def _alice_carol_project(alice, carol):
    from console.projects.models import Project, ProjectMember

    other = Project.objects.create(name="Alice x Carol secret", owner_node=alice)
    ProjectMember.objects.create(project=other, node=alice)
    ProjectMember.objects.create(project=other, node=carol)
    return other


def test_it_answers_404_to_members_of_other_projects(bob_client, alice, carol, dataset):
    authorize(dataset, _alice_carol_project(alice, carol))
    assert bob_client.get(f"/datasets/{dataset.pk}/").status_code == 404


def test_it_shows_members_only_their_own_projects(bob_client, alice, carol, dataset, authorization):
    authorize(dataset, _alice_carol_project(alice, carol))
    html = bob_client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "Joint credit model" in html
    assert "Alice x Carol secret" not in html


def test_it_answers_404_to_outsiders(carol_client, dataset, authorization):
    assert carol_client.get(f"/datasets/{dataset.pk}/").status_code == 404
    event = AuditEvent.objects.get(action="access_denied")
    assert event.actor_username == "carol_admin"


def test_it_answers_404_to_a_member_after_revocation(bob_client, dataset, authorization):
    from django.utils import timezone

    authorization.revoked_at = timezone.now()
    authorization.save()
    assert bob_client.get(f"/datasets/{dataset.pk}/").status_code == 404


def test_it_previews_rows_for_the_owner_node(alice_client, alice_member_user, client, dataset):
    response = alice_client.get(f"/datasets/{dataset.pk}/preview/")
    assert response.status_code == 200
    assert f"{ROW_MARKER}-4" in response.content.decode()
    client.force_login(alice_member_user)
    assert f"{ROW_MARKER}-0" in client.get(f"/datasets/{dataset.pk}/preview/").content.decode()


def test_it_audits_each_preview(alice_client, dataset):
    alice_client.get(f"/datasets/{dataset.pk}/preview/")
    assert AuditEvent.objects.filter(action="preview", target_id=str(dataset.pk)).count() == 1


def test_it_caps_the_preview_at_100_rows(alice_client, alice):
    rows = [[str(i), f"v{i}"] for i in range(150)]
    big = make_dataset(alice, "big", ["n", "v"], rows)
    html = alice_client.get(f"/datasets/{big.pk}/preview/").content.decode()
    assert "<td>v99</td>" in html
    assert "<td>v100</td>" not in html
    assert "First 100 of 150 rows" in html


@pytest.mark.parametrize("who", ["bob_client", "carol_client"])
def test_it_never_previews_rows_to_other_nodes(request, who, dataset, authorization):
    client = request.getfixturevalue(who)
    response = client.get(f"/datasets/{dataset.pk}/preview/")
    assert response.status_code == 404
    assert ROW_MARKER not in response.content.decode()


def test_it_answers_404_for_unknown_datasets(alice_client):
    assert alice_client.get("/datasets/424242/").status_code == 404
    assert alice_client.get("/datasets/424242/preview/").status_code == 404


def test_it_explains_a_missing_file_instead_of_failing(alice_client, dataset):
    dataset.path.unlink()
    response = alice_client.get(f"/datasets/{dataset.pk}/preview/", follow=True)
    assert response.redirect_chain[-1][0] == f"/datasets/{dataset.pk}/"
    assert "missing from the node" in response.content.decode()
