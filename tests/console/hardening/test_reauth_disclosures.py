"""Deciding on a disclosure plan, or changing a standing disclosure policy (which approves
disclosures in advance), is a sensitive action: a session whose sign-in is older than
PRIVPAD_REAUTH_MINUTES must enter the password again first (API, message center, dataset
page); a token client presents its credential with every request and decides at once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.accounts.sessions import AUTHENTICATED_AT_KEY, reauth_url
from console.datasets.models import Authorization
from tests.console.accounts.conftest import token_for
from tests.console.api.helpers import assert_error
from tests.console.conftest import PASSWORD
from tests.console.hardening.test_sign_in import _age_session
from tests.workflows.test_disclosure_api import create, scores_for_bob, start
from workflows.models import Approval


@pytest.fixture
def pending(credit, shop, project, api_bob) -> Approval:
    """bob's pipeline waits for alice's decision on the scores it would send him."""
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    return Approval.objects.get(pk=start(api_bob, pipeline).json()["approvals"][0]["id"])


@pytest.fixture
def stale_alice(alice_client, settings):
    settings.PRIVPAD_REAUTH_MINUTES = 15
    _age_session(alice_client, AUTHENTICATED_AT_KEY, 16 * 60)
    return alice_client


def _decide(client, approval: Approval):
    body = {"decision": "approve", "comment": "ok"}
    return client.post(f"/api/v1/approvals/{approval.pk}/", body, content_type="application/json")


def test_a_stale_session_may_read_but_not_decide_through_the_api(stale_alice, pending):
    assert stale_alice.get(f"/api/v1/approvals/{pending.pk}/").status_code == 200
    assert_error(_decide(stale_alice, pending), 403, "reauthentication_required")
    pending.refresh_from_db()
    assert pending.status == Approval.Decision.PENDING


def test_a_recent_sign_in_decides_through_the_api(alice_client, pending):
    assert _decide(alice_client, pending).status_code == 200
    pending.refresh_from_db()
    assert pending.status == Approval.Decision.APPROVED


def test_a_token_decides_without_a_password_prompt(alice_user, pending):
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token_for(alice_user)}")
    response = client.post(f"/api/v1/approvals/{pending.pk}/", {"decision": "reject"})
    assert response.status_code == 200, response.json()
    pending.refresh_from_db()
    assert pending.status == Approval.Decision.REJECTED


def test_the_message_center_asks_for_the_password_before_deciding(stale_alice, pending):
    page = f"/approvals/{pending.pk}/"
    assert "Approve this plan" in stale_alice.get(page).content.decode()
    refused = stale_alice.post(page, {"decision": "approve"})
    assert refused["Location"].startswith("/accounts/reauth/?next=")
    pending.refresh_from_db()
    assert pending.status == Approval.Decision.PENDING
    back = stale_alice.post("/accounts/reauth/", {"password": PASSWORD, "next": page})
    assert back["Location"] == page
    assert stale_alice.post(page, {"decision": "approve"}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == Approval.Decision.APPROVED


def _policy_url(credit, api: bool) -> tuple[Authorization, str]:
    authorization = Authorization.objects.get(dataset=credit)
    prefix = "/api/v1" if api else "/datasets"
    return authorization, f"{prefix}/authorizations/{authorization.pk}/policy/"


def test_a_stale_session_may_not_change_a_standing_policy_through_the_api(stale_alice, credit):
    authorization, url = _policy_url(credit, api=True)
    before = authorization.policy()
    assert stale_alice.get(url).status_code == 200
    refused = stale_alice.put(url, {"row_level": "allow"}, content_type="application/json")
    assert_error(refused, 403, "reauthentication_required")
    authorization.refresh_from_db()
    assert authorization.policy() == before


def test_the_policy_form_asks_for_the_password_and_comes_back_to_the_dataset(stale_alice, credit):
    authorization, url = _policy_url(credit, api=False)
    before = authorization.policy()
    form = {f"policy-{authorization.pk}-row_level": "allow"}
    refused = stale_alice.post(url, form)
    back = f"/datasets/{credit.pk}/#disclosure"
    assert refused["Location"] == reauth_url(back)
    authorization.refresh_from_db()
    assert authorization.policy() == before
    again = stale_alice.post("/accounts/reauth/", {"password": PASSWORD, "next": back})
    assert again["Location"] == back
