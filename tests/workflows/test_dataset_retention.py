"""Deleting a dataset deletes the row-level tables runs derived from it at its owner's node,
keeps (and names) the models and reports, and leaves other parties' outputs alone."""

from __future__ import annotations

import pytest

from console.audit.models import AuditEvent
from tests.workflows.runs import run_now
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finished(credit_pipeline):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    return run


def _artifacts(run, node):
    return list(Artifact.objects.filter(node_run__run=run, owner_node=node))


def test_deleting_a_dataset_deletes_its_derived_tables(finished, credit, alice, bob, api_alice):
    tables = [a for a in _artifacts(finished, alice) if a.kind.startswith("table")]
    kept = [a for a in _artifacts(finished, alice) if not a.kind.startswith("table")]
    # Rules (fill values, scaling) and reports downstream of the credit table are aggregates.
    reports = [a for a in kept if not a.node_run.node_id.startswith("shop")]
    assert {a.kind for a in reports} == {"rule", "report"}
    bobs = _artifacts(finished, bob)
    assert tables
    assert reports
    assert bobs
    assert all(a.path.exists() for a in tables)

    assert api_alice.delete(f"/api/v1/datasets/{credit.pk}/").status_code == 204

    assert not any(a.path.exists() for a in tables)
    assert not Artifact.objects.filter(pk__in=[a.pk for a in tables]).exists()
    assert all(a.path.exists() for a in kept)  # aggregates (and the shop's report), kept
    assert all(a.path.exists() for a in bobs)  # bob's outputs are his
    event = AuditEvent.objects.get(action="delete", target_type="dataset")
    assert event.detail["derived_files_deleted"] == len(tables)
    assert len(event.detail["derived_outputs_kept"]) == len(reports)


def test_the_page_says_what_was_kept(finished, credit, alice_client):
    response = alice_client.post(f"/datasets/{credit.pk}/delete/", follow=True)
    text = response.content.decode()
    assert "table(s) runs had derived from it" in text
    assert "model or report output(s) derived from it" in text
