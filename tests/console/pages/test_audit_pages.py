"""The audit log page: node admins see their node's events, platform admins all of them."""

from __future__ import annotations

from console.audit.log import Action, Outcome, record
from console.audit.models import AuditEvent


def _event(user, action=Action.UPLOAD, outcome=Outcome.SUCCESS, node=None) -> AuditEvent:
    return record(None, action, user=user, outcome=outcome, node=node, marker=f"m-{action}")


def test_it_redirects_anonymous_to_login(anon_client):
    assert anon_client.get("/audit/")["Location"].startswith("/accounts/login/?next=/audit/")


def test_it_answers_404_to_plain_members(client, alice_member_user):
    client.force_login(alice_member_user)
    assert client.get("/audit/").status_code == 404


def test_it_shows_node_admins_their_nodes_events_only(alice_client, alice_user, carol_user):
    _event(alice_user, Action.PREVIEW)
    _event(carol_user, Action.DELETE)
    page = alice_client.get("/audit/").content.decode()
    assert "marker: m-preview" in page
    assert "m-delete" not in page


def test_it_shows_attempts_on_my_nodes_objects(alice_client, alice, carol_user):
    _event(carol_user, Action.ACCESS_DENIED, Outcome.DENIED, node=alice)
    page = alice_client.get("/audit/").content.decode()
    assert "carol_admin" in page
    assert '<span class="badge outcome-denied">Denied</span>' in page


def test_it_shows_platform_admins_every_event(client, platform_admin, alice_user, carol_user):
    _event(alice_user, Action.PREVIEW)
    _event(carol_user, Action.DELETE)
    client.force_login(platform_admin)
    page = client.get("/audit/").content.decode()
    assert "m-preview" in page
    assert "m-delete" in page


def test_it_filters_by_action_and_outcome(alice_client, alice_user):
    _event(alice_user, Action.PREVIEW)
    _event(alice_user, Action.UPLOAD, Outcome.FAILED)
    page = alice_client.get("/audit/?action=upload&outcome=failed").content.decode()
    assert "m-upload" in page
    assert "m-preview" not in page
    assert "Clear</a>" in page


def test_it_ignores_an_unknown_filter_value(alice_client, alice_user):
    _event(alice_user, Action.PREVIEW)
    response = alice_client.get("/audit/?action=<script>")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_it_says_when_no_event_matches(alice_client):
    page = alice_client.get("/audit/?action=revoke").content.decode()
    assert "No event matches these filters." in page


def test_it_paginates_and_keeps_the_filters(alice_client, alice_user):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=alice_user,
            actor_node=alice_user.node,
            node=alice_user.node,
            action=Action.PREVIEW,
            actor_username="alice_admin",
        )
        for _ in range(60)
    )
    page = alice_client.get("/audit/?action=preview").content.decode()
    assert "Page 1 of 2" in page
    assert 'href="?action=preview&amp;page=2"' in page
    second = alice_client.get("/audit/?action=preview&page=2").content.decode()
    assert "Page 2 of 2" in second
