"""Reading a dataset's rows back: only `preview`, only for users of the owning node, audited.

Anyone else gets 404 (`console.datasets.access`), as if the dataset did not exist. At most
PRIVPAD_PREVIEW_ROWS rows are read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from console.audit.log import Action, record
from console.datasets.access import get_dataset_for_owner
from console.datasets.models import Dataset
from console.datasets.schema import read_rows
from workflows.actors import Actor
from workflows.tabular.files import stored_metadata


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
