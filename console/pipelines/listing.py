"""Pipelines and runs as the dashboard and the project page list them."""

from __future__ import annotations

from django.db.models import QuerySet

from workflows.models import Pipeline, Run
from workflows.services import pipelines_for


def recent_runs(user, limit: int) -> list[Run]:
    """The newest runs of pipelines in the user's projects, newest first."""
    pipelines = pipelines_for(user, include_archived=True)
    runs = Run.objects.filter(pipeline__in=pipelines).select_related(
        "pipeline__project", "created_by"
    )
    return list(runs.order_by("-created_at", "-pk")[:limit])


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
