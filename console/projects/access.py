"""Which projects an actor may see and change. Unknown and forbidden look the same (404)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from console.audit.log import Action, Outcome, record
from console.projects.models import Project
from workflows.actors import Actor


def projects_visible_to(user):
    """Projects of the node of `user` (a user or an `Actor`); platform admins see every
    project's metadata."""
    projects = Project.objects.select_related("owner_node")
    if not user.is_authenticated:
        return projects.none()
    if user.is_superuser:
        return projects.all()
    if user.node_id is None:
        return projects.none()
    return projects.filter(memberships__node_id=user.node_id).distinct()


def _deny(actor: Actor, project: Project | None, reason: str) -> None:
    """Answer 404; a refusal of a project that does exist is audited for its owner."""
    if project is not None:
        record(
            actor,
            Action.ACCESS_DENIED,
            target=project,
            node=project.owner_node,
            outcome=Outcome.DENIED,
            reason=reason,
        )
    raise Http404(_("No such project."))


def get_project_for_user(actor: Actor, pk) -> Project:
    """Return the project if the user's node is a member (or a platform admin asks), else 404.

    A refusal of a project that does exist is audited as a failed access.
    """
    try:
        return projects_visible_to(actor).get(pk=pk)
    except (Project.DoesNotExist, ValueError, TypeError):
        project = Project.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        _deny(actor, project, "not a member of the project")


def get_project_for_owner(actor: Actor, pk) -> Project:
    """Return the project if the actor's node owns it (to manage members, archive...), else 404."""
    project = get_project_for_user(actor, pk)
    if actor.node_id != project.owner_node_id and not actor.is_superuser:
        _deny(actor, project, "only the owner node manages the project")
    return project
