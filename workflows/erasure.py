"""What a dataset's deletion takes with it: the row-level copies runs derived from it.

A run's read/dataset node copies the table into the run's folders, and every table output
downstream of it (split, filled, scaled, predictions...) holds rows derived from it. When the
dataset's owner deletes the dataset, those tables go too, at the owner's node: their files
and their artifact rows. Models and reports downstream are kept: they hold aggregates
(coefficients, statistics, curves) that a retained model or report needs, not rows; the owner
is told how many were kept (`Forgotten.kept`). Other parties' outputs are theirs and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from workflows.components.schema import PortType
from workflows.graph import GraphFormatError, parse_graph
from workflows.models import Artifact, Run

READ_DATASET = "read/dataset"
ROW_LEVEL_KINDS = frozenset(kind.value for kind in PortType if kind.is_table)


@dataclass
class Forgotten:
    deleted_files: int = 0
    deleted_bytes: int = 0
    kept: list[str] = field(default_factory=list)  # "run 3: train.model" for each kept one


def _derived_nodes(run: Run, dataset_id: int) -> set[str]:
    """Node ids of `run` that read the dataset or lie downstream of such a node."""
    try:
        graph = parse_graph(run.snapshot)
    except GraphFormatError:
        return set()
    readers = [
        node.id
        for node in graph.nodes.values()
        if node.component.split(":")[0] == READ_DATASET and node.params.get("dataset") == dataset_id
    ]
    return set().union(*(graph.reachable(reader, downstream=True) for reader in readers))


def forget_dataset(dataset_id: int, owner_node_id: int) -> Forgotten:
    """Delete the owner's row-level artifacts derived from the dataset; list the kept ones."""
    result = Forgotten()
    for run in Run.objects.only("id", "snapshot").iterator():
        nodes = _derived_nodes(run, dataset_id)
        if not nodes:
            continue
        artifacts = Artifact.objects.filter(
            node_run__run=run, node_run__node_id__in=nodes, owner_node_id=owner_node_id
        ).select_related("node_run")
        for artifact in artifacts:
            if artifact.kind in ROW_LEVEL_KINDS:
                _delete(artifact, result)
            else:
                result.kept.append(f"run {run.pk}: {artifact.node_run.node_id}.{artifact.port}")
    return result


def _delete(artifact: Artifact, result: Forgotten) -> None:
    path = artifact.path
    with transaction.atomic():
        artifact.delete()
    if path.exists():
        result.deleted_bytes += path.stat().st_size
        path.unlink()
        result.deleted_files += 1
