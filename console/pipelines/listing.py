"""Pipelines and runs as the dashboard and the project page list them."""

from __future__ import annotations

from django.db.models import QuerySet

from workflows.models import Pipeline, Run
from workflows.run_filters import runs_listed_for

NARROW_RUNS = 10  # runs a phone-width canvas page lists instead of the graph


def recent_runs(user, limit: int) -> list[Run]:
    """The newest runs the user may see listed (a platform admin: every run), newest first."""
    return list(runs_listed_for(user)[:limit])


def pipeline_runs(pipeline: Pipeline, limit: int = NARROW_RUNS) -> list[Run]:
    """The newest runs of one pipeline (its page lists them on screens too narrow to draw it)."""
    return list(pipeline.runs.select_related("created_by").order_by("-created_at", "-pk")[:limit])


def project_pipelines(project) -> QuerySet[Pipeline]:
    pipelines = Pipeline.objects.filter(project=project, archived_at__isnull=True)
    return pipelines.select_related("created_by")


def with_last_run(pipelines) -> list[dict]:
    """Each pipeline with its node count and its newest run (or None)."""
    rows = []
    for pipeline in pipelines:
        last = pipeline.runs.order_by("-created_at", "-pk").select_related("created_by").first()
        rows.append(
            {"pipeline": pipeline, "nodes": len(pipeline.graph.get("nodes", [])), "last": last}
        )
    return rows
