"""Uploading a dataset: the CSV profiled, converted once to its typed table, and stored.

An upload either ends as one Dataset row plus two files in the owning node's storage, the CSV
as uploaded `datasets/<uuid>.csv` and its typed table `datasets/<uuid>.arrow` (converted once,
here, with the profile's types: pipelines read the table, never the CSV), or leaves none of
them, nor any temporary file; failures are audited as `failed`.

What the upload must be is checked first (`upload_checks`). The file is then staged under
UPLOAD_TEMP_DIR (the streaming handler, `console.datasets.uploads`, wrote it there already;
an upload made without it is copied there) and moved into the node's storage by a rename (a
copy, then a rename, across filesystems).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from console.accounts.roles import ensure_may_change
from console.audit.log import Action, Outcome, record
from console.datasets.models import Dataset
from console.datasets.schema import CsvError, profile_csv
from console.datasets.services.errors import field_error
from console.datasets.services.upload_checks import (
    FILENAME_MAX_LENGTH,
    NAME_MAX_LENGTH,
    clean_description,
    clean_name,
    clean_upload,
    name_taken,
    uploader_node,
)
from console.datasets.uploads import limit_message
from workflows.actors import Actor
from workflows.tabular.convert import ConversionError, convert_csv, table_path
from workflows.tabular.files import TableColumn


def create_dataset(actor: Actor, uploaded_file, name: str, description: str = "") -> Dataset:
    """Profile the uploaded CSV and store it in the user's node; audited either way."""
    actor.require_user("upload datasets")
    ensure_may_change(actor, "upload datasets")
    staged: Path | None = None
    try:
        node = uploader_node(actor)
        client_name = clean_upload(uploaded_file)
        name = clean_name(node, name)
        description = clean_description(description)
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
        raise field_error("name", name_taken(node, name), "duplicate_name") from None
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
