"""Service layer: the rules the pages and the API share, audited, with clear errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from console.accounts.models import ApiToken
from console.accounts.services import create_token
from console.accounts.tokens import digest_of
from console.audit.models import AuditEvent
from console.datasets.models import Authorization, Dataset
from console.nodes.models import Node
from console.nodes.services import register_node, update_node
from console.projects.models import Project
from console.projects.services import (
    add_member,
    create_project,
    remove_member,
    set_archived,
    update_project,
)
from workflows.actors import Actor


def actor_for(user) -> Actor:
    """The actor of a request by `user` (from the test client's address)."""
    request = RequestFactory().post("/")
    request.user = user
    return Actor.from_request(request)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


def make_dataset(node: Node, name: str = "customers") -> Dataset:
    return Dataset.objects.create(
        node=node,
        name=name,
        original_filename=f"{name}.csv",
        relative_path=f"datasets/{name}.csv",
        size_bytes=10,
        sha256="0" * 64,
        encoding="utf-8",
        row_count=2,
        columns=[{"name": "id", "type": "int", "nulls": 0}],
    )


def test_it_creates_a_project_owned_by_the_users_node(alice_user):
    project = create_project(actor_for(alice_user), "  Credit  ", "desc")
    assert project.name == "Credit"
    assert project.owner_node == alice_user.node
    assert project.has_member(alice_user.node)
    assert last_event("project_create").target_id == str(project.pk)


def test_it_refuses_projects_from_users_without_a_node(platform_admin):
    with pytest.raises(ValidationError, match="belong to a node"):
        create_project(actor_for(platform_admin), "Orphan")
    assert not Project.objects.exists()


def test_it_refuses_an_empty_or_too_long_name(alice_user):
    with pytest.raises(ValidationError, match="needs a name"):
        create_project(actor_for(alice_user), "   ")
    with pytest.raises(ValidationError, match="at most 120"):
        create_project(actor_for(alice_user), "x" * 121)


def test_it_updates_name_and_description_with_audit(project, alice_user):
    update_project(actor_for(alice_user), project, name="Renamed", description="New")
    project.refresh_from_db()
    assert (project.name, project.description) == ("Renamed", "New")
    assert last_event("project_update").detail == {"fields": ["name", "description"]}


def test_it_refuses_updates_from_a_member_node(project, bob_user):
    with pytest.raises(PermissionDenied, match="owner node 'alice'"):
        update_project(actor_for(bob_user), project, name="Hijacked")


def test_it_refuses_unknown_fields_and_statuses(project, alice_user):
    with pytest.raises(ValidationError, match="Cannot change owner_node"):
        update_project(actor_for(alice_user), project, owner_node=None)
    with pytest.raises(ValidationError, match="Unknown status 'gone'"):
        update_project(actor_for(alice_user), project, status="gone")


def test_it_keeps_an_archived_project_read_only(project, alice_user, carol):
    actor = actor_for(alice_user)
    set_archived(actor, project, True)
    for change in (
        lambda: update_project(actor, project, name="Nope"),
        lambda: add_member(actor, project, carol),
        lambda: remove_member(actor, project, "bob"),
    ):
        with pytest.raises(ValidationError) as caught:
            change()
        assert caught.value.code == "project_archived"
    update_project(actor, project, status="active")
    assert not project.is_archived


def test_it_adds_a_member_by_name_with_audit(project, alice_user, carol):
    add_member(actor_for(alice_user), project, "carol")
    assert project.has_member(carol)
    assert last_event("member_add").detail == {"member": "carol"}


def test_it_refuses_unknown_duplicate_and_disabled_members(project, alice_user, carol):
    actor = actor_for(alice_user)
    with pytest.raises(ValidationError, match="Unknown node 'dave'"):
        add_member(actor, project, "dave")
    with pytest.raises(ValidationError, match="already a member"):
        add_member(actor, project, "bob")
    carol.status = Node.Status.DISABLED
    carol.save()
    with pytest.raises(ValidationError, match="disabled"):
        add_member(actor, project, carol)


def test_it_removes_a_member_and_revokes_its_authorisations(project, alice_user, bob, bob_user):
    dataset = make_dataset(bob)
    authorization = Authorization.objects.create(
        dataset=dataset, project=project, column_roles={"id": "id"}, granted_by=bob_user
    )
    remove_member(actor_for(alice_user), project, bob)
    authorization.refresh_from_db()
    assert not project.has_member(bob)
    assert authorization.revoked_at is not None
    assert last_event("revoke").target_id == str(authorization.pk)
    assert last_event("member_remove").detail == {"member": "bob"}


def test_it_refuses_to_remove_the_owner_or_a_non_member(project, alice_user, carol):
    actor = actor_for(alice_user)
    with pytest.raises(ValidationError, match="owns the project"):
        remove_member(actor, project, "alice")
    with pytest.raises(ValidationError, match="not a member"):
        remove_member(actor, project, carol)


def test_it_registers_a_node_with_storage(platform_admin):
    node = register_node(actor_for(platform_admin), name="dave", institution="Dave Lab")
    assert node.display_name == "dave"
    assert (node.storage_root / "datasets").is_dir()
    assert last_event("node_register").target_id == str(node.pk)


def test_it_refuses_node_registration_by_non_admins(alice_user):
    with pytest.raises(PermissionDenied, match="platform admins"):
        register_node(actor_for(alice_user), name="dave")


def test_it_validates_nodes(platform_admin, alice):
    actor = actor_for(platform_admin)
    with pytest.raises(ValidationError, match="address"):
        register_node(actor, name="remote1", kind="remote")
    with pytest.raises(ValidationError, match="already exists"):
        register_node(actor, name="alice")
    with pytest.raises(ValidationError, match="Cannot set name"):
        update_node(actor, alice, name="eve")


def test_it_issues_tokens_stored_as_digests(alice_user):
    first, first_key = create_token(actor_for(alice_user), alice_user, "one", "read", 30)
    second, second_key = create_token(actor_for(alice_user), alice_user, "two", "run", 30)
    assert first_key != second_key
    # Issuing a second token does not invalidate the first; neither key is stored.
    assert ApiToken.objects.filter(user=alice_user).count() == 2
    assert ApiToken.objects.get(digest=digest_of(second_key)).scope == "run"
    assert not ApiToken.objects.filter(digest=second_key).exists()
    event = last_event("token_create")
    assert event.detail["via"] == "api"
    assert event.detail["scope"] == "run"
    assert second_key not in event.target_repr + str(event.detail)


def test_it_refuses_tokens_for_other_users_unless_platform_admin(
    alice_user, bob_user, platform_admin
):
    with pytest.raises(PermissionDenied):
        create_token(actor_for(alice_user), bob_user)
    assert create_token(actor_for(platform_admin), bob_user)
