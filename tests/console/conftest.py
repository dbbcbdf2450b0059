"""Who is asking: fixtures for the owner, a project member, an outsider and anonymous.

- `alice` owns datasets and the project; `bob` is a member of alice's project;
  `carol` is an outsider (a node with no shared project).
- `*_user` are node admins of their node; `alice_member_user` is a plain member of alice.
- `*_client` are logged-in Django test clients; `api_*` are DRF API clients.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from console.accounts.models import User
from console.nodes.models import Node
from console.projects.models import Project, ProjectMember

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Tests create users all the time; a slow, secure hasher buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_node(name: str, institution: str) -> Node:
    node = Node.objects.create(name=name, display_name=name.title(), institution=institution)
    node.ensure_storage()
    return node


def make_user(username: str, node: Node | None, role: str = User.Role.NODE_ADMIN) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, node=node, role=role)


@pytest.fixture
def alice(db) -> Node:
    return make_node("alice", "Alice Bank")


@pytest.fixture
def bob(db) -> Node:
    return make_node("bob", "Bob Shop")


@pytest.fixture
def carol(db) -> Node:
    return make_node("carol", "Carol Insurance")


@pytest.fixture
def alice_user(alice) -> User:
    return make_user("alice_admin", alice)


@pytest.fixture
def alice_member_user(alice) -> User:
    return make_user("alice_analyst", alice, role=User.Role.ANALYST)


@pytest.fixture
def bob_user(bob) -> User:
    return make_user("bob_admin", bob)


@pytest.fixture
def carol_user(carol) -> User:
    return make_user("carol_admin", carol)


@pytest.fixture
def platform_admin(db) -> User:
    return User.objects.create_superuser(username="root", password=PASSWORD, email="")


@pytest.fixture
def project(alice, bob, alice_user) -> Project:
    """Alice's project with bob as a member (carol is not in it)."""
    project = Project.objects.create(
        name="Joint credit model",
        description="Alice x Bob",
        owner_node=alice,
        created_by=alice_user,
    )
    ProjectMember.objects.create(project=project, node=alice, added_by=alice_user)
    ProjectMember.objects.create(project=project, node=bob, added_by=alice_user)
    return project


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alice_client(alice_user) -> Client:
    return _client_for(alice_user)


@pytest.fixture
def bob_client(bob_user) -> Client:
    return _client_for(bob_user)


@pytest.fixture
def carol_client(carol_user) -> Client:
    return _client_for(carol_user)


@pytest.fixture
def anon_client(db) -> Client:
    return Client()


@pytest.fixture
def api_alice(alice_user) -> APIClient:
    return _api_for(alice_user)


@pytest.fixture
def api_bob(bob_user) -> APIClient:
    return _api_for(bob_user)


@pytest.fixture
def api_carol(carol_user) -> APIClient:
    return _api_for(carol_user)


@pytest.fixture
def api_anon(db) -> APIClient:
    return APIClient()


@pytest.fixture
def api_admin(platform_admin) -> APIClient:
    return _api_for(platform_admin)
