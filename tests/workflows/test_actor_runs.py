"""Run services act for an Actor: a peer node (no user behind it) neither starts nor edits."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests.workflows.runs import new_run
from workflows import services
from workflows.actors import Actor
from workflows.models import Run

pytestmark = pytest.mark.django_db


def test_a_peer_node_cannot_start_a_run(credit_pipeline, bob):
    with pytest.raises(PermissionDenied, match="Only a user of this node may start runs"):
        services.start_run(Actor.peer(bob), credit_pipeline, "all", None, False)
    assert not Run.objects.exists()


def test_a_peer_node_cannot_change_a_pipeline(credit_pipeline, bob):
    with pytest.raises(PermissionDenied, match="change pipelines"):
        services.ensure_editable(Actor.peer(bob), credit_pipeline, "change")


def test_a_peer_node_of_a_member_sees_the_runs_of_its_project(credit_pipeline, bob):
    run = new_run(credit_pipeline)
    assert services.get_run(Actor.peer(bob), run.pk) == run


def test_a_peer_node_outside_the_project_finds_no_run(credit_pipeline, carol):
    from django.http import Http404

    run = new_run(credit_pipeline)
    with pytest.raises(Http404):
        services.get_run(Actor.peer(carol), run.pk)
