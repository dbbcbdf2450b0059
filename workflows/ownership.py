"""Who may change a pipeline: its creator and the editors chosen for it; everyone else reads.

Any member of a project reads its pipelines (and may run them: what a run discloses is the
disclosure plan's business). Changing one (graph, name, description), archiving it ("delete")
and choosing its editors are refused to others with 403 and a message naming who may:

- the creator edits, renames and archives, and chooses the editors;
- an editor (a user of a member node, chosen by the creator or by the project's owner node)
  edits, renames and archives;
- users of the project's owner node (and platform admins) choose the editors, so a pipeline
  whose creator left can be handed on; they do not edit it unless they add themselves. A
  pipeline with no creator (its user was deleted) is edited by the owner node's users.

In network mode a pipeline replicated from the project's owner node (another installation) is
read-only for everybody here, platform admins included: it is edited on that node.

Users whose role is read-only (`user.is_read_only`, the console's viewers) read pipelines and
results but never run, edit or choose editors.

Deleting a pipeline archives it: its runs, their outputs at every party and the audit trail
stay (each party's results are its own); it leaves the project's lists and no longer runs or
changes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from workflows.models import Pipeline
from workflows.ports import console_port


class NotEditor(PermissionDenied):
    """The user may read the pipeline but not change it."""


def _owner_node(pipeline: Pipeline) -> int | None:
    return console_port().project(pipeline.project_id).owner_node


def _of_owner_node(user, pipeline: Pipeline) -> bool:
    return user.is_superuser or (user.node_id is not None and user.node_id == _owner_node(pipeline))


def ensure_not_read_only(user, what: str) -> None:
    """Refuse users whose role is read-only (the console's viewers: `User.is_read_only`)."""
    if getattr(user, "is_read_only", False):
        raise PermissionDenied(f"Viewers have read-only access and may not {what}.")


def replicated_from(pipeline: Pipeline) -> str | None:
    """The node a pipeline was replicated from (network mode), which alone edits it; or None.

    The console's federation app attaches the `replica` record; workflows only reads it.
    """
    replica = getattr(pipeline, "replica", None)
    return replica.origin.name if replica is not None else None


def may_edit(user, pipeline: Pipeline) -> bool:
    if getattr(user, "is_read_only", False) or replicated_from(pipeline):
        return False
    if pipeline.created_by_id is None:
        return _of_owner_node(user, pipeline)
    if user.pk == pipeline.created_by_id:
        return True
    return pipeline.editors.filter(pk=user.pk).exists()


def may_choose_editors(user, pipeline: Pipeline) -> bool:
    if getattr(user, "is_read_only", False) or replicated_from(pipeline):
        return False
    return user.pk == pipeline.created_by_id or _of_owner_node(user, pipeline)


def ensure_editor(user, pipeline: Pipeline, action: str = "change") -> None:
    origin = replicated_from(pipeline)
    if origin:
        raise NotEditor(
            f"Pipeline '{pipeline.name}' is replicated read-only from node {origin}, which owns "
            f"the project; it is edited there, so you may not {action} it here."
        )
    if not may_edit(user, pipeline):
        raise NotEditor(
            f"Only {_creator(pipeline)} and the editors they chose may {action} pipeline "
            f"'{pipeline.name}'; you can read and run it. Ask its creator or the project's "
            "owner node to add you as an editor."
        )


def ensure_may_choose_editors(user, pipeline: Pipeline) -> None:
    if not may_choose_editors(user, pipeline):
        raise NotEditor(
            f"Only {_creator(pipeline)} and the project's owner node choose who edits "
            f"pipeline '{pipeline.name}'."
        )


def _creator(pipeline: Pipeline) -> str:
    creator = pipeline.created_by
    return f"its creator {creator.get_username()}" if creator else "the project's owner node"


def set_editors(pipeline: Pipeline, users: list) -> None:
    """Replace the editors; each must belong to a member node of the project (else a
    ValidationError on `editors` naming the others)."""
    parties = set(console_port().project(pipeline.project_id).parties.values())
    outside = sorted(u.get_username() for u in users if u.node_id not in parties)
    if outside:
        message = (
            f"{', '.join(outside)} belong to no member node of the project and cannot edit "
            "its pipelines"
        )
        raise ValidationError({"editors": message}, code="invalid")
    pipeline.editors.set(users)
