"""Who is asking, by role: alice's node admin, approver, analyst and viewer; other nodes' admins."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.accounts.models import User
from console.accounts.services import create_token
from tests.console.conftest import make_user
from workflows.actors import Actor

OPERATOR = Actor.system("tests")  # an operator on the server, like the command


@pytest.fixture
def alice_approver(alice) -> User:
    return make_user("alice_approver", alice, role=User.Role.APPROVER)


@pytest.fixture
def alice_viewer(alice) -> User:
    return make_user("alice_viewer", alice, role=User.Role.VIEWER)


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_for(user: User, scope: str = "admin", days: int = 30) -> str:
    return create_token(OPERATOR, user, f"{scope} token", scope, days)[1]
