"""Pipelines are changed by their creator and the editors chosen for them, tried as bob: he opens
alice's pipeline, sets himself as receiver, renames and deletes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from console.audit.models import AuditEvent
from tests.console.conftest import make_user
from tests.workflows.runs import run_now
from workflows.models import Artifact, Pipeline, Run, Status

pytestmark = pytest.mark.django_db


def url(pipeline: Pipeline, suffix: str = "") -> str:
    return f"/api/v1/pipelines/{pipeline.pk}/{suffix}"


def test_bob_cannot_change_alices_pipeline(credit_pipeline, api_bob):
    before = json.dumps(credit_pipeline.graph, sort_keys=True)
    changed = {"nodes": [], "edges": []}
    for body in ({"graph": changed}, {"name": "bob's now"}, {"description": "x"}):
        response = api_bob.patch(url(credit_pipeline), body, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "not_editor"
        assert "alice_admin" in response.json()["detail"]
    assert api_bob.delete(url(credit_pipeline)).status_code == 403
    credit_pipeline.refresh_from_db()
    assert json.dumps(credit_pipeline.graph, sort_keys=True) == before
    assert (credit_pipeline.name, credit_pipeline.archived_at) == ("Credit pipeline", None)


def test_bob_still_reads_validates_and_runs_it(credit_pipeline, api_bob):
    body = api_bob.get(url(credit_pipeline)).json()
    assert (body["created_by"], body["can_edit"], body["editors"]) == ("alice_admin", False, [])
    assert api_bob.post(url(credit_pipeline, "validate/")).status_code == 200
    assert api_bob.post(url(credit_pipeline, "runs/"), {}, format="json").status_code == 201


def test_another_user_of_the_creators_node_is_no_editor_either(credit_pipeline, alice_member_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(alice_member_user)
    response = client.patch(url(credit_pipeline), {"name": "mine"}, format="json")
    assert response.status_code == 403


def test_the_creator_adds_bob_as_editor_and_he_may_edit(credit_pipeline, api_alice, api_bob):
    response = api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["bob_admin"]})
    assert response.status_code == 200, response.content
    assert response.json()["editors"] == ["bob_admin"]
    assert api_bob.patch(url(credit_pipeline), {"name": "Joint"}, format="json").status_code == 200
    assert api_bob.get(url(credit_pipeline)).json()["can_edit"] is True
    # An editor edits but does not choose editors.
    response = api_bob.put(url(credit_pipeline, "editors/"), {"editors": []}, format="json")
    assert response.status_code == 403


def test_the_project_owner_node_chooses_editors_of_a_members_pipeline(
    project, api_alice, api_bob, bob_user, alice_user
):
    pipeline = Pipeline.objects.create(project=project, name="bob's", created_by=bob_user)
    response = api_alice.put(url(pipeline, "editors/"), {"editors": ["alice_admin"]})
    assert response.status_code == 200
    assert api_alice.patch(url(pipeline), {"name": "handed on"}, format="json").status_code == 200
    assert api_bob.get(url(pipeline, "editors/")).json()["editors"] == ["alice_admin"]


def test_editors_must_be_known_users_of_member_nodes(credit_pipeline, api_alice, carol_user):
    response = api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["carol_admin"]})
    assert response.status_code == 400
    assert "carol_admin" in json.dumps(response.json())
    response = api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["nobody"]})
    assert response.status_code == 400
    assert "nobody" in json.dumps(response.json())
    assert credit_pipeline.editors.count() == 0


def test_an_outsider_gets_404_for_the_editors(credit_pipeline, api_carol):
    assert api_carol.get(url(credit_pipeline, "editors/")).status_code == 404


def test_bobs_canvas_is_read_only_with_the_reason(credit_pipeline, bob_client, alice_client):
    page = bob_client.get(f"/pipelines/{credit_pipeline.pk}/")
    assert page.context["data"]["readonly"] is True
    assert "only alice_admin" in page.context["data"]["readonly_reason"]
    assert (
        alice_client.get(f"/pipelines/{credit_pipeline.pk}/").context["data"]["readonly"] is False
    )


def storage_files() -> set[Path]:
    return {path for path in Path(settings.NODE_STORAGE_DIR).rglob("*") if path.is_file()}


def test_deleting_archives_and_every_partys_results_and_files_stay(
    fresh_storage, credit_pipeline, api_alice, api_bob, bob_user
):
    run = run_now(credit_pipeline, user=bob_user)
    assert run.status == Status.SUCCEEDED, run.message
    before = storage_files()
    artifacts = Artifact.objects.count()
    assert api_alice.delete(url(credit_pipeline)).status_code == 204
    assert storage_files() == before
    assert Artifact.objects.count() == artifacts
    assert Run.objects.filter(pk=run.pk).exists()
    # Every file of a run is described by an artifact row, and every row's file exists.
    run_files = {p for p in before if "runs" in p.parts}
    assert run_files == {a.path for a in Artifact.objects.all()}
    # bob still reads his run and downloads his own part; the pipeline left the lists.
    assert api_bob.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    own = Artifact.objects.filter(node_run__run=run, party="bob").first()
    assert api_bob.get(f"/api/v1/artifacts/{own.pk}/download/").status_code == 200
    assert api_bob.get("/api/v1/pipelines/").json() == []
    assert api_bob.get(url(credit_pipeline)).status_code == 404
    assert api_bob.post(url(credit_pipeline, "runs/"), {}, format="json").status_code == 404


def test_a_pipeline_without_creator_is_edited_by_the_owner_node(project, api_alice, api_bob):
    pipeline = Pipeline.objects.create(project=project, name="orphan", created_by=None)
    assert api_alice.patch(url(pipeline), {"name": "adopted"}, format="json").status_code == 200
    assert api_bob.patch(url(pipeline), {"name": "mine"}, format="json").status_code == 403


def test_an_editor_from_the_creators_node_is_accepted(credit_pipeline, api_alice, alice):
    make_user("alice_second", alice)
    response = api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["alice_second"]})
    assert response.status_code == 200


def test_the_editors_page_lets_the_creator_choose_member_users(
    credit_pipeline, alice_client, bob_user
):
    page = alice_client.get(f"/pipelines/{credit_pipeline.pk}/editors/")
    assert page.status_code == 200
    assert page.context["can_choose"] is True
    choices = [name for name, _ in page.context["form"].fields["editors"].choices]
    assert choices == ["bob_admin"]  # the creator is no candidate; carol is no member
    response = alice_client.post(
        f"/pipelines/{credit_pipeline.pk}/editors/", {"editors": ["bob_admin"]}
    )
    assert response.status_code == 302
    assert list(credit_pipeline.editors.all()) == [bob_user]


def test_the_editors_page_is_read_only_for_others_and_hidden_from_outsiders(
    credit_pipeline, bob_client, carol_client
):
    page = bob_client.get(f"/pipelines/{credit_pipeline.pk}/editors/")
    assert page.status_code == 200
    assert page.context["can_choose"] is False
    assert "Only alice_admin" in page.content.decode()
    response = bob_client.post(f"/pipelines/{credit_pipeline.pk}/editors/", {"editors": []})
    assert response.status_code == 403
    assert carol_client.get(f"/pipelines/{credit_pipeline.pk}/editors/").status_code == 404


def pipeline_events(pipeline: Pipeline) -> list[tuple[str, str, dict]]:
    events = AuditEvent.objects.filter(target_id=str(pipeline.pk), action="pipeline_update")
    return [(e.actor_username, e.node.name, e.detail["changes"]) for e in events.order_by("pk")]


def test_choosing_editors_and_deleting_are_audited_for_the_creators_node(
    credit_pipeline, api_alice, alice_client, api_bob
):
    api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["bob_admin"]}, format="json")
    api_alice.put(url(credit_pipeline, "editors/"), {"editors": ["bob_admin"]}, format="json")
    alice_client.post(f"/pipelines/{credit_pipeline.pk}/editors/", {"editors": []})
    assert api_bob.delete(url(credit_pipeline)).status_code == 403  # refused: nothing recorded
    assert api_alice.delete(url(credit_pipeline)).status_code == 204
    assert pipeline_events(credit_pipeline) == [
        ("alice_admin", "alice", {"editors": [[], ["bob_admin"]]}),  # the same choice again: none
        ("alice_admin", "alice", {"editors": [["bob_admin"], []]}),  # from the page
        ("alice_admin", "alice", {"archived": [False, True]}),
    ]
