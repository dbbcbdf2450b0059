"""Pages of disclosure control: the message center, the dataset page's policies and runs,
the run report's privacy ledger, and the canvas's starting data."""

from __future__ import annotations

import pytest

from console.audit.models import AuditEvent
from console.datasets.models import Authorization
from tests.workflows.test_disclosure_api import create, scores_for_bob, start
from workflows.executor import execute_run
from workflows.models import Approval, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(credit, shop, project, api_bob) -> Approval:
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    return Approval.objects.get(pk=start(api_bob, pipeline).json()["approvals"][0]["id"])


def test_the_navigation_counts_requests_waiting_for_me(pending, alice_client, bob_client):
    page = alice_client.get("/projects/").content.decode()
    assert 'class="nav-count"' in page
    assert "1 waiting for your decision" in page
    assert 'class="nav-count"' not in bob_client.get("/projects/").content.decode()


def test_the_message_center_lists_and_shows_the_plan_in_words(pending, alice_client, bob_client):
    listing = alice_client.get("/approvals/").content.decode()
    assert f'data-approval="{pending.pk}"' in listing
    assert f'data-approval="{pending.pk}"' not in bob_client.get("/approvals/").content.decode()
    assert f'data-approval="{pending.pk}"' in bob_client.get("/approvals/?tab=all").content.decode()
    detail = alice_client.get(f"/approvals/{pending.pk}/").content.decode()
    assert "bob receives: id-linked prediction scores over up to 60 rows" in detail
    assert "Approve this plan" in detail
    assert "Approve this plan" not in bob_client.get(f"/approvals/{pending.pk}/").content.decode()


def test_alice_approves_with_a_comment_from_the_page(pending, alice_client, bob_client):
    response = alice_client.post(
        f"/approvals/{pending.pk}/", {"decision": "approve", "comment": "campaign Q3"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.comment) == ("approved", "campaign Q3")
    # bob's post is ignored: he does not decide for alice.
    bob_client.post(f"/approvals/{pending.pk}/", {"decision": "reject"})
    pending.refresh_from_db()
    assert pending.status == "approved"


def test_the_dataset_page_lists_runs_with_who_approved_and_what_left(
    pending, credit, alice_client, alice_user, api_bob, api_alice
):
    api_alice.post(f"/api/v1/approvals/{pending.pk}/", {"decision": "approve"}, format="json")
    run_id = start(api_bob, {"id": pending.pipeline_id}).json()["id"]
    execute_run(run_id)
    page = alice_client.get(f"/datasets/{credit.pk}/").content.decode()
    assert f'data-run="{run_id}"' in page
    assert f"alice: approved by alice_admin (#{pending.pk})" in page
    assert "<strong>bob</strong> received id-linked prediction scores (row_level, 60 rows)" in page
    report = alice_client.get(f"/api/v1/runs/{run_id}/report/").content.decode()
    assert "Privacy ledger" in report
    assert f"alice: approved by alice_admin (#{pending.pk})" in report


def test_the_owner_sets_a_standing_policy_from_the_dataset_page(
    credit, project, alice_client, bob_client
):
    authorization = Authorization.objects.get(dataset=credit)
    prefix = f"policy-{authorization.pk}"
    form = {
        f"{prefix}-{name}": value
        for name, value in {
            "ids": "allow",
            "aggregates": "allow",
            "aggregates_min_k": "30",
            "models": "ask",
            "row_level": "refuse",
            "label_results": "refuse",
        }.items()
    }
    url = f"/datasets/authorizations/{authorization.pk}/policy/"
    assert bob_client.post(url, form).status_code == 404
    assert alice_client.post(url, form).status_code == 302
    authorization.refresh_from_db()
    assert authorization.policy()["row_level"] == "refuse"
    assert authorization.policy()["aggregates_min_k"] == 30
    assert AuditEvent.objects.filter(action="policy_update", outcome="success").count() == 1
    bad = form | {f"{prefix}-aggregates_min_k": "1"}
    alice_client.post(url, bad)
    authorization.refresh_from_db()
    assert authorization.policy()["aggregates_min_k"] == 30


def test_the_policy_api_checks_every_setting(credit, api_alice, api_bob):
    authorization = Authorization.objects.get(dataset=credit)
    url = f"/api/v1/authorizations/{authorization.pk}/policy/"
    assert api_bob.get(url).json()["aggregates"] == "allow"
    assert api_bob.put(url, {"ids": "allow"}, format="json").status_code == 404
    bad = {"ids": "maybe", "row_level_to": ["mallory"], "colour": "red"}
    response = api_alice.put(url, bad, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) >= {"ids", "row_level_to", "policy"}
    good = {"row_level": "allow", "row_level_to": ["bob"]}
    assert api_alice.put(url, good, format="json").json()["row_level_to"] == ["bob"]


def test_the_run_page_carries_its_ledger(pending, api_alice, api_bob, bob_client):
    api_alice.post(f"/api/v1/approvals/{pending.pk}/", {"decision": "approve"}, format="json")
    run_id = start(api_bob, {"id": pending.pipeline_id}).json()["id"]
    execute_run(run_id)
    assert Run.objects.get(pk=run_id).status == "succeeded"
    page = bob_client.get(f"/pipelines/runs/{run_id}/").content.decode()
    assert '"ledger"' in page
    assert "id-linked prediction scores" in page


def test_the_message_center_needs_login_and_hides_other_projects(
    pending, anon_client, carol_client
):
    assert anon_client.get("/approvals/").status_code == 302
    assert carol_client.get(f"/approvals/{pending.pk}/").status_code == 404
    assert (
        f'data-approval="{pending.pk}"'
        not in carol_client.get("/approvals/?tab=all").content.decode()
    )
