"""Create and execute runs synchronously in the test thread (no task back-end involved)."""

from __future__ import annotations

from workflows import services
from workflows.executor import execute_run
from workflows.models import Run


def new_run(
    pipeline, scope: str = "all", node: str | None = None, reuse: bool = False, user=None
) -> Run:
    graph = services.checked_graph(pipeline.graph)
    checked = services.validate_pipeline(pipeline, graph)
    assert checked.ok, [p.to_dict() for p in checked.problems]
    return services.create_run(pipeline, graph, checked, scope, node, reuse, user)


def run_now(
    pipeline, scope: str = "all", node: str | None = None, reuse: bool = False, user=None
) -> Run:
    """Run synchronously, as started by `user` (None: by no party)."""
    run = new_run(pipeline, scope, node, reuse, user)
    execute_run(run.pk)
    run.refresh_from_db()
    return run


def statuses(run: Run) -> dict[str, str]:
    return {node.node_id: node.status for node in run.nodes.all()}
