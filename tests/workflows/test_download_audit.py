"""Downloads of run outputs, and refused attempts, reach the console's audit log."""

from __future__ import annotations

from console.audit.models import AuditEvent
from tests.workflows.runs import run_now
from workflows.models import Artifact, Status


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_an_artifact_download_is_audited_for_its_owner(credit_pipeline, api_alice, alice):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED
    table = Artifact.objects.get(node_run__run=run, node_run__node_id="fill", port="output_ds")
    assert api_alice.get(f"/api/v1/artifacts/{table.pk}/download/").status_code == 200
    (event,) = events("download")
    assert (event.actor_username, event.node, event.outcome) == ("alice_admin", alice, "success")
    assert event.target_type == "artifact"
    assert event.target_id == str(table.pk)


def test_another_partys_attempt_is_audited_as_refused(credit_pipeline, api_bob, alice, bob):
    run = run_now(credit_pipeline)
    table = Artifact.objects.get(node_run__run=run, node_run__node_id="fill", port="output_ds")
    assert api_bob.get(f"/api/v1/artifacts/{table.pk}/download/").status_code == 404
    (event,) = events("access_denied")
    # The owner's admin sees who tried: the event concerns alice's node, the actor is bob's.
    assert (event.node, event.actor_node, event.outcome) == (alice, bob, "denied")
    assert events("download") == []


def test_a_run_report_download_is_audited(credit_pipeline, api_bob, bob):
    run = run_now(credit_pipeline)
    assert api_bob.get(f"/api/v1/runs/{run.pk}/report/").status_code == 200
    (event,) = events("download")
    assert (event.node, event.target_type, event.detail) == (bob, "run", {"what": "run report"})
