"""Authorising a dataset to a project, changing its column roles, revoking it (owner node only).

- A dataset is authorised only to a project its node belongs to; authorising it and
  changing its roles need the project active (not archived).
- One active authorisation per dataset and project. Authorising again is refused; the roles
  are changed by `update_column_roles`, which makes a new version of the authorisation and
  closes the old one (kept for history), so every grant of roles is its own audited record.
- Revoking is the owner's right even in an archived project: withdrawing consent must not
  depend on the project being editable. Runs reading the dataset stop at their next progress
  point (`workflows.revocation`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.accounts.roles import ensure_may_change
from console.audit.log import Action, record
from console.datasets.access import get_dataset_for_owner
from console.datasets.models import Authorization, Dataset
from console.datasets.services.column_roles import clean_column_roles
from console.datasets.services.errors import field_error
from console.projects.services import ensure_active
from workflows import revocation
from workflows.actors import Actor
from workflows.messages import translatable

# Fields a new version of an authorisation does not copy from the one it supersedes; every
# other field (standing policies, for instance) carries over unchanged.
VERSION_OWN_FIELDS = frozenset(
    {"id", "column_roles", "granted_by", "created_at", "revoked_at", "revoked_by"}
    | {"version", "supersedes"}
)


def authorize_dataset(actor: Actor, dataset: Dataset, project, column_roles: dict) -> Authorization:
    """Authorise the dataset to a project its node belongs to, with a role per column."""
    ensure_may_change(actor, "authorise datasets")
    dataset = get_dataset_for_owner(actor, dataset.pk)
    if not project.has_member(dataset.node):
        raise field_error(
            "project",
            _(
                "Node '%(node)s' is not a member of project '%(project)s'; a dataset can only be "
                "authorised to its node's projects."
            )
            % {"node": dataset.node.name, "project": project.name},
            "not_member",
        )
    ensure_active(project)
    roles = clean_column_roles(dataset, column_roles)
    existing = _active_authorization(dataset, project)
    if existing is not None:
        raise ValidationError(_already_authorized(dataset, project, existing), code="duplicate")
    try:
        with transaction.atomic():
            authorization = Authorization.objects.create(
                dataset=dataset, project=project, column_roles=roles, granted_by=actor.user
            )
    except IntegrityError:
        existing = _active_authorization(dataset, project)
        raise ValidationError(
            _already_authorized(dataset, project, existing), code="duplicate"
        ) from None
    record(
        actor,
        Action.AUTHORIZE,
        target=authorization,
        node=dataset.node,
        project=project.pk,
        roles=_role_counts(roles),
    )
    return authorization


def _active_authorization(dataset: Dataset, project) -> Authorization | None:
    return Authorization.objects.filter(
        dataset=dataset, project=project, revoked_at__isnull=True
    ).first()


def _already_authorized(dataset, project, existing: Authorization | None) -> str:
    which = _(" (authorisation #%(id)s)") % {"id": existing.pk} if existing is not None else ""
    return _(
        "Dataset '%(dataset)s' is already authorised to project '%(project)s'%(which)s; edit "
        "that authorisation's column roles instead."
    ) % {"dataset": dataset.name, "project": project.name, "which": which}


def update_column_roles(actor: Actor, authorization: Authorization, column_roles) -> Authorization:
    """Change the roles of an active authorisation (owner node only, active project): a new
    version supersedes it; the old version is closed and kept. Returns the new version."""
    ensure_may_change(actor, "change column roles")
    dataset = get_dataset_for_owner(actor, authorization.dataset_id)
    ensure_active(authorization.project)
    roles = clean_column_roles(dataset, column_roles)
    with transaction.atomic():
        current = Authorization.objects.select_for_update().get(pk=authorization.pk)
        if current.revoked_at is not None:
            raise ValidationError(inactive_reason(current, dataset), code="not_active")
        if current.column_roles == roles:
            raise field_error(
                "column_roles",
                _("These are already the roles of this authorisation; change at least one."),
                "unchanged",
            )
        current.revoked_at, current.revoked_by = timezone.now(), actor.user
        current.save(update_fields=["revoked_at", "revoked_by"])
        new = Authorization(
            **{
                field.attname: getattr(current, field.attname)
                for field in Authorization._meta.concrete_fields
                if field.name not in VERSION_OWN_FIELDS
            },
            column_roles=roles,
            granted_by=actor.user,
            version=current.version + 1,
            supersedes=current,
        )
        new.save()
    record(
        actor,
        Action.AUTHORIZE,
        target=new,
        node=dataset.node,
        project=new.project_id,
        version=new.version,
        supersedes=current.pk,
        changed=_changed_roles(current.column_roles, roles),
    )
    return new


def inactive_reason(authorization: Authorization, dataset: Dataset) -> str:
    """Why an authorisation can no longer be changed: replaced by a newer version, or revoked."""
    successor = authorization.successor
    if successor is not None:
        return _(
            "Authorisation #%(id)s of dataset '%(dataset)s' was replaced by version %(version)s "
            "(#%(successor)s); edit that one."
        ) % {
            "id": authorization.pk,
            "dataset": dataset.name,
            "version": successor.version,
            "successor": successor.pk,
        }
    return _(
        "Authorisation #%(id)s of dataset '%(dataset)s' is revoked; authorise the dataset "
        "again instead."
    ) % {"id": authorization.pk, "dataset": dataset.name}


def _changed_roles(old: dict[str, str], new: dict[str, str]) -> dict[str, list]:
    return {name: [old.get(name), role] for name, role in new.items() if old.get(name) != role}


def _role_counts(roles: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for role in roles.values():
        counts[role] = counts.get(role, 0) + 1
    return counts


def revoke_authorization(actor: Actor, authorization: Authorization) -> Authorization:
    """Withdraw an authorisation (owner node only); members stop seeing the dataset."""
    ensure_may_change(actor, "revoke authorisations")
    dataset = get_dataset_for_owner(actor, authorization.dataset_id)
    with transaction.atomic():
        current = Authorization.objects.select_for_update().get(pk=authorization.pk)
        if current.revoked_at is not None and current.successor is not None:
            raise ValidationError(inactive_reason(current, dataset), code="superseded")
        if current.revoked_at is not None:
            when = timezone.localtime(current.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
            raise ValidationError(
                _(
                    "Authorisation #%(id)s of dataset '%(dataset)s' to project '%(project)s' was "
                    "already revoked on %(when)s."
                )
                % {
                    "id": current.pk,
                    "dataset": dataset.name,
                    "project": current.project.name,
                    "when": when,
                },
                code="already_revoked",
            )
        current.revoked_at = timezone.now()
        current.revoked_by = actor.user
        current.save(update_fields=["revoked_at", "revoked_by"])
        # Runs reading the dataset stop at their next progress point (after the commit).
        revocation.dataset_withdrawn(
            current.project_id,
            dataset.pk,
            translatable(
                "%(node)s revoked the authorisation of dataset '%(dataset)s'",
                node=dataset.node.name,
                dataset=dataset.name,
            ),
        )
    authorization.revoked_at, authorization.revoked_by = current.revoked_at, current.revoked_by
    record(
        actor,
        Action.REVOKE,
        target=authorization,
        node=dataset.node,
        project=authorization.project_id,
    )
    return authorization
