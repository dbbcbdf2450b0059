"""Retention of run outputs: old runs' tables are removed, results people refer to are kept.

Policy, per pipeline: the outputs of its last `keep` runs (newest first, by creation) are kept
whole, and so are the outputs of runs still pending or running. Of older runs, the *table*
outputs (files and their artifact rows) are removed; kept whatever the age:
- models, fitted rules and reports: the results users look at, download and apply again, and
  small;
- every output that a kept run still uses through reuse (`NodeRun.reused_from`): a kept run's
  model may be the output of an older run, and so may the table it was trained on.
Run rows, node rows, logs and communication figures always stay: the history of what ran is
not shortened, only the bulky intermediate data behind it.

The setting `PRIVPAD_KEEP_RUNS` (0: keep everything) applies after every run of a pipeline;
`manage.py prune_outputs` applies it (or `--keep N`) to every pipeline, with `--dry-run` to
see what would go.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from workflows.models import Artifact, NodeRun, Pipeline, Run, Status

logger = logging.getLogger(__name__)
KEPT_KINDS = ("model", "report", "rule")


@dataclass
class Pruned:
    """What a pruning removed (or, in a dry run, would remove)."""

    artifacts: int = 0
    bytes: int = 0
    runs: set[int] = field(default_factory=set)

    def add(self, other: Pruned) -> None:
        self.artifacts += other.artifacts
        self.bytes += other.bytes
        self.runs |= other.runs


def prunable(pipeline: Pipeline, keep: int):
    """The table artifacts of `pipeline` that the policy removes, as a queryset."""
    runs = Run.objects.filter(pipeline=pipeline).order_by("-created_at", "-id")
    kept = list(runs.values_list("id", flat=True)[:keep])
    active = runs.filter(status__in=(Status.PENDING, Status.RUNNING)).values_list("id", flat=True)
    kept_runs = set(kept) | set(active)
    referenced = NodeRun.objects.filter(
        run_id__in=kept_runs, reused_from__isnull=False
    ).values_list("reused_from_id", flat=True)
    return (
        Artifact.objects.filter(node_run__run__pipeline=pipeline)
        .exclude(node_run__run_id__in=kept_runs)
        .exclude(node_run_id__in=list(referenced))
        .exclude(kind__in=KEPT_KINDS)
        .select_related("node_run")
    )


def prune_pipeline(pipeline: Pipeline, keep: int, dry_run: bool = False) -> Pruned:
    """Apply the policy to one pipeline, keeping its last `keep` runs whole."""
    pruned = Pruned()
    if keep <= 0:
        return pruned
    for artifact in prunable(pipeline, keep):
        pruned.artifacts += 1
        pruned.bytes += artifact.size_bytes
        pruned.runs.add(artifact.node_run.run_id)
        if not dry_run:
            _remove(artifact)
    return pruned


def _remove(artifact: Artifact) -> None:
    """Delete the row first, then the file: a crash in between leaves an orphan file (found
    again by nobody, harmless) rather than a row pointing at nothing."""
    path = artifact.path
    with transaction.atomic():
        artifact.delete()
    path.unlink(missing_ok=True)
    _remove_empty(path.parent, stop=Path(settings.NODE_STORAGE_DIR))


def _remove_empty(directory: Path, stop: Path) -> None:
    """Remove `directory` and its parents while empty, up to the storage root."""
    while directory != stop and stop in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def prune_all(keep: int, dry_run: bool = False) -> Pruned:
    total = Pruned()
    for pipeline in Pipeline.objects.all():
        total.add(prune_pipeline(pipeline, keep, dry_run))
    return total


def apply_after_run(run: Run) -> None:
    """The configured policy, applied to a run's pipeline once the run has finished; a failure
    is logged, never raised: pruning must not change how a run ended."""
    keep = settings.PRIVPAD_KEEP_RUNS
    if keep <= 0:
        return
    try:
        pruned = prune_pipeline(run.pipeline, keep)
    except Exception:  # noqa: BLE001 - logged; the run's own outcome stands
        logger.exception("Pruning old outputs of pipeline %s failed", run.pipeline_id)
        return
    if pruned.artifacts:
        logger.info(
            "Removed %s old table output(s) (%s bytes) of runs %s of pipeline %s",
            pruned.artifacts,
            pruned.bytes,
            sorted(pruned.runs),
            run.pipeline_id,
        )
