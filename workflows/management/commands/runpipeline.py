"""`manage.py runpipeline <pipeline id | file.json>`: run a pipeline from the terminal.

A saved pipeline is given by id; an exported JSON document is imported into `--project` first.
The run executes in this process with a progress bar per node; the command exits non-zero when
the pipeline is invalid, lacks a data owner's approval of what it discloses, or the run does
not succeed.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workflows import events, services
from workflows.disclosure import consent
from workflows.executor import execute_run
from workflows.graph import GraphFormatError, Scope
from workflows.messages import render
from workflows.models import Pipeline, Run, Status
from workflows.recovery import recover_interrupted_runs

BAR_WIDTH = 24


def bar(percent: int) -> str:
    filled = round(BAR_WIDTH * percent / 100)
    return "#" * filled + "-" * (BAR_WIDTH - filled)


class Command(BaseCommand):
    help = "Run a pipeline (by id, or an exported JSON file with --project) with progress bars."

    def add_arguments(self, parser) -> None:
        parser.add_argument("pipeline", help="pipeline id, or path to an exported .json file")
        parser.add_argument("--project", type=int, help="project to import a JSON file into")
        parser.add_argument("--scope", choices=[s.value for s in Scope], default=Scope.ALL.value)
        parser.add_argument("--node", default="", help="node id for scopes other than 'all'")
        parser.add_argument("--reuse", action="store_true", help="reuse unchanged outputs")

    def handle(self, *args, **options) -> None:
        recover_interrupted_runs()
        pipeline = self._pipeline(options["pipeline"], options["project"])
        run = self._create_run(pipeline, options["scope"], options["node"], options["reuse"])
        self.stdout.write(f"Run {run.pk} of pipeline {pipeline.pk} ({pipeline.name})")
        self._last: dict[str, tuple] = {}
        with events.listening(self._show):
            execute_run(run.pk)
        run.refresh_from_db()
        if run.status != Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {render(run.message)}")
        self.stdout.write(self.style.SUCCESS(f"run {run.pk} succeeded"))

    def _pipeline(self, ref: str, project: int | None) -> Pipeline:
        if ref.isdigit():
            pipeline = Pipeline.objects.filter(pk=int(ref)).first()
            if pipeline is None:
                raise CommandError(f"no pipeline with id {ref}")
            return pipeline
        path = Path(ref)
        if not path.is_file():
            raise CommandError(f"{ref!r} is neither a pipeline id nor a file")
        if project is None:
            raise CommandError("running a JSON file needs --project <id> to import it into")
        try:
            fields = services.read_document(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as error:
            raise CommandError(f"{ref}: {error}") from error
        return Pipeline.objects.create(project_id=project, **fields)

    def _create_run(self, pipeline: Pipeline, scope: str, node: str, reuse: bool) -> Run:
        graph = services.checked_graph(pipeline.graph)
        checked = services.validate_pipeline(pipeline, graph)
        if not checked.ok:
            for problem in checked.problems:
                self.stderr.write(f"  {problem.node or '-'}: {problem.message}")
            raise CommandError(f"pipeline {pipeline.pk} has {len(checked.problems)} problem(s)")
        try:
            in_scope = graph.scope(Scope(scope), node or None)
        except GraphFormatError as error:
            raise CommandError(str(error)) from error
        missing = consent.missing_consent(pipeline, checked.plan)
        if missing:
            # The terminal acts for no party: owners approve the plan in their message center.
            raise CommandError(
                f"pipeline {pipeline.pk} discloses data of {', '.join(missing)} without their "
                "approval of its plan: ask them to approve it (Approvals), then run it again"
            )
        return services.create_run(pipeline, graph, checked, scope, node, reuse, None, in_scope)

    def _show(self, event: dict) -> None:
        if event["type"] == "node.log":
            self.stdout.write(f"  {event['node']}: {render(event['line']['message'])}")
            return
        if event["type"] not in ("node.status", "node.progress"):
            return
        node, previous = event["node"], self._last.get(event["node"])
        status = event.get("status", previous[0] if previous else "pending")
        percent = event.get("progress", previous[1] if previous else 0)
        self._last[node] = (status, percent)
        # One line per status change and per 10% of progress, readable in logs too.
        if previous and previous[0] == status and previous[1] // 10 == percent // 10:
            return
        detail = f" {render(event['message'])}" if event.get("message") else ""
        self.stdout.write(f"  {node:<16} [{bar(percent)}] {percent:3d}% {status}{detail}")
