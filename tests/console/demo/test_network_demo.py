"""`manage.py network_demo STEP... --user USER`: the demo's steps at one node, and their refusals.

This installation is alice's node (network mode) with bob and carol as paired peers whose
services do not answer here; the whole walk across three real nodes is
`tests/console/federation/test_demo_across_nodes.py`. Each step done out of order, for an
unknown user, or in embedded mode says what is missing.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from console.datasets.models import Dataset
from console.demo.network import PROJECT_NAME
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import make_route, make_self


def network_demo(*steps: str, user: str = "alice_admin") -> str:
    out = StringIO()
    call_command("network_demo", *steps, "--user", user, stdout=out)
    return out.getvalue()


@pytest.fixture
def at_alice(settings, tmp_path, alice, bob, carol, alice_user):
    settings.PRIVPAD_DEPLOYMENT = "network"
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"
    make_self(alice)
    return {node.name: make_route(node) for node in (bob, carol)}


def test_it_refuses_an_embedded_console(db, alice_user):
    with pytest.raises(CommandError, match="PRIVPAD_DEPLOYMENT=network.*bootstrap_demo"):
        network_demo("dataset")


def test_it_acts_only_as_a_user_of_this_node(at_alice, bob_user):
    with pytest.raises(CommandError, match="no user 'bob_admin' of this node"):
        network_demo("dataset", user="bob_admin")
    with pytest.raises(CommandError, match="no user 'nobody' of this node"):
        network_demo("dataset", user="nobody")


def test_an_unknown_step_is_refused(at_alice):
    with pytest.raises(CommandError, match="invalid choice: 'everything'"):
        network_demo("everything")


def test_the_dataset_step_uploads_this_nodes_table_once(at_alice, alice):
    assert "alice: dataset credit_customers uploaded" in network_demo("dataset")
    assert "alice: dataset credit_customers kept" in network_demo("dataset")
    [dataset] = Dataset.objects.all()
    assert dataset.node == alice
    assert dataset.row_count == 6000


def test_steps_before_the_project_say_what_is_missing(at_alice):
    network_demo("dataset")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}' yet"):
        network_demo("authorise")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}' yet"):
        network_demo("pipeline")
    with pytest.raises(CommandError, match=f"no invitation to '{PROJECT_NAME}' has reached"):
        network_demo("accept")
    with pytest.raises(CommandError, match=f"not a member of '{PROJECT_NAME}'"):
        network_demo("approve")


def test_invitations_that_cannot_reach_a_peer_fail_the_step_naming_it(at_alice):
    with pytest.raises(CommandError, match="messages not delivered: ProjectPropose to bob"):
        network_demo("project")
    assert Project.objects.filter(name=PROJECT_NAME).exists()  # kept: a re-run resends


def test_the_pipeline_waits_for_every_members_dataset(at_alice, alice, alice_user, bob, carol):
    from console.projects import services
    from workflows.actors import Actor

    project = services.create_project(Actor.for_user(alice_user), PROJECT_NAME, "")
    for member in (bob, carol):
        ProjectMember.objects.create(project=project, node=member)
    network_demo("dataset", "authorise")
    with pytest.raises(CommandError, match="bob's dataset is not authorised to"):
        network_demo("pipeline")


def test_approving_waits_for_the_replica_and_has_nothing_to_do_when_policies_allow(
    at_alice, alice, bob
):
    """At a member, the `approve` step: the demo pipeline must have been replicated; with the
    demo's standing policies published, the plan asks the member nothing (no request)."""
    from console.demo.pipeline import PIPELINE_NAME
    from console.federation.models import PipelineReplica
    from workflows.models import Pipeline

    project = Project.objects.create(name=PROJECT_NAME, owner_node=bob)
    with pytest.raises(CommandError, match="has not been replicated to this node yet"):
        network_demo("approve")
    pipeline = Pipeline.objects.create(project=project, name=PIPELINE_NAME, graph={})
    PipelineReplica.objects.create(pipeline=pipeline, origin=bob, remote_id=1, version=1)
    assert "no request of" in network_demo("approve")
