"""An outsider's refused request is in his node's audit log without the name or the owner of
what he asked for; the owner's admins see it in full."""

from __future__ import annotations

import pytest

from console.projects.models import Project
from tests.console.api.helpers import make_dataset


def _refused_request(api_carol, alice) -> int:
    dataset = make_dataset(alice, name="secret-merger-targets")
    assert api_carol.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404
    return dataset.pk


def _denied(events: list[dict]) -> list[dict]:
    return [event for event in events if event["action"] == "access_denied"]


def test_the_outsiders_log_hides_name_and_owner(api_carol, alice):
    _refused_request(api_carol, alice)
    body = api_carol.get("/api/v1/audit/").json()
    (event,) = _denied(body["results"])
    assert event["target_repr"] == "(not visible to your node)"
    assert (event["target_id"], event["node"], event["actor_node"]) == ("", None, "carol")
    assert "secret-merger-targets" not in str(body)
    assert "alice" not in str(body).replace("alice_", "")


def test_the_outsiders_audit_page_hides_them_too(api_carol, carol_client, alice):
    _refused_request(api_carol, alice)
    html = carol_client.get("/audit/").content.decode()
    assert "(not visible to your node)" in html
    assert "secret-merger-targets" not in html


def test_the_owners_admin_sees_the_attempt_in_full(api_carol, api_alice, alice):
    pk = _refused_request(api_carol, alice)
    (event,) = _denied(api_alice.get("/api/v1/audit/").json()["results"])
    assert "secret-merger-targets" in event["target_repr"]
    assert (event["target_id"], event["node"], event["actor_node"]) == (str(pk), "alice", "carol")


def test_platform_admins_see_everything(api_carol, api_admin, alice):
    _refused_request(api_carol, alice)
    (event,) = _denied(api_admin.get("/api/v1/audit/").json()["results"])
    assert "secret-merger-targets" in event["target_repr"]


def _denied_as_seen(client) -> list[dict]:
    """The refusals in `client`'s audit log, newest first, without their id and time."""
    events = _denied(client.get("/api/v1/audit/").json()["results"])
    return [{k: v for k, v in event.items() if k not in ("id", "at")} for event in events]


@pytest.mark.parametrize(
    ("kind", "url"),
    [("dataset", "/api/v1/datasets/{}/"), ("project", "/api/v1/projects/{}/")],
)
def test_the_outsiders_log_does_not_tell_which_ids_exist(api_carol, alice, kind, url):
    """A refusal of an id that names nothing is logged too, and reads exactly like the
    refusal of a private object: otherwise the entry's presence would betray the id."""
    if kind == "dataset":
        hidden = make_dataset(alice, name="secret-merger-targets").pk
    else:
        hidden = Project.objects.create(name="secret-merger", owner_node=alice).pk
    assert api_carol.get(url.format(hidden)).status_code == 404
    assert api_carol.get(url.format(hidden + 1000)).status_code == 404
    for_unknown, for_private = _denied_as_seen(api_carol)
    assert for_unknown == for_private
    assert (for_private["target_type"], for_private["target_id"]) == (kind, "")
    assert for_private["target_repr"] == "(not visible to your node)"


def test_platform_admins_see_the_unknown_id_asked_for(api_carol, api_admin):
    assert api_carol.get("/api/v1/datasets/4242/").status_code == 404
    (event,) = _denied_as_seen(api_admin)
    assert (event["target_type"], event["target_id"], event["node"]) == ("dataset", "4242", None)
    assert event["target_repr"] == "(no such object)"
