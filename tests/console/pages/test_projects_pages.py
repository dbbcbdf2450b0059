"""Project pages as the owner, a member, an outsider and anonymous."""

from __future__ import annotations

import pytest

from console.projects.models import Project, ProjectMember


def test_it_lists_projects_of_my_node(alice_client, bob_client, project):
    assert project.name in alice_client.get("/projects/").content.decode()
    assert project.name in bob_client.get("/projects/").content.decode()


def test_it_hides_projects_from_outsiders(carol_client, project):
    html = carol_client.get("/projects/").content.decode()
    assert project.name not in html
    assert "No projects yet" in html


@pytest.mark.parametrize("url", ["/projects/", "/projects/new/", "/projects/1/"])
def test_it_redirects_anonymous_to_login(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_creates_a_project_owned_by_my_node(alice_client, alice):
    response = alice_client.post("/projects/new/", {"name": "Fraud", "description": "x"})
    project = Project.objects.get(name="Fraud")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.owner_node == alice
    assert project.has_member(alice)


def test_it_shows_an_inline_error_for_a_blank_name(alice_client):
    response = alice_client.post("/projects/new/", {"name": "   ", "description": ""})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Project.objects.exists()


def test_it_shows_members_and_owner_controls(alice_client, project, carol):
    html = alice_client.get(f"/projects/{project.pk}/").content.decode()
    assert "Bob Shop" in html
    assert f'action="/projects/{project.pk}/members/"' in html
    assert f'<option value="{carol.pk}">Carol</option>' in html
    assert "Archive</button>" in html


def test_it_shows_members_the_project_without_owner_controls(bob_client, project):
    response = bob_client.get(f"/projects/{project.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Alice Bank" in html
    assert "/members/" not in html
    assert "/archive/" not in html


def test_it_answers_404_to_outsiders(carol_client, project):
    assert carol_client.get(f"/projects/{project.pk}/").status_code == 404


def test_it_answers_404_for_an_unknown_project(alice_client):
    assert alice_client.get("/projects/999999/").status_code == 404


def test_it_adds_a_member(alice_client, project, carol):
    response = alice_client.post(f"/projects/{project.pk}/members/", {"node": carol.pk})
    assert response.status_code == 302
    assert project.has_member(carol)


def test_it_reports_an_invalid_member_choice(alice_client, project, bob):
    response = alice_client.post(f"/projects/{project.pk}/members/", {"node": bob.pk}, follow=True)
    assert "Choose one of the nodes that are not members yet." in response.content.decode()
    assert ProjectMember.objects.filter(project=project, node=bob).count() == 1


def test_it_lets_only_the_owner_add_members(bob_client, carol_client, project, carol):
    assert (
        bob_client.post(f"/projects/{project.pk}/members/", {"node": carol.pk}).status_code == 404
    )
    assert (
        carol_client.post(f"/projects/{project.pk}/members/", {"node": carol.pk}).status_code == 404
    )
    assert not project.has_member(carol)


def test_it_removes_a_member_and_its_authorisations(alice_client, project, bob):
    from tests.console.pages.conftest import authorize, make_dataset

    shared = authorize(make_dataset(bob, "clicks", ["uid", "clicks"], [["1", "2"]]), project)
    response = alice_client.post(f"/projects/{project.pk}/members/{bob.pk}/remove/")
    assert response.status_code == 302
    assert not project.has_member(bob)
    shared.refresh_from_db()
    assert shared.revoked_at is not None


def test_it_lets_only_the_owner_remove_members(bob_client, project, bob):
    assert bob_client.post(f"/projects/{project.pk}/members/{bob.pk}/remove/").status_code == 404
    assert project.has_member(bob)


def test_it_archives_and_shows_a_read_only_banner(alice_client, project):
    alice_client.post(f"/projects/{project.pk}/archive/", {"archived": "1"})
    project.refresh_from_db()
    assert project.is_archived
    html = alice_client.get(f"/projects/{project.pk}/").content.decode()
    assert "archived and read-only" in html
    assert "/members/" not in html
    assert "Unarchive</button>" in html


def test_it_shows_members_the_archived_banner(bob_client, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    html = bob_client.get(f"/projects/{project.pk}/").content.decode()
    assert "archived and read-only" in html
    assert "Unarchive" not in html


def test_it_refuses_member_changes_while_archived(alice_client, project, carol):
    project.status = Project.Status.ARCHIVED
    project.save()
    response = alice_client.post(
        f"/projects/{project.pk}/members/", {"node": carol.pk}, follow=True
    )
    assert "archived" in response.content.decode()
    assert not project.has_member(carol)


def test_it_unarchives(alice_client, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    alice_client.post(f"/projects/{project.pk}/archive/", {"archived": "0"})
    project.refresh_from_db()
    assert not project.is_archived


def test_it_lets_only_the_owner_archive(bob_client, project):
    assert bob_client.post(f"/projects/{project.pk}/archive/", {"archived": "1"}).status_code == 404
    project.refresh_from_db()
    assert not project.is_archived


def test_it_requires_post_for_owner_actions(alice_client, project):
    assert alice_client.get(f"/projects/{project.pk}/archive/").status_code == 405


def test_it_lists_authorised_datasets_with_roles(bob_client, project, authorization, dataset):
    html = bob_client.get(f"/projects/{project.pk}/").content.decode()
    assert dataset.name in html
    assert '<span class="role-column">年龄</span> <span class="badge role-feature">' in html
    assert '<span class="role-column">customer_id</span> <span class="badge role-id">' in html


def test_it_hides_revoked_authorisations(bob_client, project, authorization, dataset):
    from django.utils import timezone

    authorization.revoked_at = timezone.now()
    authorization.save()
    html = bob_client.get(f"/projects/{project.pk}/").content.decode()
    assert f"/datasets/{dataset.pk}/" not in html


def test_it_counts_all_members_and_datasets_for_every_member(bob_client, project, authorization):
    for url in ("/projects/", "/"):
        page = bob_client.get(url).content.decode()
        row = page.split(f'href="/projects/{project.pk}/"', 1)[1].split("</tr>", 1)[0]
        assert '<td class="num">2</td>' in row, url
        assert '<td class="num">1</td>' in row, url


def test_it_edits_the_project_details(alice_client, project):
    url = f"/projects/{project.pk}/edit/"
    assert 'value="Joint credit model"' in alice_client.get(url).content.decode()
    response = alice_client.post(url, {"name": "Credit model v2", "description": "new"})
    assert response["Location"] == f"/projects/{project.pk}/"
    project.refresh_from_db()
    assert (project.name, project.description) == ("Credit model v2", "new")


def test_it_shows_edit_errors_inline(alice_client, project):
    response = alice_client.post(f"/projects/{project.pk}/edit/", {"name": "", "description": ""})
    assert 'class="field-error"' in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Joint credit model"


def test_it_lets_only_the_owner_edit(bob_client, carol_client, anon_client, project):
    url = f"/projects/{project.pk}/edit/"
    assert bob_client.get(url).status_code == 404
    assert carol_client.post(url, {"name": "x"}).status_code == 404
    assert anon_client.get(url)["Location"].startswith("/accounts/login/")


def test_it_refuses_to_edit_an_archived_project(alice_client, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    response = alice_client.post(f"/projects/{project.pk}/edit/", {"name": "x"})
    assert response["Location"] == f"/projects/{project.pk}/"
    project.refresh_from_db()
    assert project.name == "Joint credit model"
