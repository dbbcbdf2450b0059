"""`manage.py storage_check`: files in node storage with no database record, and files other
local users could read.

Every file under a node's storage belongs to a dataset (`datasets/...`: the uploaded CSV and
its Arrow table) or to a run's artifact
(`runs/<run>/<node>/...`). Anything else is an orphan: left by a crash between writing a file
and recording it, by a deletion interrupted half-way, or by an older version that kept files
of deleted pipelines. Orphans are listed; `--delete` removes them. Files of runs still pending
or running, and files younger than `--min-age-minutes`, are never touched: a run writes its
outputs before it records them.

`--fix-permissions` sets directories to 0700 and files to 0600 (what the server creates today)
throughout the data directory, for data written by versions that did not.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from console.datasets.models import Dataset
from workflows.models import Artifact, Run, Status

ACTIVE = (Status.PENDING, Status.RUNNING)


def recorded_files() -> set[Path]:
    """Every file a row records: each dataset's CSV and its Arrow table, each artifact."""
    root = Path(settings.NODE_STORAGE_DIR)
    files: set[Path] = set()
    for dataset in Dataset.objects.select_related("node"):
        files |= {dataset.path, dataset.table_path}
    artifacts = Artifact.objects.values_list("party", "relative_path")
    return files | {root / party / relative for party, relative in artifacts}


def active_run_dirs() -> set[str]:
    return {
        str(run_id) for run_id in Run.objects.filter(status__in=ACTIVE).values_list("id", flat=True)
    }


def find_orphans(min_age_seconds: float) -> list[Path]:
    """Files under node storage that no dataset or artifact records, oldest first."""
    root = Path(settings.NODE_STORAGE_DIR)
    if not root.exists():
        return []
    recorded, active, now = recorded_files(), active_run_dirs(), time.time()
    orphans = []
    for path in root.rglob("*"):
        if not path.is_file() or path in recorded:
            continue
        parts = path.relative_to(root).parts
        if len(parts) > 2 and parts[1] == "runs" and parts[2] in active:
            continue
        if now - path.stat().st_mtime < min_age_seconds:
            continue
        orphans.append(path)
    return sorted(orphans, key=lambda p: p.stat().st_mtime)


def loose_permissions(top: Path) -> list[Path]:
    """Paths under `top` (included) that the group or other users may access."""
    paths = [top, *top.rglob("*")] if top.exists() else []
    return [
        p for p in paths if not p.is_symlink() and p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


def tighten(path: Path) -> None:
    os.chmod(path, 0o700 if path.is_dir() else 0o600)


def remove_empty_run_dirs(root: Path) -> None:
    """Run folders (`<node>/runs/<run>/<node id>/`) left empty once their orphans are gone."""
    for directory in sorted(root.glob("*/runs/**/"), key=lambda p: len(p.parts), reverse=True):
        if directory.name != "runs" and not any(directory.iterdir()):
            directory.rmdir()


class Command(BaseCommand):
    help = "List (and with --delete remove) files in node storage that no database row records."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true", help="Remove the orphans found.")
        parser.add_argument(
            "--min-age-minutes",
            type=float,
            default=60,
            help="Leave files younger than this alone (default 60).",
        )
        parser.add_argument(
            "--fix-permissions",
            action="store_true",
            help="Set directories to 0700 and files to 0600 under the data directory.",
        )

    def handle(self, *args, delete: bool, min_age_minutes: float, fix_permissions: bool, **kw):
        orphans = find_orphans(min_age_minutes * 60)
        size = sum(path.stat().st_size for path in orphans)
        for path in orphans:
            self.stdout.write(f"orphan: {path}")
            if delete:
                path.unlink()
        verb = "Removed" if delete else "Found"
        self.stdout.write(f"{verb} {len(orphans)} orphan file(s), {size:,} bytes.")
        if delete and orphans:
            remove_empty_run_dirs(Path(settings.NODE_STORAGE_DIR))
        loose = loose_permissions(Path(settings.DATA_DIR))
        if fix_permissions:
            for path in loose:
                tighten(path)
            self.stdout.write(f"Tightened the permissions of {len(loose)} path(s).")
        elif loose:
            self.stdout.write(
                f"{len(loose)} path(s) readable by other local users: run with --fix-permissions."
            )
