"""Create and execute runs synchronously in the test thread (no task back-end involved)."""

from __future__ import annotations

from workflows import services
from workflows.executor import execute_run
from workflows.models import Run


def new_run(pipeline, scope: str = "all", node: str | None = None, reuse: bool = False) -> Run:
    graph = services.checked_graph(pipeline.graph)
    checked = services.validate_pipeline(pipeline, graph)
    assert checked.ok, [p.to_dict() for p in checked.problems]
    return services.create_run(pipeline, graph, checked, scope, node, reuse, None)


def run_now(pipeline, scope: str = "all", node: str | None = None, reuse: bool = False) -> Run:
    run = new_run(pipeline, scope, node, reuse)
    execute_run(run.pk)
    run.refresh_from_db()
    return run


def statuses(run: Run) -> dict[str, str]:
    return {node.node_id: node.status for node in run.nodes.all()}
