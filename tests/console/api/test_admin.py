"""Django admin: every model registered, open to platform admins only, paths never shown."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from console.accounts.models import User
from console.audit.models import AuditEvent
from console.datasets.models import Authorization, Dataset
from console.nodes.models import Node
from console.projects.models import Project
from tests.console.api.helpers import authorize, make_dataset


@pytest.fixture
def admin_client(platform_admin) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


def test_every_console_model_is_registered():
    for model in (User, Node, Project, Dataset, Authorization, AuditEvent):
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/nodes/node/",
        "/admin/projects/project/",
        "/admin/datasets/dataset/",
        "/admin/datasets/authorization/",
        "/admin/audit/auditevent/",
    ],
)
def test_platform_admins_open_every_page(admin_client, project, url):
    assert admin_client.get(url).status_code == 200


def test_change_pages_open(admin_client, project, bob, alice_user):
    dataset = make_dataset(bob)
    authorization = authorize(dataset, project)
    event = AuditEvent.objects.create(action="upload", actor_username="x")
    for url in (
        f"/admin/accounts/user/{alice_user.pk}/change/",
        f"/admin/nodes/node/{bob.pk}/change/",
        f"/admin/projects/project/{project.pk}/change/",
        f"/admin/datasets/dataset/{dataset.pk}/change/",
        f"/admin/datasets/authorization/{authorization.pk}/change/",
        f"/admin/audit/auditevent/{event.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["node_admin", "staff"])
def test_it_refuses_everyone_else(alice_user, role):
    if role == "staff":
        alice_user.is_staff = True
        alice_user.save()
    client = Client()
    client.force_login(alice_user)
    response = client.get("/admin/nodes/node/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_never_shows_dataset_storage_paths(admin_client, bob):
    dataset = make_dataset(bob)
    html = admin_client.get(f"/admin/datasets/dataset/{dataset.pk}/change/").content.decode()
    assert "customers" in html
    assert dataset.relative_path not in html
    assert str(bob.storage_root) not in html


def test_datasets_and_audit_are_read_only(admin_client, bob):
    dataset = make_dataset(bob)
    event = AuditEvent.objects.create(action="upload", actor_username="x")
    assert admin_client.get("/admin/datasets/dataset/add/").status_code == 403
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    admin_client.post(f"/admin/datasets/dataset/{dataset.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_a_node_added_in_the_admin_gets_storage_and_an_audit_event(admin_client):
    response = admin_client.post(
        "/admin/nodes/node/add/",
        {"name": "dave", "display_name": "Dave", "kind": "embedded", "status": "online"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    node = Node.objects.get(name="dave")
    assert (node.storage_root / "datasets").is_dir()
    assert AuditEvent.objects.filter(action="node_register", target_id=str(node.pk)).exists()


def test_members_are_edited_inline(admin_client, project):
    html = admin_client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert 'name="memberships-TOTAL_FORMS" value="2"' in html
