"""Hostile column names render as text everywhere; every form needs its CSRF token."""

from __future__ import annotations

import html as html_lib

import pytest
from django.test import Client

from tests.console.conftest import PASSWORD
from tests.console.pages.conftest import XSS_NAMES, authorize

RAW_TAGS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def _assert_escaped(page: str) -> None:
    for raw in RAW_TAGS:
        assert raw not in page, f"raw markup {raw!r} reached the page"
    for name in XSS_NAMES:
        assert html_lib.escape(name) in page, f"{name!r} is not shown as escaped text"


def test_it_escapes_hostile_column_names_for_the_owner(alice_client, xss_dataset, project):
    authorize(xss_dataset, project)
    for url in (f"/datasets/{xss_dataset.pk}/", f"/datasets/{xss_dataset.pk}/preview/"):
        _assert_escaped(alice_client.get(url).content.decode())


def test_it_escapes_hostile_column_names_for_members(bob_client, xss_dataset, project):
    authorize(xss_dataset, project)
    for url in (f"/datasets/{xss_dataset.pk}/", f"/projects/{project.pk}/"):
        _assert_escaped(bob_client.get(url).content.decode())


def test_it_escapes_hostile_names_in_the_authorise_form(alice_client, xss_dataset, project):
    page = alice_client.get(f"/datasets/{xss_dataset.pk}/").content.decode()
    _assert_escaped(page)
    # Role fields are named by position, never by the column name.
    assert 'name="role_1"' in page
    assert 'name="<script>' not in page


def test_it_escapes_hostile_dataset_and_project_names(alice_client, alice, project):
    from tests.console.pages.conftest import make_dataset

    hostile = make_dataset(alice, "x", ["id"], [["1"]])
    hostile.name, hostile.description = XSS_NAMES
    hostile.save()
    project.name = XSS_NAMES[1]
    project.save()
    for url in ("/", "/datasets/", "/projects/", f"/projects/{project.pk}/"):
        page = alice_client.get(url).content.decode()
        for raw in RAW_TAGS:
            assert raw not in page, f"raw markup {raw!r} on {url}"


@pytest.fixture
def csrf_client(alice_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_user)
    return client


def _post_urls(dataset, project, authorization, carol) -> list[tuple[str, dict]]:
    return [
        ("/projects/new/", {"name": "p"}),
        (f"/projects/{project.pk}/edit/", {"name": "p"}),
        (f"/projects/{project.pk}/members/", {"node": carol.pk}),
        (f"/projects/{project.pk}/members/{project.memberships.last().node_id}/remove/", {}),
        (f"/projects/{project.pk}/archive/", {"archived": "1"}),
        (f"/datasets/{dataset.pk}/authorize/", {"project": project.pk}),
        (f"/datasets/authorizations/{authorization.pk}/revoke/", {}),
        (f"/datasets/{dataset.pk}/delete/", {}),
        ("/datasets/upload/", {"name": "n"}),
        ("/accounts/tokens/", {}),
        ("/accounts/logout/", {}),
        ("/nodes/", {"name": "n"}),
    ]


def test_it_refuses_every_form_post_without_csrf_token(
    csrf_client, dataset, project, authorization, carol
):
    for url, data in _post_urls(dataset, project, authorization, carol):
        assert csrf_client.post(url, data).status_code == 403, url
    authorization.refresh_from_db()
    assert authorization.revoked_at is None
    assert project.has_member(carol) is False


def test_it_refuses_login_without_csrf_token(alice_user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice_admin", "password": PASSWORD})
    assert response.status_code == 403


def test_it_accepts_a_form_post_with_the_token(csrf_client):
    page = csrf_client.get("/projects/new/")
    token = page.context["csrf_token"]
    response = csrf_client.post(
        "/projects/new/", {"name": "With token", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_it_puts_a_csrf_token_in_every_post_form(alice_client, dataset, project, carol):
    for url in ("/", f"/projects/{project.pk}/", f"/datasets/{dataset.pk}/", "/accounts/tokens/"):
        page = alice_client.get(url).content.decode()
        assert page.count('method="post"') == page.count('name="csrfmiddlewaretoken"'), url


def test_it_uses_no_inline_script(alice_client, dataset, project):
    for url in ("/", "/datasets/upload/", f"/datasets/{dataset.pk}/", "/accounts/tokens/"):
        page = alice_client.get(url).content.decode()
        external = page.count('<script type="module" src=') + page.count('<script src="/jsi18n/">')
        assert page.count("<script") == external, url
        assert " onclick=" not in page


def test_it_renders_404_in_the_console_layout(settings, carol_client, dataset):
    settings.DEBUG = False
    response = carol_client.get(f"/datasets/{dataset.pk}/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here you can open" in page
    assert dataset.name not in page


def test_it_explains_a_csrf_failure(csrf_client):
    response = csrf_client.post("/projects/new/", {"name": "p"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_it_has_a_standalone_500_page(db):
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html")
