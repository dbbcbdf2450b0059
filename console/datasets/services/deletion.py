"""Deleting a dataset (owner node only): its row, its files, and what runs derived from it here.

The row goes with its authorisations in one transaction; its CSV is first set aside
(renamed), so a failed delete puts it back and a done one leaves no file. The row-level tables
runs derived from it at its node go too (`workflows.erasure`); models and reports derived from
it are kept, and said so.
"""

from __future__ import annotations

import os

from django.db import transaction

from console.accounts.roles import ensure_may_change
from console.audit.log import Action, record
from console.datasets.access import get_dataset_for_owner
from console.datasets.models import Dataset
from workflows.actors import Actor
from workflows.erasure import Forgotten, forget_dataset


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
