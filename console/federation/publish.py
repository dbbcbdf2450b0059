"""What this node tells the members of a shared project: its datasets' schemas and roles, its
pipelines (as the owner), its approval requests and decisions. Bodies only; `outbox` sends.

Nothing here reads a dataset's file: a published dataset is its name, description, column
names and types, which columns have gaps, and the column roles and standing disclosure policy
of the authorisation (re-published whenever the policy changes). Never rows, never counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F

from console.datasets.models import Authorization
from console.federation import outbox, wire
from console.federation.models import PublishedPipeline, SharedProject
from console.nodes.models import Node
from console.projects.models import Project
from workflows.models import Approval, Pipeline


def network_mode() -> bool:
    return settings.PRIVPAD_DEPLOYMENT == "network"


def shared_of(project: Project) -> SharedProject | None:
    return SharedProject.objects.filter(project=project).first() if network_mode() else None


def self_node() -> Node | None:
    return Node.objects.filter(is_self=True).first()


def sees_node_inbox(user) -> bool:
    """Whether `user` reads what other nodes asked of this node (ballots, dealer services):
    this node's own users and platform admins."""
    me = self_node()
    return me is not None and (user.is_superuser or user.node_id == me.pk)


def other_members(project: Project, only: list[Node] | None = None) -> list[Node]:
    me = self_node()
    nodes = [m.node for m in project.memberships.select_related("node") if m.node != me]
    return [node for node in nodes if only is None or node in only]


def dataset_body(shared: SharedProject, authorization: Authorization) -> dict:
    dataset = authorization.dataset
    return {
        "project": str(shared.uid),
        "dataset": {
            "id": dataset.pk,
            "name": dataset.name,
            "description": dataset.description[:5000],
            "columns": [[column["name"], column["type"]] for column in dataset.columns],
            "authorization": authorization.pk,
            "version": authorization.version,
            "roles": authorization.column_roles,
            "missing": [c["name"] for c in dataset.columns if c.get("nulls", 0) > 0],
            # What the initiator's plan may take as allowed or refused; this node re-checks
            # every run against its own copy (`console.federation.sources.resolve_at_owner`).
            "policy": authorization.policy(),
        },
    }


def publish_authorization(authorization: Authorization, to: list[Node] | None = None) -> None:
    """Send an active authorisation of this node's dataset to the project's other members."""
    shared = shared_of(authorization.project)
    me = self_node()
    if shared is None or authorization.dataset.node_id != me.pk:
        return
    if not authorization.project.has_member(me):
        return
    body = dataset_body(shared, authorization)
    for node in other_members(authorization.project, to):
        outbox.send(node, "DatasetPublish", body)


def publish_revocation(authorization: Authorization) -> None:
    shared = shared_of(authorization.project)
    me = self_node()
    if shared is None or authorization.dataset.node_id != me.pk:
        return
    if not authorization.project.has_member(me):
        return
    body = {
        "project": str(shared.uid),
        "dataset": authorization.dataset_id,
        "authorization": authorization.pk,
    }
    for node in other_members(authorization.project):
        outbox.send(node, "DatasetRevoke", body)


def publish_datasets(project: Project, to: list[Node]) -> None:
    """Every active authorisation of this node's datasets to the project, to new members."""
    me = self_node()
    active = Authorization.objects.filter(
        project=project, dataset__node=me, revoked_at__isnull=True
    ).select_related("dataset", "project")
    for authorization in active:
        publish_authorization(authorization, to)


def replicate_pipeline(pipeline: Pipeline, to: list[Node] | None = None, bump=True) -> None:
    """Send the pipeline's document (a new version) to the members; owner node only."""
    from workflows.services import export_document

    project = pipeline.project
    shared = shared_of(project)
    if shared is None or project.owner_node_id != self_node().pk:
        return
    publication, _ = PublishedPipeline.objects.get_or_create(pipeline=pipeline)
    if bump or publication.version == 0:
        PublishedPipeline.objects.filter(pk=publication.pk).update(version=F("version") + 1)
        publication.refresh_from_db()
    body = {
        "project": str(shared.uid),
        "pipeline": {
            "id": pipeline.pk,
            "version": publication.version,
            "archived": pipeline.archived_at is not None,
            "document": wire.as_document(export_document(pipeline)),
        },
    }
    for node in other_members(project, to):
        outbox.send(node, "PipelineReplicate", body)


def replicate_pipelines(project: Project, to: list[Node]) -> None:
    for pipeline in project.pipelines.all():
        replicate_pipeline(pipeline, to, bump=False)


def request_approval(approval: Approval) -> None:
    """Ask the source party's node to decide on its entries of the plan (owner node only)."""
    shared = shared_of(approval.project)
    if shared is None or approval.project.owner_node_id != self_node().pk:
        return
    if approval.party_node.is_self:
        return
    plan = {"entries": approval.plan["entries"], "sentences": approval.plan["sentences"]}
    outbox.send(
        approval.party_node,
        "ApprovalRequest",
        {
            "project": str(shared.uid),
            "pipeline": approval.pipeline_id,
            "approval": approval.pk,
            "party": approval.party,
            "fingerprint": approval.fingerprint,
            "plan": wire.as_document(plan),
            # Shown at the source party's node as this node's statement.
            "requested_by": approval.requested_by.get_username() if approval.requested_by else "",
        },
    )


def send_decision(approval: Approval) -> None:
    """This node decided on a replicated approval: tell the node that asked."""
    replica = getattr(approval, "replica", None)
    if replica is None or not network_mode():
        return
    outbox.send(
        replica.origin,
        "ApprovalDecision",
        {
            "approval": replica.remote_id,
            "fingerprint": approval.fingerprint,
            "status": approval.status,
            "comment": approval.comment[:2000],
            "decided_by": approval.decided_by.get_username() if approval.decided_by else "",
        },
    )
