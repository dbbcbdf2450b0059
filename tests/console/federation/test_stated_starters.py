"""Who started a run, who asked for an approval: carried from the initiating node, as it says.

The initiating node sends its user's name with `RunStart` and `ApprovalRequest`; the member
records it beside the sender's node name (the authenticated peer) and shows it everywhere a
local starter or requester would be shown, worded as that node's statement: "alice_admin (at
node alice)". It never becomes a user of the member's node; a name that is not printable text
is refused; an older node that sends none reads "a user at node alice".
"""

from __future__ import annotations

import pytest

from console.federation import initiate, publish
from console.nodes.link.service import Refused
from tests.console.federation.conftest import deliver, sent
from tests.console.federation.test_member_side import (
    approval_request,
    ballot,
    joined,
    pipeline_body,
)
from tests.console.federation.test_owner_side import (
    bob_invited,
    bob_member,
    bobs_approval,
    own_project,
)
from tests.console.federation.test_run_start import approve, bobs_copy, start_body
from workflows.models import Approval, Pipeline, Run

__all__ = [
    "ballot",
    "joined",
    "bob_invited",
    "bob_member",
    "bobs_approval",
    "own_project",
    "bobs_copy",
]
STATED = "alice_admin (at node alice)"


@pytest.fixture
def bobs_part(bobs_copy, at_bob) -> Run:
    """Bob's node accepted its part of a run alice_admin started at alice's node."""
    body = start_body(bobs_copy) | {"started_by": "alice_admin"}
    approve(bobs_copy, body)
    deliver(at_bob["alice"], "RunStart", body)
    return Run.objects.get()


def test_the_initiator_states_its_starter_in_run_start(bobs_copy, at_bob, alice_user, monkeypatch):
    # Whichever pipeline the fixtures made first (primary keys are not reset on PostgreSQL).
    pipeline = Pipeline.objects.order_by("pk").first()
    run = Run(pk=41, pipeline=pipeline, created_by=alice_user, disclosure_fingerprint="f" * 64)
    job = initiate.PartyJob("41", {}, ("alice", "bob"), {}, {"bob": initiate.ELSEWHERE}, "bob")
    shared = bobs_copy["project"].shared
    assert initiate.start_body(run, shared, job)["started_by"] == "alice_admin"
    run.created_by = None  # started by no user (a scheduled or scripted run)
    assert initiate.start_body(run, shared, job)["started_by"] == ""


def test_bobs_part_records_the_starter_as_alices_node_states_it(bobs_part, bob):
    from console.audit.models import AuditEvent

    assert (bobs_part.origin_node, bobs_part.origin_user) == ("alice", "alice_admin")
    assert bobs_part.created_by is None  # no user of bob's node started it
    assert bobs_part.started_by == STATED
    audited = AuditEvent.objects.get(action="run_start", node=bob)
    assert audited.actor_node.name == "alice"
    assert audited.detail["started_by"] == "alice_admin"


def test_an_older_initiator_that_names_no_user_is_still_named(bobs_copy, at_bob):
    body = start_body(bobs_copy)
    approve(bobs_copy, body)
    deliver(at_bob["alice"], "RunStart", body)
    assert Run.objects.get().started_by == "a user at node alice"


@pytest.mark.parametrize("name", ["alice\nadmin", "x" * 151, 42])
def test_a_starter_that_is_not_a_printable_name_is_refused(bobs_copy, at_bob, name):
    body = start_body(bobs_copy) | {"started_by": name}
    approve(bobs_copy, body)
    with pytest.raises(Refused, match="'started_by'"):
        deliver(at_bob["alice"], "RunStart", body)
    assert not Run.objects.exists()


def test_bobs_run_pages_lists_and_api_show_who_started_it(bobs_part, bob_client, api_bob):
    run_page = bob_client.get(f"/pipelines/runs/{bobs_part.pk}/").content.decode()
    assert STATED in run_page
    assert "started by no user" not in run_page.split("run-list")[0]
    assert STATED in bob_client.get("/runs/").content.decode()
    assert STATED in bob_client.get("/").content.decode()
    [listed] = api_bob.get("/api/v1/runs/").json()
    assert listed["started_by"] == STATED
    assert listed["started_at_node"] == "alice"
    filtered = api_bob.get("/api/v1/runs/", {"started_by": STATED}).json()
    assert [run["id"] for run in filtered] == [bobs_part.pk]
    assert api_bob.get("/api/v1/runs/", {"started_by": "alice_admin"}).status_code == 400


def test_bobs_report_copy_names_the_starter(bobs_part, bob):
    from workflows.reports.collect import run_facts

    assert run_facts(bobs_part, bob.pk)["started_by"] == STATED


# --- Approval requests ---------------------------------------------------------------------


def test_the_initiator_states_who_asked(bobs_approval, django_capture_on_commit_callbacks):
    publish.request_approval(bobs_approval)
    [request] = sent("ApprovalRequest", to="bob")
    assert request.body["requested_by"] == "alice_admin"


@pytest.fixture
def requested(joined, at_bob) -> Approval:
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    deliver(
        at_bob["alice"], "ApprovalRequest", approval_request() | {"requested_by": "alice_admin"}
    )
    return Approval.objects.get()


def test_bobs_message_center_names_who_asked_as_alices_node_states_it(
    requested, bob_client, api_bob
):
    from console.audit.models import AuditEvent

    assert (requested.origin_node, requested.origin_user) == ("alice", "alice_admin")
    assert requested.requested_by is None
    audited = AuditEvent.objects.get(action="approval_request")
    assert audited.detail["requested_by"] == "alice_admin"
    detail = bob_client.get(f"/approvals/{requested.pk}/").content.decode()
    assert f"requested by {STATED}" in detail
    assert "unknown user" not in detail
    listing = bob_client.get("/approvals/").content.decode()
    assert STATED in listing
    assert "as that node states it" in listing
    [shown] = api_bob.get("/api/v1/approvals/").json()
    assert shown["requested_by"] == STATED
    assert shown["requested_at_node"] == "alice"


def test_a_requester_that_is_not_a_printable_name_is_refused(joined, at_bob):
    deliver(at_bob["alice"], "PipelineReplicate", pipeline_body())
    body = approval_request() | {"requested_by": "alice\u0007"}
    with pytest.raises(Refused, match="'requested_by'"):
        deliver(at_bob["alice"], "ApprovalRequest", body)
    assert not Approval.objects.exists()


def test_a_request_made_here_still_names_the_local_user(bobs_approval):
    assert bobs_approval.requester == "alice_admin"


# --- Decisions -----------------------------------------------------------------------------


def test_alices_node_names_who_decided_as_bobs_node_states_it(bobs_approval, at_alice, api_alice):
    from tests.console.federation.test_owner_side import decision

    deliver(at_alice["bob"], "ApprovalDecision", decision(bobs_approval))
    bobs_approval.refresh_from_db()
    assert bobs_approval.decided_by is None  # no user of alice's node decided
    assert bobs_approval.decider == "bob_admin (at node bob)"
    [shown] = api_alice.get("/api/v1/approvals/").json()
    assert shown["decided_by"] == "bob_admin (at node bob)"


def test_a_decider_that_is_not_a_printable_name_is_refused(bobs_approval, at_alice):
    from tests.console.federation.test_owner_side import decision

    with pytest.raises(Refused, match="'decided_by'"):
        deliver(
            at_alice["bob"],
            "ApprovalDecision",
            decision(bobs_approval) | {"decided_by": "bob\tadmin"},
        )
    bobs_approval.refresh_from_db()
    assert bobs_approval.status == "pending"
