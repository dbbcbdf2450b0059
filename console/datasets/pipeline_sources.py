"""The console's side of the workflows boundary (`workflows.ports.ConsolePort`).

Workflows never imports the console; it asks for console facts through this class, named in
the `PRIVPAD_PIPELINE_PORT` setting: the projects a user's node belongs to, a project's parties,
and the datasets authorised (not revoked) to a project, with their owner, file, schema and the
column roles of the authorisation.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings

from console.accounts.sessions import RecentAuthentication
from console.audit.log import Action, Outcome, record
from console.datasets.models import Authorization
from console.nodes.models import Node
from console.projects.access import get_project_for_user
from console.projects.models import Project, ProjectMember
from workflows.actors import Actor
from workflows.components.schema import Column
from workflows.ports import ProjectFacts, SourceTable


def _facts(project: Project) -> ProjectFacts:
    members = ProjectMember.objects.filter(project=project).select_related("node")
    return ProjectFacts(
        id=project.pk,
        name=project.name,
        archived=project.is_archived,
        parties={member.node.name: member.node_id for member in members},
        owner_node=project.owner_node_id,
        unavailable={
            member.node.name: member.node.status
            for member in members
            if member.node.status != Node.Status.ONLINE
        },
        edited_on=_edited_on(project),
    )


def _edited_on(project: Project) -> str | None:
    """In network mode, the owner's name if it is another installation (a copy lives here)."""
    if settings.PRIVPAD_DEPLOYMENT != "network" or project.owner_node.is_self:
        return None
    return project.owner_node.name


def _source(authorization: Authorization) -> SourceTable:
    dataset, roles = authorization.dataset, authorization.column_roles
    columns = tuple(
        Column(
            column["name"],
            column["type"],
            dataset.node.name,
            roles.get(column["name"], "protected"),
            missing=column.get("nulls", 0) > 0,  # the upload profile's count of gaps
        )
        for column in dataset.columns
    )
    digest = hashlib.sha256(
        json.dumps([dataset.sha256, roles], sort_keys=True).encode("utf-8")
    ).hexdigest()
    return SourceTable(
        dataset_id=dataset.pk,
        name=dataset.name,
        party=dataset.node.name,
        path=dataset.path,
        fingerprint=digest,
        columns=columns,
        encoding=dataset.encoding,
        rows=dataset.row_count,
        authorization_id=authorization.pk,
        policy=authorization.policy(),
    )


class ConsoleSources:
    def visible_project_ids(self, user) -> list[int]:
        if not user.is_authenticated or user.node_id is None:
            return []
        memberships = ProjectMember.objects.filter(node_id=user.node_id)
        return list(memberships.values_list("project_id", flat=True))

    def project_for_user(self, actor: Actor, project_id: int) -> ProjectFacts:
        return _facts(get_project_for_user(actor, project_id))

    def project(self, project_id: int) -> ProjectFacts:
        return _facts(Project.objects.get(pk=project_id))

    def is_member(self, user, project_id: int) -> bool:
        return project_id in self.visible_project_ids(user)

    def runs_across_nodes(self, project_id: int) -> bool:
        from console.federation.initiate import runs_across_nodes

        return runs_across_nodes(project_id)

    def launch_across_nodes(self, run) -> None:
        from console.federation.initiate import launch

        launch(run)

    def cancel_across_nodes(self, run) -> None:
        from console.federation.run_events import cancel_across_nodes

        cancel_across_nodes(run)

    def sensitive_action_permissions(self) -> list:
        return [RecentAuthentication()]

    def audit(self, actor: Actor, action: str, target, node_id: int | None, **detail) -> None:
        node = Node.objects.filter(pk=node_id).first() if node_id is not None else None
        denied = (Action.ACCESS_DENIED, Action.RUN_REFUSED)
        outcome = Outcome.DENIED if action in denied else Outcome.SUCCESS
        record(actor, Action(action), target=target, node=node, outcome=outcome, **detail)

    def sources(self, project_id: int) -> dict[int, SourceTable]:
        """This node's authorised datasets, then (network mode) the other nodes' published
        ones under their cross-node keys (`console.federation.sources`)."""
        from console.federation.sources import remote_sources  # federation imports datasets

        active = (
            Authorization.objects.filter(project_id=project_id, revoked_at__isnull=True)
            .select_related("dataset__node")
            .order_by("-created_at", "-id")  # newest first, as the port promises
        )
        local = {authorization.dataset_id: _source(authorization) for authorization in active}
        return local | remote_sources(project_id)
