"""The approver role holds the disclosure decision (the `workflows.decide_approval` permission
of the disclosure consent): alice's approver decides, her analyst and viewer do not, and the
viewer cannot start the run that would ask either."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.accounts.models import User
from tests.console.conftest import make_user
from tests.workflows.test_disclosure_api import create, scores_for_bob, start
from workflows.models import Approval, Run


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def approval(credit, shop, project, api_bob) -> Approval:
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    return Approval.objects.get(pk=start(api_bob, pipeline).json()["approvals"][0]["id"])


@pytest.mark.parametrize(("role", "status"), [("analyst", 403), ("viewer", 403), ("approver", 200)])
def test_only_an_approver_of_alice_decides(alice, approval, role, status):
    user = make_user(f"alice_{role}_2", alice, role=role)
    path = f"/api/v1/approvals/{approval.pk}/"
    response = client_for(user).post(path, {"decision": "approve"}, format="json")
    assert response.status_code == status, response.json()
    approval.refresh_from_db()
    assert (approval.status == "approved") is (status == 200)
    listed = client_for(user).get("/api/v1/approvals/?mine=1").json()
    assert listed[0]["may_decide"] is (status == 200)


def test_a_viewer_of_a_member_node_does_not_start_the_run(bob, credit, shop, project, api_bob):
    pipeline = create(api_bob, project, scores_for_bob(credit, shop))
    viewer = make_user("bob_viewer", bob, role="viewer")
    response = client_for(viewer).post(
        f"/api/v1/pipelines/{pipeline['id']}/runs/", {}, format="json"
    )
    assert response.status_code == 403
    assert not Run.objects.exists()
    assert not Approval.objects.exists()
