"""Dataset use cases shared by the pages and the REST API: upload, delete, preview, authorise.

Each function takes the actor first (`workflows.actors.Actor`: who acts, for the access checks
and the audit log) and raises `django.core.exceptions.ValidationError` with a message naming
the problem, or `Http404` (via `console.datasets.access`, audited) when the actor's node may not
touch the object.

Invariants:
- An upload either ends as one Dataset row plus two files in the owning node's storage, the
  CSV as uploaded `datasets/<uuid>.csv` and its typed table `datasets/<uuid>.arrow` (converted
  once, here, with the profile's types: pipelines read the table, never the CSV), or leaves
  none of them, nor any temporary file; failures are audited as `failed`.
- Rows are read back only by `preview`, only for users of the owning node, and audited.
- One active authorisation per dataset and project. Authorising again is refused; the roles
  are changed by `update_column_roles`, which makes a new version of the authorisation and
  closes the old one (kept for history), so every grant of roles is its own audited record.
- Roles are suggested from the file (`suggested_roles`, owner only) and pre-filled on the form;
  the owner confirms them. Roles without an ID column or a label carry warnings
  (`role_suggestions.role_warnings`): the page asks the owner to confirm, the API answers them
  in the authorisation's `warnings` field.
- Revoking is the owner's right even in an archived project: withdrawing consent must not
  depend on the project being editable.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.accounts.roles import ensure_may_change
from console.audit.log import Action, Outcome, record
from console.datasets.access import get_dataset_for_owner
from console.datasets.models import Authorization, Dataset
from console.datasets.role_suggestions import Suggestion, candidates, scan_facts, suggest_roles
from console.datasets.schema import CsvError, pandas_read_options, profile_csv, read_rows
from console.datasets.uploads import limit_message
from console.projects.services import ensure_active
from workflows import revocation
from workflows.actors import Actor
from workflows.erasure import Forgotten, forget_dataset
from workflows.messages import translatable
from workflows.tabular.convert import ConversionError, convert_csv, table_path
from workflows.tabular.files import TableColumn, stored_metadata

NAME_MAX_LENGTH = Dataset._meta.get_field("name").max_length
FILENAME_MAX_LENGTH = Dataset._meta.get_field("original_filename").max_length
DESCRIPTION_MAX_LENGTH = 5000
ROLES = tuple(Authorization.Role.values)
# Fields a new version of an authorisation does not copy from the one it supersedes; every
# other field (standing policies, for instance) carries over unchanged.
VERSION_OWN_FIELDS = frozenset(
    {"id", "column_roles", "granted_by", "created_at", "revoked_at", "revoked_by"}
    | {"version", "supersedes"}
)
logger = logging.getLogger(__name__)


def field_error(field: str, message: str, code: str) -> ValidationError:
    """An error attached to a form/API field that keeps its code (a plain dict drops it)."""
    return ValidationError({field: ValidationError(message, code=code)})


# --- Upload ---------------------------------------------------------------------------------


def create_dataset(actor: Actor, uploaded_file, name: str, description: str = "") -> Dataset:
    """Profile the uploaded CSV and store it in the user's node; audited either way."""
    actor.require_user("upload datasets")
    ensure_may_change(actor, "upload datasets")
    staged: Path | None = None
    try:
        node = _node_of(actor)
        client_name = _clean_upload(uploaded_file)
        name = _clean_name(node, name)
        description = _clean_description(description)
        staged = _stage(uploaded_file)
        profile = _profile(staged)
        _convert(staged, profile, node)
        dataset = _store(actor, node, staged, client_name, name, description, profile)
    except Exception as error:
        _audit_failed_upload(actor, uploaded_file, name, error)
        raise
    finally:
        _discard(uploaded_file, staged)
        if staged is not None:
            table_path(staged).unlink(missing_ok=True)
    record(
        actor,
        Action.UPLOAD,
        target=dataset,
        node=dataset.node,
        rows=dataset.row_count,
        columns=len(dataset.columns),
        size_bytes=dataset.size_bytes,
    )
    return dataset


def _node_of(actor: Actor):
    if not actor.is_authenticated or actor.node_id is None:
        raise ValidationError(
            _("Only users of a node can upload datasets; your account belongs to no node."),
            code="no_node",
        )
    return actor.node


def _clean_name(node, name) -> str:
    name = str(name or "").strip()
    if not name:
        raise field_error("name", _("A dataset needs a name."), "required")
    if len(name) > NAME_MAX_LENGTH:
        raise field_error(
            "name",
            _("The name is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(name), "limit": NAME_MAX_LENGTH},
            "max_length",
        )
    if Dataset.objects.filter(node=node, name__iexact=name).exists():
        raise field_error("name", _name_taken(node, name), "duplicate_name")
    return name


def _name_taken(node, name: str) -> str:
    return _("Node '%(node)s' already has a dataset named '%(name)s'; choose another name.") % {
        "node": node.name,
        "name": name,
    }


def _clean_description(description) -> str:
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise field_error(
            "description",
            _("The description is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(description), "limit": DESCRIPTION_MAX_LENGTH},
            "max_length",
        )
    return description


def _clean_upload(uploaded_file) -> str:
    """The client's file name, once the upload is known to be present and within limits."""
    if uploaded_file is None:
        raise field_error("file", _("Choose a CSV file to upload."), "required")
    rejection = getattr(uploaded_file, "rejection", None)
    if rejection:
        raise field_error("file", rejection, "file_too_large")
    if uploaded_file.size is not None and uploaded_file.size > settings.PRIVPAD_UPLOAD_MAX_BYTES:
        raise field_error("file", limit_message(uploaded_file.size), "file_too_large")
    name = getattr(uploaded_file, "client_name", None) or uploaded_file.name or ""
    check_file_name(name)
    return name


def check_file_name(name: str) -> None:
    """Refuse names that are paths or carry control characters: they name nothing safely."""
    problem = None
    if not name.strip():
        problem = _("is empty")
    elif "/" in name or "\\" in name:
        problem = _("contains a path separator (/ or \\)")
    elif ".." in name:
        problem = _("contains '..'")
    elif any(ord(char) < 32 or 127 <= ord(char) < 160 for char in name):
        problem = _("contains a control character")
    elif len(name) > FILENAME_MAX_LENGTH:
        problem = _("is longer than %(limit)s characters") % {"limit": FILENAME_MAX_LENGTH}
    if problem:
        raise field_error(
            "file",
            _("The file name %(name)r %(problem)s; upload a plain file name like data.csv.")
            % {"name": name, "problem": problem},
            "invalid_file_name",
        )


def _stage(uploaded_file) -> Path:
    """A path under UPLOAD_TEMP_DIR holding the upload: its own temporary file when it has
    one there, else a copy written chunk by chunk (uploads made without the HTTP handler)."""
    temp_dir = Path(settings.UPLOAD_TEMP_DIR).resolve()
    if hasattr(uploaded_file, "temporary_file_path"):
        path = Path(uploaded_file.temporary_file_path()).resolve()
        if path.parent == temp_dir:
            uploaded_file.flush()
            return path
    temp_dir.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix="stage-", suffix=".part", dir=temp_dir)
    written = 0
    with os.fdopen(descriptor, "wb") as out:
        for chunk in uploaded_file.chunks():
            written += len(chunk)
            out.write(chunk)
            if written > settings.PRIVPAD_UPLOAD_MAX_BYTES:
                raise field_error("file", limit_message(), "file_too_large")
    return Path(name)


def _profile(path: Path):
    try:
        return profile_csv(path, max_columns=settings.PRIVPAD_DATASET_MAX_COLUMNS)
    except CsvError as error:
        raise field_error("file", str(error), "invalid_csv") from None


def _convert(staged: Path, profile, node) -> None:
    """Write the staged CSV's typed table next to it (`table_path(staged)`)."""
    columns = [TableColumn(column.name, column.type) for column in profile.columns]
    try:
        convert_csv(
            staged,
            table_path(staged),
            columns,
            encoding=profile.encoding,
            delimiter=profile.delimiter,
            extra={"party": node.name, "sha256": profile.sha256},
        )
    except ConversionError as error:
        raise field_error(
            "file",
            _("The file could not be read as profiled: %(error)s.") % {"error": error},
            "invalid_csv",
        ) from None


def _store(actor: Actor, node, staged: Path, client_name, name, description, profile) -> Dataset:
    """Create the row and move the files in one step; on any failure none remains."""
    relative = f"datasets/{uuid.uuid4().hex}.csv"
    target = node.ensure_storage() / relative
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                node=node,
                name=name,
                description=description,
                original_filename=client_name,
                relative_path=relative,
                size_bytes=profile.size_bytes,
                sha256=profile.sha256,
                encoding=profile.encoding,
                row_count=profile.row_count,
                columns=[column.as_dict() for column in profile.columns],
                uploaded_by=actor.user,
            )
            move_file(staged, target)
            # Second: a table newer than its CSV is known to be current (`ensure_table`).
            move_file(table_path(staged), table_path(target))
    except IntegrityError:
        _remove(target)
        raise field_error("name", _name_taken(node, name), "duplicate_name") from None
    except BaseException:
        _remove(target)
        raise
    return dataset


def _remove(target: Path) -> None:
    target.unlink(missing_ok=True)
    table_path(target).unlink(missing_ok=True)


def move_file(source: Path, target: Path) -> None:
    """Atomically put `source` at `target`, also across filesystems (copy, then rename)."""
    try:
        os.replace(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        partial = target.with_name(f".{target.name}.part")
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        source.unlink(missing_ok=True)
    os.chmod(target, 0o600)


def _discard(uploaded_file, staged: Path | None) -> None:
    """Remove whatever of the upload is left in the temporary directory."""
    if uploaded_file is not None:
        with contextlib.suppress(OSError, ValueError):
            uploaded_file.close()
    if staged is not None:
        staged.unlink(missing_ok=True)


def _audit_failed_upload(actor: Actor, uploaded_file, name, error: Exception) -> None:
    if isinstance(error, ValidationError):
        reason = " ".join(error.messages)
    else:
        reason = f"internal error: {type(error).__name__}"
    client_name = getattr(uploaded_file, "client_name", None) or getattr(uploaded_file, "name", "")
    record(
        actor,
        Action.UPLOAD,
        outcome=Outcome.FAILED,
        name=str(name or "")[:NAME_MAX_LENGTH],
        file=str(client_name or "")[:FILENAME_MAX_LENGTH],
        reason=reason[:500],
    )


# --- Delete and preview ---------------------------------------------------------------------


def delete_dataset(actor: Actor, dataset: Dataset) -> Forgotten:
    """Remove the dataset's row (its authorisations go with it), its file and the row-level
    tables runs derived from it at its node (`workflows.erasure`); owner only.

    Returns what went and what was kept (models and reports derived from it), also audited.
    """
    ensure_may_change(actor, "delete datasets")
    dataset = get_dataset_for_owner(actor, dataset.pk)
    path = dataset.path
    parked = path.with_name(f".{path.name}.deleting")
    had_file = path.exists()
    if had_file:
        os.replace(path, parked)
    dataset_id = dataset.pk
    try:
        with transaction.atomic():
            dataset.delete()
    except BaseException:
        if had_file:
            os.replace(parked, path)
        raise
    parked.unlink(missing_ok=True)
    dataset.table_path.unlink(missing_ok=True)
    dataset.pk = dataset_id
    forgotten = forget_dataset(dataset_id, dataset.node_id)
    record(
        actor,
        Action.DELETE,
        target=dataset,
        node=dataset.node,
        file_found=had_file,
        derived_files_deleted=forgotten.deleted_files,
        derived_outputs_kept=forgotten.kept[:50],
    )
    return forgotten


def preview(actor: Actor, dataset: Dataset, limit: int | None = None) -> dict:
    """The first rows of the dataset for users of its node (audited); 404 for anyone else."""
    dataset = get_dataset_for_owner(actor, dataset.pk)
    limit = settings.PRIVPAD_PREVIEW_ROWS if limit is None else max(0, int(limit))
    limit = min(limit, settings.PRIVPAD_PREVIEW_ROWS)
    try:
        _header, rows = read_rows(dataset.path, dataset.encoding, limit, delimiter_of(dataset))
    except FileNotFoundError:
        raise ValidationError(
            _("The file of dataset '%(dataset)s' is missing from the node's storage.")
            % {"dataset": dataset.name},
            code="file_missing",
        ) from None
    record(actor, Action.PREVIEW, target=dataset, node=dataset.node, rows=len(rows))
    return {
        "columns": dataset.column_names,
        "rows": rows,
        "row_count": dataset.row_count,
        "truncated": dataset.row_count > len(rows),
    }


def delimiter_of(dataset: Dataset) -> str:
    """The delimiter recorded in the dataset's table (datasets older than tables: comma)."""
    if not dataset.table_path.exists():
        return ","
    return stored_metadata(dataset.table_path).get("delimiter", ",")


# --- Authorisations -------------------------------------------------------------------------


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


def clean_column_roles(dataset: Dataset, column_roles) -> dict[str, str]:
    """A role for every column in file order: given ones checked, missing ones `feature`."""
    if column_roles is None:
        column_roles = {}
    if not isinstance(column_roles, dict):
        raise field_error(
            "column_roles",
            _("Column roles must be an object mapping column names to roles."),
            "invalid",
        )
    names = dataset.column_names
    unknown = [str(column) for column in column_roles if column not in names]
    if unknown:
        listed = ", ".join(repr(column) for column in unknown)
        raise field_error(
            "column_roles",
            _("Dataset '%(dataset)s' has no column %(columns)s.")
            % {"dataset": dataset.name, "columns": listed},
            "unknown_column",
        )
    bad = {column: role for column, role in column_roles.items() if role not in ROLES}
    if bad:
        listed = ", ".join(
            _("%(role)r for %(column)r") % {"role": role, "column": column}
            for column, role in bad.items()
        )
        raise field_error(
            "column_roles",
            _("Unknown role %(roles)s; roles are %(choices)s.")
            % {"roles": listed, "choices": ", ".join(ROLES)},
            "invalid_role",
        )
    return {name: column_roles.get(name, Authorization.Role.FEATURE.value) for name in names}


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


def suggested_roles(dataset: Dataset) -> dict[str, Suggestion]:
    """A suggested role per column from the file (callers check the user owns the dataset).

    Reads only the columns named like an ID or a target. A file that cannot be read as
    profiled gives no ID or label suggestion (logged), never an error: suggestions are help.
    """
    names = candidates(dataset.columns)
    try:
        facts = scan_facts(dataset.path, names, pandas_read_options(dataset.encoding))
    except (OSError, ValueError) as error:
        logger.warning("no role suggestions for dataset %s: %s", dataset.pk, error)
        facts = {}
    return suggest_roles(dataset.columns, facts)


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
