"""Who may see what of a dataset.

- The owning node's users see everything: schema, preview rows, authorisations.
- Users of another node see a dataset's schema and column roles only while it is authorised
  (not revoked) to a project their node belongs to; never rows, never its storage path. Its
  null counts are counts of the owner's rows: they see them only as aggregates may leave their
  owner (the dataset has at least k rows, `PRIVPAD_DISCLOSURE_MIN_ROWS`), and never for a
  column that is protected (`columns_for`).
- Everyone else gets 404, exactly as if the dataset did not exist; such attempts are audited.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from console.audit.log import record_refused_lookup
from console.datasets.models import Authorization, Dataset
from workflows.actors import Actor


def datasets_visible_to(user) -> QuerySet[Dataset]:
    datasets = Dataset.objects.select_related("node")
    if not user.is_authenticated or user.node_id is None:
        return datasets.none()
    shared = Q(
        authorizations__revoked_at__isnull=True,
        authorizations__project__memberships__node_id=user.node_id,
    )
    return datasets.filter(Q(node_id=user.node_id) | shared).distinct()


def columns_for(dataset: Dataset, node_id: int | None, roles: Iterable[dict]) -> list[dict]:
    """The dataset's columns as users of node `node_id` may read them: every null count for
    the owner; for another node, a column's null count only if the column is usable (not
    protected) in one of `roles` (the column roles of the authorisations it sees) and the
    dataset has at least k rows, else None."""
    if dataset.node_id == node_id:
        return dataset.columns
    usable = {name for mapping in roles for name, role in mapping.items() if role != "protected"}
    enough = (dataset.row_count or 0) >= settings.PRIVPAD_DISCLOSURE_MIN_ROWS
    return [
        column | {"nulls": column.get("nulls") if enough and column["name"] in usable else None}
        for column in dataset.columns
    ]


def active_authorizations(dataset: Dataset) -> QuerySet[Authorization]:
    return dataset.authorizations.filter(revoked_at__isnull=True).select_related("project")


def _deny(actor: Actor, pk, dataset: Dataset | None, reason: str) -> None:
    """Answer 404, audited (for the dataset's owner when it exists: `record_refused_lookup`)."""
    owner = dataset.node if dataset is not None else None
    record_refused_lookup(actor, "dataset", pk, dataset, owner, reason)
    raise Http404(_("No such dataset."))


def get_dataset_for_user(actor: Actor, pk) -> Dataset:
    """The dataset if the user may see at least its schema; 404 (audited) otherwise."""
    if not str(pk).isdigit():
        raise Http404(_("No such dataset."))
    dataset = datasets_visible_to(actor).filter(pk=pk).first()
    if dataset is None:
        hidden = Dataset.objects.filter(pk=pk).first()
        _deny(actor, pk, hidden, "dataset not shared with the node")
    return dataset


def get_dataset_for_owner(actor: Actor, pk) -> Dataset:
    """The dataset if the user's node owns it (preview, delete, authorise); 404 otherwise."""
    dataset = get_dataset_for_user(actor, pk)
    if dataset.node_id != actor.node_id:
        _deny(actor, pk, dataset, "only the owning node may do this")
    return dataset


def authorizations_visible_to(user) -> QuerySet[Authorization]:
    """Authorisations of the node's datasets, and active ones on projects the node is in."""
    authorizations = Authorization.objects.select_related(
        "dataset__node", "project", "granted_by", "revoked_by", "superseded_by"
    )
    if not user.is_authenticated or user.node_id is None:
        return authorizations.none()
    shared = Q(revoked_at__isnull=True, project__memberships__node_id=user.node_id)
    return authorizations.filter(Q(dataset__node_id=user.node_id) | shared).distinct()


def get_authorization_for_user(actor: Actor, pk) -> Authorization:
    """The authorisation if visible to the actor's node; 404 (audited if it exists) otherwise."""
    authorization = authorizations_visible_to(actor).filter(pk=pk).first()
    if authorization is None:
        hidden = Authorization.objects.select_related("dataset__node").filter(pk=pk).first()
        owner = hidden.dataset.node if hidden is not None else None
        reason = "authorisation not visible to the node"
        record_refused_lookup(actor, "authorization", pk, hidden, owner, reason)
        raise Http404(_("No such authorisation."))
    return authorization
