"""Which projects an actor may see and change. Unknown and forbidden look the same (404)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from console.audit.log import record_refused_lookup
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


def _deny(actor: Actor, pk, project: Project | None, reason: str) -> None:
    """Answer 404, audited (for the project's owner when it exists: `record_refused_lookup`)."""
    owner = project.owner_node if project is not None else None
    record_refused_lookup(actor, "project", pk, project, owner, reason)
    raise Http404(_("No such project."))


def get_project_for_user(actor: Actor, pk) -> Project:
    """Return the project if the user's node is a member (or a platform admin asks), else 404.

    A refusal is audited as a failed access (an id that is not a number is not).
    """
    try:
        return projects_visible_to(actor).get(pk=pk)
    except (Project.DoesNotExist, ValueError, TypeError):
        if not str(pk).isdigit():
            raise Http404(_("No such project.")) from None
        project = Project.objects.filter(pk=pk).first()
        _deny(actor, pk, project, "not a member of the project")


def get_project_for_owner(actor: Actor, pk) -> Project:
    """Return the project if the actor's node owns it (to manage members, archive...), else 404."""
    project = get_project_for_user(actor, pk)
    if actor.node_id != project.owner_node_id and not actor.is_superuser:
        _deny(actor, pk, project, "only the owner node manages the project")
    return project
