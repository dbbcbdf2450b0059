"""Cross-node dataset identity: another node's dataset as a pipeline source, and back.

Dataset ids are local to each installation, so a member's dataset cannot be named in a
pipeline by its own id. At the initiating node a remote dataset (`RemoteDataset`: the schema and
roles its owner published, never rows) is a source under the key `-RemoteDataset.pk`: negative,
so it never collides with a local dataset's id, and stable across re-publications of the same
dataset (a new authorisation version updates the same row). Its party is its owner node; the
graph, validation and the disclosure plan work from the published columns and roles.

What the owner published: which columns have gaps (an older node that did not say leaves
every column taken as possibly missing values: validation then asks for a fill step where a
component refuses them), no row count, and the standing disclosure policy of the authorisation
(re-published when it changes). The initiator's plan decides each entry from that policy as
embedded mode does: "allow" needs no approval, "refuse" fails validation with the owner's
reason, "ask" requests the owner's approval; an older node that published no policy has every
disclosure asked about (the safe side).

At a run, the initiator sends each member its sources as `(key, owner id, authorisation id)`
(`source_identity`); the owner node resolves them to its own file (`resolve_at_owner`),
refusing a dataset whose authorisation to the project is gone or no longer the one published.
The resolved source carries the owner's own policy, never the initiator's copy: the owner node
validates the run against it, so a plan its policy refuses is refused there, and one its
policy asks about needs its own approval (`console.federation.runs`), whatever the initiator
believed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from django.conf import settings

from console.datasets.models import Authorization
from console.federation.models import RemoteDataset
from console.projects.models import Project
from workflows.components.schema import Column
from workflows.messages import Message, render, translatable
from workflows.ports import SourceTable

# Where a remote dataset's file is, seen from a node that does not hold it: nowhere.
ELSEWHERE = Path("/nonexistent/elsewhere")


class UnresolvedSource(Exception):
    """A source of a run cannot be matched to this node's authorised dataset file; `message`
    (a `workflows.messages` message) says which and why, refused to the initiating node."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return render(self.message, "en")


def remote_key(remote: RemoteDataset) -> int:
    return -remote.pk


def remote_sources(project_id: int) -> dict[int, SourceTable]:
    """The project's remote datasets at this node, most recently published first (network
    mode only; embedded, every dataset is local)."""
    if settings.PRIVPAD_DEPLOYMENT != "network":
        return {}
    active = (
        RemoteDataset.objects.filter(project_id=project_id, revoked_at__isnull=True)
        .select_related("node")
        .order_by("-published_at", "-id")
    )
    return {remote_key(remote): remote_source(remote) for remote in active}


def remote_source(remote: RemoteDataset) -> SourceTable:
    from workflows.disclosure.policy import Policy

    owner, roles = remote.node.name, remote.column_roles
    columns = tuple(
        Column(
            column["name"],
            column["type"],
            owner,
            roles.get(column["name"], "protected"),
            missing=column.get("missing", True),
        )
        for column in remote.columns
    )
    return SourceTable(
        dataset_id=remote_key(remote),
        name=remote.name,
        party=owner,
        path=ELSEWHERE,
        fingerprint=_published_fingerprint(remote),
        columns=columns,
        authorization_id=remote.authorization_id,
        policy=Policy.from_dict(remote.policy).to_dict(),
    )


def _published_fingerprint(remote: RemoteDataset) -> str:
    """Changes whenever the owner publishes a new authorisation (new roles, new version)."""
    published = [remote.node.name, remote.remote_id, remote.authorization_id, remote.column_roles]
    text = json.dumps(published, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_identity(source: SourceTable) -> dict:
    """How the owner node finds `source`: the initiator's key, the owner's own dataset id and
    authorisation id (for a local source the two ids are this node's own)."""
    if source.dataset_id < 0:
        remote = RemoteDataset.objects.get(pk=-source.dataset_id)
        return {
            "key": source.dataset_id,
            "dataset": remote.remote_id,
            "authorization": remote.authorization_id,
        }
    return {
        "key": source.dataset_id,
        "dataset": source.dataset_id,
        "authorization": source.authorization_id,
    }


def resolve_at_owner(project: Project, source: SourceTable, identity: dict) -> SourceTable:
    """`source` (as the initiator sent it) with this node's file and this node's standing
    policy, after checking that the dataset is still authorised to this node's copy of the
    project under the same authorisation and with the same columns and roles. Raises
    UnresolvedSource naming it."""
    authorization = (
        Authorization.objects.filter(
            pk=identity.get("authorization"),
            dataset_id=identity.get("dataset"),
            project=project,
            revoked_at__isnull=True,
        )
        .select_related("dataset")
        .first()
    )
    if authorization is None:
        raise UnresolvedSource(
            translatable(
                "dataset '%(dataset)s' is no longer authorised to project '%(project)s' on this "
                "node under the authorisation the run names; re-validate the pipeline at the "
                "initiating node once the new authorisation has reached it",
                dataset=source.name,
                project=project.name,
            )
        )
    dataset, roles = authorization.dataset, authorization.column_roles
    published = {column.name: (column.type, column.role) for column in source.columns}
    local = {c["name"]: (c["type"], roles.get(c["name"], "protected")) for c in dataset.columns}
    if published != local:
        raise UnresolvedSource(
            translatable(
                "dataset '%(dataset)s': the run's columns or roles differ from this node's "
                "authorisation",
                dataset=source.name,
            )
        )
    return replace(
        source, path=dataset.path, encoding=dataset.encoding, policy=authorization.policy()
    )
