"""/api/v1/audit/: node admins see their node's events, platform admins all, members none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from console.audit.models import AuditEvent
from tests.console.api.helpers import assert_error

URL = "/api/v1/audit/"


@pytest.fixture
def events(alice, bob, alice_user, bob_user):
    AuditEvent.objects.create(
        actor=alice_user,
        actor_username="alice_admin",
        actor_node=alice,
        node=alice,
        action="upload",
    )
    AuditEvent.objects.create(actor=bob_user, actor_node=bob, node=bob, action="preview")
    old = AuditEvent.objects.create(actor_username="ghost", action="login_failed", outcome="failed")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))


def actions(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return sorted(event["action"] for event in response.json()["results"])


def test_it_shows_a_node_admin_their_nodes_events(api_alice, events):
    assert actions(api_alice.get(URL)) == ["upload"]


def test_it_shows_a_platform_admin_everything(api_admin, events):
    assert actions(api_admin.get(URL)) == ["login_failed", "preview", "upload"]


def test_it_refuses_plain_members_with_403(alice_member_user, events):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(alice_member_user)
    assert_error(client.get(URL), 403, "permission_denied")


def test_it_requires_login(api_anon, events):
    assert_error(api_anon.get(URL), 401)


def test_it_filters_by_action_and_outcome(api_admin, events):
    assert actions(api_admin.get(URL, {"action": "preview"})) == ["preview"]
    assert actions(api_admin.get(URL, {"outcome": "failed"})) == ["login_failed"]


@pytest.mark.parametrize("since", ["{day}", "{moment}"])
def test_it_filters_by_since(api_admin, events, since):
    now = timezone.now() - timedelta(days=1)
    value = since.format(day=now.date().isoformat(), moment=now.isoformat())
    assert actions(api_admin.get(URL, {"since": value})) == ["preview", "upload"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"action": "nope"}, "action"), ({"outcome": "x"}, "outcome"), ({"since": "soon"}, "since")],
)
def test_it_validates_filters(api_admin, events, params, field):
    body = assert_error(api_admin.get(URL, params), 400)
    assert field in body["errors"]
    assert body["detail"].startswith(f"{field}:")


def test_it_lists_events_with_who_what_when_outcome(api_alice, events):
    event = api_alice.get(URL).json()["results"][0]
    assert event["actor"] == "alice_admin"
    assert event["actor_node"] == "alice"
    assert event["outcome"] == "success"
    assert event["at"]


def test_it_shows_a_node_admin_denied_access_to_their_objects(api_carol, api_alice, project):
    api_carol.get(f"/api/v1/projects/{project.pk}/")
    denied = api_alice.get(URL, {"action": "access_denied"}).json()["results"]
    assert [(e["actor"], e["outcome"]) for e in denied] == [("carol_admin", "denied")]
