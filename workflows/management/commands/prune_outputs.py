"""`manage.py prune_outputs [--keep N] [--dry-run]`: apply the run-output retention policy.

Removes the table outputs of every pipeline's runs older than its last N (default: the
`PRIVPAD_KEEP_RUNS` setting), keeping models, reports and outputs that kept runs reuse
(`workflows.retention`). Prints what was (or, with --dry-run, would be) removed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflows.retention import prune_all


class Command(BaseCommand):
    help = "Remove table outputs of old runs (keep each pipeline's last N runs whole)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--keep", type=int, default=None, help="runs to keep per pipeline (default: setting)"
        )
        parser.add_argument("--dry-run", action="store_true", help="only say what would go")

    def handle(self, *args, **options) -> None:
        keep = settings.PRIVPAD_KEEP_RUNS if options["keep"] is None else options["keep"]
        if keep < 1:
            raise CommandError(
                f"--keep must be at least 1 (got {keep}); PRIVPAD_KEEP_RUNS=0 means keep all"
            )
        pruned = prune_all(keep, dry_run=options["dry_run"])
        verb = "Would remove" if options["dry_run"] else "Removed"
        self.stdout.write(
            f"{verb} {pruned.artifacts} table output(s), {pruned.bytes} bytes, of "
            f"{len(pruned.runs)} run(s); kept the last {keep} run(s) of every pipeline."
        )
