"""`manage.py convert_datasets [--check]`: give every dataset its typed Arrow table now.

Datasets uploaded before uploads were converted have only their CSV; pipelines convert such a
dataset on its first use (`workflows.tabular.convert.ensure_table`), which makes that first run
slower. This command converts them all ahead of time (a data migration to run once after
upgrading), and converts again any table older than its CSV. With `--check` it only lists the
datasets that need it. A dataset whose CSV no longer matches its profile is reported by name
and left as it is; the command then exits non-zero.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from console.datasets.models import Dataset
from workflows.tabular.convert import ConversionError, ensure_table, is_current
from workflows.tabular.files import TableColumn


class Command(BaseCommand):
    help = "Convert every dataset's CSV to its typed Arrow table (once; skips current ones)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="only list what needs it")

    def handle(self, *args, **options) -> None:
        converted, failed = 0, []
        for dataset in Dataset.objects.select_related("node").order_by("pk"):
            if not dataset.path.exists() or is_current(dataset.path):
                continue
            label = f"{dataset.node.name}/{dataset.name} (#{dataset.pk})"
            if options["check"]:
                self.stdout.write(f"needs converting: {label}")
                converted += 1
                continue
            columns = [TableColumn(c["name"], c["type"]) for c in dataset.columns]
            try:
                ensure_table(dataset.path, columns, dataset.encoding)
            except ConversionError as error:
                failed.append(f"{label}: {error}")
                continue
            converted += 1
            self.stdout.write(f"converted {label}")
        verb = "need converting" if options["check"] else "converted"
        self.stdout.write(f"{converted} dataset(s) {verb}.")
        if failed:
            raise CommandError("could not convert:\n" + "\n".join(failed))
