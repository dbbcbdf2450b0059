"""Cross-node dataset identity: a member's published dataset as a source at the initiator,
and the same source resolved to its file at the owner's node (`console.federation.sources`).

At alice's node, bob's dataset is only its published schema and roles: the pipeline names it
by its cross-node key, validation and the disclosure plan work from that schema, and its party
is bob. At bob's node the run's source resolves to bob's own file, only under the
authorisation that was published, and only with the columns and roles it published.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.datasets.pipeline_sources import ConsoleSources
from console.federation import projects
from console.federation.models import RemoteDataset
from console.federation.sources import (
    UnresolvedSource,
    remote_key,
    resolve_at_owner,
    source_identity,
)
from console.projects.models import Project, ProjectMember
from tests.console.federation.conftest import deliver
from tests.console.pages.conftest import authorize, make_dataset
from workflows.actors import Actor
from workflows.components import registry
from workflows.starters import build
from workflows.validation import validate

BOB_COLUMNS = [["uid", "str"], ["income", "float"], ["debt", "float"]]
BOB_ROLES = {"uid": "id", "income": "feature", "debt": "feature"}


def published(remote_id=7, authorization=11, missing=None) -> dict:
    dataset = {
        "id": remote_id,
        "name": "bank",
        "description": "",
        "columns": BOB_COLUMNS,
        "authorization": authorization,
        "version": 1,
        "roles": BOB_ROLES,
    }
    return dataset if missing is None else {**dataset, "missing": missing}


@pytest.fixture
def with_bob(at_alice, alice, alice_user, bob) -> Project:
    """Alice's project with bob accepted as member, alice's labelled dataset authorised."""
    project = Project.objects.create(name="Credit", owner_node=alice, created_by=alice_user)
    ProjectMember.objects.create(project=project, node=alice)
    proposal = projects.invite_node(Actor.for_user(alice_user), project, bob)
    deliver(at_alice["bob"], "ProjectVote", {"proposal": str(proposal.uid), "decision": "accepted"})
    rows = [[f"u{i}", str(i % 2), str(30 + i)] for i in range(30)]
    dataset = make_dataset(alice, "customers", ["uid", "default", "age"], rows)
    types = {"uid": "str", "default": "int", "age": "int"}
    dataset.columns = [{"name": n, "type": t, "nulls": 0} for n, t in types.items()]
    dataset.save(update_fields=["columns"])
    authorize(dataset, project, {"uid": "id", "default": "label", "age": "feature"})
    return project


def publish(project: Project, route, **kwargs) -> RemoteDataset:
    body = {"project": str(project.shared.uid), "dataset": published(**kwargs)}
    deliver(route, "DatasetPublish", body)
    return RemoteDataset.objects.get(project=project, remote_id=kwargs.get("remote_id", 7))


def test_a_published_dataset_is_a_source_of_its_owner_party(with_bob, at_alice):
    remote = publish(with_bob, at_alice["bob"], missing=[])
    sources = ConsoleSources().sources(with_bob.pk)
    source = sources[remote_key(remote)]
    assert remote_key(remote) < 0
    assert remote_key(remote) not in {key for key, s in sources.items() if s.party == "alice"}
    assert source.party == "bob"
    assert source.name == "bank"
    assert [(c.name, c.type, c.party, c.role) for c in source.columns] == [
        ("uid", "str", "bob", "id"),
        ("income", "float", "bob", "feature"),
        ("debt", "float", "bob", "feature"),
    ]
    assert not any(column.missing for column in source.columns)
    assert source.rows is None
    assert not source.path.exists()


def test_columns_are_taken_as_possibly_missing_unless_the_owner_said(with_bob, at_alice):
    remote = publish(with_bob, at_alice["bob"])
    source = ConsoleSources().sources(with_bob.pk)[remote_key(remote)]
    assert all(column.missing for column in source.columns)
    remote = publish(with_bob, at_alice["bob"], authorization=12, missing=["debt"])
    source = ConsoleSources().sources(with_bob.pk)[remote_key(remote)]
    assert [column.missing for column in source.columns] == [False, False, True]


def test_a_missing_list_naming_an_unknown_column_is_refused(with_bob, at_alice):
    from console.nodes.link.service import Refused

    with pytest.raises(Refused, match="'missing' lists columns"):
        publish(with_bob, at_alice["bob"], missing=["salary"])


def test_the_key_stays_when_the_owner_publishes_a_new_authorisation(with_bob, at_alice):
    first = remote_key(publish(with_bob, at_alice["bob"], missing=[]))
    before = ConsoleSources().sources(with_bob.pk)[first].fingerprint
    again = publish(with_bob, at_alice["bob"], authorization=12, missing=[])
    assert remote_key(again) == first
    assert ConsoleSources().sources(with_bob.pk)[first].fingerprint != before


def test_a_revoked_or_embedded_remote_dataset_is_no_source(with_bob, at_alice, settings):
    remote = publish(with_bob, at_alice["bob"], missing=[])
    settings.PRIVPAD_DEPLOYMENT = "embedded"
    assert remote_key(remote) not in ConsoleSources().sources(with_bob.pk)
    settings.PRIVPAD_DEPLOYMENT = "network"
    body = {"project": str(with_bob.shared.uid), "dataset": 7, "authorization": 11}
    deliver(at_alice["bob"], "DatasetRevoke", body)
    assert remote_key(remote) not in ConsoleSources().sources(with_bob.pk)


def test_a_pipeline_on_a_remote_dataset_validates_and_plans_its_disclosure(with_bob, at_alice):
    remote = publish(with_bob, at_alice["bob"], missing=[])
    sources = ConsoleSources().sources(with_bob.pk)
    graph = build("credit_risk", ["alice", "bob"], sources)
    reads = [node.params["dataset"] for node in graph.nodes.values() if "dataset" in node.params]
    assert remote_key(remote) in reads
    checked = validate(graph, registry(), ("alice", "bob"), sources)
    assert checked.ok, [e.to_dict() for e in checked.problems]
    assert "bob" in checked.plan.sources()  # bob's features feed the model alice receives


def test_an_unknown_remote_key_is_refused_by_validation(with_bob, at_alice):
    remote = publish(with_bob, at_alice["bob"], missing=[])
    sources = ConsoleSources().sources(with_bob.pk)
    graph = build("credit_risk", ["alice", "bob"], sources)
    del sources[remote_key(remote)]
    checked = validate(graph, registry(), ("alice", "bob"), sources)
    assert any(error.code == "dataset_not_authorised" for error in checked.problems)


# --- At bob's node: the owner resolves its source ---------------------------------------


@pytest.fixture
def bobs_copy(at_bob, alice, bob) -> tuple[Project, object]:
    """Bob's copy of alice's project with bob's dataset authorised to it."""
    project = Project.objects.create(name="Credit", owner_node=alice)
    for node in (alice, bob):
        ProjectMember.objects.create(project=project, node=node)
    rows = [[f"u{i}", str(1000 + i), str(i)] for i in range(30)]
    dataset = make_dataset(bob, "bank", ["uid", "income", "debt"], rows)
    dataset.columns = [{"name": n, "type": t, "nulls": 0} for n, t in BOB_COLUMNS]
    dataset.save(update_fields=["columns"])
    return project, authorize(dataset, project, BOB_ROLES)


def as_sent_by_alice(authorization) -> tuple:
    """The source alice's node sends (key -3, path elsewhere) and its identity."""
    dataset = authorization.dataset
    remote = RemoteDataset(
        pk=3,
        node=dataset.node,
        name=dataset.name,
        columns=[{"name": n, "type": t, "missing": False} for n, t in BOB_COLUMNS],
        column_roles=BOB_ROLES,
        remote_id=dataset.pk,
        authorization_id=authorization.pk,
    )
    from console.federation.sources import remote_source

    identity = {"key": -3, "dataset": dataset.pk, "authorization": authorization.pk}
    return remote_source(remote), identity


def test_the_owner_resolves_the_source_to_its_own_file(bobs_copy):
    project, authorization = bobs_copy
    source, identity = as_sent_by_alice(authorization)
    resolved = resolve_at_owner(project, source, identity)
    assert resolved.path == authorization.dataset.path
    assert resolved.path.exists()
    assert resolved.dataset_id == -3
    assert resolved.fingerprint == source.fingerprint


def test_a_revoked_authorisation_does_not_resolve(bobs_copy):
    project, authorization = bobs_copy
    source, identity = as_sent_by_alice(authorization)
    authorization.revoked_at = authorization.created_at
    authorization.save(update_fields=["revoked_at"])
    with pytest.raises(UnresolvedSource, match="no longer authorised"):
        resolve_at_owner(project, source, identity)


def test_another_projects_or_datasets_authorisation_does_not_resolve(bobs_copy, alice, bob):
    project, authorization = bobs_copy
    source, identity = as_sent_by_alice(authorization)
    other = Project.objects.create(name="Other", owner_node=alice)
    with pytest.raises(UnresolvedSource):
        resolve_at_owner(other, source, identity)
    with pytest.raises(UnresolvedSource):
        resolve_at_owner(project, source, {**identity, "dataset": identity["dataset"] + 99})


def test_columns_or_roles_other_than_authorised_do_not_resolve(bobs_copy):
    project, authorization = bobs_copy
    source, identity = as_sent_by_alice(authorization)
    relabelled = tuple(replace(c, role="label") if c.name == "debt" else c for c in source.columns)
    with pytest.raises(UnresolvedSource, match="columns or roles differ"):
        resolve_at_owner(project, replace(source, columns=relabelled), identity)


def test_a_local_source_names_itself(bobs_copy):
    project, authorization = bobs_copy
    source = ConsoleSources().sources(project.pk)[authorization.dataset_id]
    assert source_identity(source) == {
        "key": authorization.dataset_id,
        "dataset": authorization.dataset_id,
        "authorization": authorization.pk,
    }
