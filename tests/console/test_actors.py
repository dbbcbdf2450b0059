"""Services act for an Actor: a user (with the request's address), a peer node, the system.

Who may do what is each service's own check; these tests show that the same checks hold for
the actors that have no request (peers, commands), and that the audit log names each actor.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from console.audit.log import Action, record
from console.audit.models import AuditEvent
from console.datasets.access import get_dataset_for_owner
from console.datasets.models import Dataset
from console.nodes.services import register_node
from console.projects.access import get_project_for_user, projects_visible_to
from console.projects.services import add_member, create_project
from workflows.actors import Actor, Kind

pytestmark = pytest.mark.django_db


def _request(user=None, ip="10.1.2.3", agent="pytest-browser/1.0"):
    request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    if user is not None:
        request.user = user
    return request


def test_a_request_actor_carries_the_user_and_the_client_address_into_the_audit(alice_user):
    actor = Actor.from_request(_request(alice_user))
    assert (actor.kind, actor.user, actor.node_id) == (Kind.USER, alice_user, alice_user.node_id)
    assert (actor.ip_address, actor.user_agent) == ("10.1.2.3", "pytest-browser/1.0")
    event = record(actor, Action.PREVIEW)
    assert (event.actor, event.actor_username, event.actor_node) == (
        alice_user,
        "alice_admin",
        alice_user.node,
    )
    assert event.ip_address == "10.1.2.3"


def test_a_request_without_a_signed_in_user_is_an_anonymous_actor(db):
    from django.contrib.auth.models import AnonymousUser

    actor = Actor.from_request(_request(AnonymousUser()))
    assert actor.kind == Kind.ANONYMOUS
    assert not actor.is_authenticated
    assert projects_visible_to(actor).count() == 0
    event = record(actor, Action.LOGIN_FAILED, username="mallory")
    assert (event.actor, event.actor_username, event.ip_address) == (None, "mallory", "10.1.2.3")


def test_the_audit_log_refuses_a_request_in_place_of_an_actor(alice_user):
    with pytest.raises(TypeError, match=r"Actor\.from_request"):
        record(_request(alice_user), Action.PREVIEW)


def test_a_peer_node_sees_the_projects_of_its_node_and_no_others(project, bob, carol):
    assert list(projects_visible_to(Actor.peer(bob))) == [project]
    assert get_project_for_user(Actor.peer(bob), project.pk) == project
    with pytest.raises(Http404):
        get_project_for_user(Actor.peer(carol), project.pk)
    denied = AuditEvent.objects.get(action="access_denied")
    assert (denied.actor, denied.actor_username, denied.actor_node) == (None, "node:carol", carol)


def test_a_peer_node_is_no_platform_admin_and_does_no_user_acts(project, bob, alice):
    peer = Actor.peer(bob)
    assert not peer.is_superuser
    with pytest.raises(PermissionDenied, match="Only platform admins"):
        register_node(peer, name="dave")
    with pytest.raises(PermissionDenied, match="Only a user of this node may create projects"):
        create_project(peer, "From afar")
    with pytest.raises(PermissionDenied, match="peer node:bob is not one"):
        peer.require_user("upload datasets")
    with pytest.raises(PermissionDenied, match="owner node 'alice'"):
        add_member(peer, project, "carol")  # bob is a member, not the project's owner


def test_a_peer_node_never_reaches_another_nodes_dataset_as_its_owner(alice_user, bob, project):
    dataset = Dataset.objects.create(
        node=alice_user.node,
        name="credit",
        original_filename="credit.csv",
        relative_path="datasets/credit.csv",
        size_bytes=0,
        sha256="0" * 64,
        encoding="utf-8",
        row_count=0,
        columns=[],
    )
    with pytest.raises(Http404):
        get_dataset_for_owner(Actor.peer(bob), dataset.pk)


def test_the_system_actor_acts_as_a_platform_admin_and_is_audited_by_name(db, settings, tmp_path):
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    operator = Actor.system("manage.py")
    node = register_node(operator, name="dave", institution="Dave Lab")
    event = AuditEvent.objects.get(action="node_register")
    assert (event.actor, event.actor_username, event.node) == (None, "manage.py", node)
    assert event.ip_address is None


def test_a_command_acting_for_a_user_is_audited_as_that_user(alice_user):
    project = create_project(Actor.for_user(alice_user), "Scripted")
    event = AuditEvent.objects.get(action="project_create")
    assert (event.actor, event.node, event.ip_address) == (alice_user, project.owner_node, None)
