"""Project use cases shared by the pages and the REST API.

Each function takes the actor first (`workflows.actors.Actor`), checks what it may do,
and raises `django.core.exceptions.ValidationError` with a message naming the problem, or
`PermissionDenied` when a user who can see the project is not allowed to change it. Finding the
project (404 for outsiders) is the job of `console.projects.access`.

Archived projects are read-only: every change except un-archiving raises a ValidationError with
code `project_archived` (the API answers it with 409 Conflict).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.accounts.roles import ensure_may_change
from console.audit.log import Action, record
from console.nodes.models import Node
from console.projects.models import Project, ProjectMember
from workflows import revocation
from workflows.actors import Actor
from workflows.messages import translatable

ARCHIVED_CODE = "project_archived"
EDITABLE_FIELDS = ("name", "description", "status")
NAME_MAX_LENGTH = Project._meta.get_field("name").max_length


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError on one field that keeps its code (a plain dict would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


def ensure_active(project: Project) -> None:
    """Refuse any change to an archived project (call before authorising datasets too)."""
    if project.is_archived:
        raise ValidationError(
            _("Project '%(project)s' is archived and read-only; un-archive it first.")
            % {"project": project.name},
            code=ARCHIVED_CODE,
        )


def ensure_owner(actor: Actor, project: Project) -> None:
    """Only users of the owner node (or platform admins) manage a project; never viewers."""
    ensure_may_change(actor, "manage projects")
    if actor.is_superuser or (actor.node_id is not None and actor.node_id == project.owner_node_id):
        return
    raise PermissionDenied(
        _("Only the owner node '%(owner_node)s' manages this project.")
        % {"owner_node": project.owner_node.name}
    )


def _clean_name(name) -> str:
    name = str(name or "").strip()
    if not name:
        raise field_error("name", _("A project needs a name."), "required")
    if len(name) > NAME_MAX_LENGTH:
        raise field_error(
            "name",
            _("A project name has at most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH},
            "max_length",
        )
    return name


def create_project(actor: Actor, name: str, description: str = "") -> Project:
    """Create a project owned by the user's node, which becomes its first member."""
    user = actor.require_user("create projects")
    ensure_may_change(actor, "create projects")
    if user.node_id is None:
        raise ValidationError(
            _("Only users who belong to a node can create projects: a project is owned by a node."),
            code="no_node",
        )
    name = _clean_name(name)
    with transaction.atomic():
        project = Project.objects.create(
            name=name,
            description=str(description or "").strip(),
            owner_node=user.node,
            created_by=user,
        )
        ProjectMember.objects.create(project=project, node=user.node, added_by=user)
        record(actor, Action.PROJECT_CREATE, target=project, node=user.node)
    return project


def update_project(actor: Actor, project: Project, **fields) -> Project:
    """Change name, description and/or status ("active" / "archived") of a project.

    An archived project accepts only `status="active"` (un-archiving), alone.
    """
    ensure_owner(actor, project)
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(
            _("Cannot change %(unknown)s; editable fields: %(EDITABLE_FIELDS)s.")
            % {"unknown": ", ".join(unknown), "EDITABLE_FIELDS": ", ".join(EDITABLE_FIELDS)},
            code="invalid_field",
        )
    status = fields.pop("status", None)
    if status is not None and status not in Project.Status.values:
        raise field_error(
            "status",
            _("Unknown status '%(status)s'; use one of %(choices)s.")
            % {"status": status, "choices": ", ".join(Project.Status)},
            "invalid_choice",
        )
    if fields:
        ensure_active(project)
        changes = _apply_fields(project, fields)
        if changes:
            project.save(update_fields=changes)
            record(
                actor,
                Action.PROJECT_UPDATE,
                target=project,
                node=project.owner_node,
                fields=changes,
            )
    if status is not None:
        set_archived(actor, project, status == Project.Status.ARCHIVED)
    return project


def _apply_fields(project: Project, fields: dict) -> list[str]:
    changes = []
    if "name" in fields:
        name = _clean_name(fields["name"])
        if name != project.name:
            project.name = name
            changes.append("name")
    if "description" in fields:
        description = str(fields["description"] or "").strip()
        if description != project.description:
            project.description = description
            changes.append("description")
    return changes


def set_archived(actor: Actor, project: Project, archived: bool) -> Project:
    """Archive (read-only from now on) or un-archive a project; a no-op if already so."""
    ensure_owner(actor, project)
    status = Project.Status.ARCHIVED if archived else Project.Status.ACTIVE
    if project.status == status:
        return project
    project.status = status
    project.save(update_fields=["status"])
    record(actor, Action.PROJECT_UPDATE, target=project, node=project.owner_node, status=status)
    return project


def _resolve_node(node: Node | str) -> Node:
    if isinstance(node, Node):
        return node
    found = Node.objects.filter(name=str(node or "").strip()).first()
    if found is None:
        raise field_error("node", _("Unknown node '%(node)s'.") % {"node": node}, "unknown_node")
    return found


def ensure_embedded_membership() -> None:
    """In network mode members change only by a vote (`console.federation.projects`)."""
    if settings.PRIVPAD_DEPLOYMENT == "network":
        raise ValidationError(
            _(
                "In a network deployment nodes join and leave a project by invitation and vote: "
                "invite the node, or propose its removal, from the project's page."
            ),
            code="network_deployment",
        )


def add_member(actor: Actor, project: Project, node: Node | str) -> ProjectMember:
    """Add a node (a Node or its name) to the project's members (embedded mode)."""
    ensure_embedded_membership()
    ensure_owner(actor, project)
    ensure_active(project)
    node = _resolve_node(node)
    if node.status == Node.Status.DISABLED:
        raise field_error(
            "node",
            _("Node '%(node)s' is disabled and cannot join projects.") % {"node": node.name},
            "node_disabled",
        )
    if project.has_member(node):
        raise field_error(
            "node",
            _("Node '%(node)s' is already a member of this project.") % {"node": node.name},
            "already_member",
        )
    with transaction.atomic():
        member = ProjectMember.objects.create(project=project, node=node, added_by=actor.user)
        record(actor, Action.MEMBER_ADD, target=project, node=project.owner_node, member=node.name)
    return member


def remove_member(actor: Actor, project: Project, node: Node | str) -> None:
    """Remove a member node and revoke every authorisation of its datasets to the project."""
    from console.datasets.models import Authorization

    ensure_embedded_membership()
    ensure_owner(actor, project)
    ensure_active(project)
    node = _resolve_node(node)
    if node.pk == project.owner_node_id:
        raise field_error(
            "node",
            _("Node '%(node)s' owns the project and cannot be removed from it.")
            % {"node": node.name},
            "owner_member",
        )
    membership = project.memberships.filter(node=node).first()
    if membership is None:
        raise field_error(
            "node",
            _("Node '%(node)s' is not a member of this project.") % {"node": node.name},
            "not_member",
        )
    with transaction.atomic():
        active = Authorization.objects.filter(
            project=project, dataset__node=node, revoked_at__isnull=True
        ).select_related("dataset")
        for authorization in active:
            authorization.revoked_at = timezone.now()
            authorization.revoked_by = actor.user
            authorization.save(update_fields=["revoked_at", "revoked_by"])
            record(
                actor,
                Action.REVOKE,
                target=authorization,
                node=node,
                reason="member removed from the project",
            )
        membership.delete()
        record(
            actor, Action.MEMBER_REMOVE, target=project, node=project.owner_node, member=node.name
        )
        # Running runs stop, and the removed node's open run pages are closed (after commit).
        revocation.project_membership_changed(
            project.pk,
            translatable("node %(node)s was removed from the project", node=node.name),
        )
