"""Create and execute runs synchronously in the test thread (no task back-end involved).

Runs created here have their source parties' consent: each party that its standing policy does
not cover approves the plan (tests of consent itself go through the API instead).
"""

from __future__ import annotations

from workflows import services
from workflows.disclosure.consent import asked, owner_view
from workflows.executor import execute_run
from workflows.models import Approval, Run


def new_run(
    pipeline, scope: str = "all", node: str | None = None, reuse: bool = False, user=None
) -> Run:
    graph = services.checked_graph(pipeline.graph)
    checked = services.validate_pipeline(pipeline, graph)
    assert checked.ok, [p.to_dict() for p in checked.problems]
    approve_plan(pipeline, checked.plan)
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


def approve_plan(pipeline, plan) -> None:
    """Each source party that must be asked approves `plan` (as no particular user)."""
    parties = dict(pipeline.project.memberships.values_list("node__name", "node_id"))
    for party in plan.sources():
        if asked(plan, party):
            Approval.objects.get_or_create(
                pipeline=pipeline,
                party=party,
                fingerprint=plan.fingerprint,
                defaults={
                    "project_id": pipeline.project_id,
                    "party_node_id": parties[party],
                    "plan": owner_view(plan, party),
                    "status": Approval.Decision.APPROVED,
                    "comment": "approved for the test",
                },
            )
