"""Run state has one writer: the `workflows.state` package.

The source check reads every module of `workflows/` and `console/` that names the Run or
NodeRun model and fails on any write of a status field outside `workflows/state/`: an
assignment to `<x>.status`, a queryset `update(status=...)`, a `create(status=...)` or a
`save(update_fields=[..."status"...])`. The behaviour checks show that an illegal transition
is refused with an error naming it, and that the compare-and-set helpers change only what
they may.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.workflows.runs import new_run, run_now
from workflows import events, state
from workflows.messages import render
from workflows.models import Run, Status
from workflows.recovery import INTERRUPTED_MESSAGE

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "workflows" / "state"
RUN_MODELS = {"Run", "NodeRun"}


def _modules() -> list[Path]:
    paths = [*(ROOT / "workflows").rglob("*.py"), *(ROOT / "console").rglob("*.py")]
    return [p for p in paths if "migrations" not in p.parts and WRITER not in p.parents]


def _names_run_models(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("workflows.models")
        and RUN_MODELS & {alias.name for alias in node.names}
        for node in ast.walk(tree)
    ) or any(isinstance(node, ast.Name) and node.id in RUN_MODELS for node in ast.walk(tree))


def _status_writes(tree: ast.Module) -> list[int]:
    """Lines writing a `status` field in ways only the state module may."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in flat):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("update", "create", "bulk_update") and any(
                keyword.arg == "status" for keyword in node.keywords
            ):
                lines.append(node.lineno)
            if node.func.attr == "save" and any(
                keyword.arg == "update_fields" and "'status'" in ast.unparse(keyword.value)
                for keyword in node.keywords
            ):
                lines.append(node.lineno)
    return lines


def test_no_module_but_the_state_module_writes_run_or_node_status():
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _names_run_models(tree):
            offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _status_writes(tree)]
    assert offenders == [], f"run/node status written outside workflows/state/: {offenders}"


def test_the_source_check_sees_each_kind_of_write():
    source = """
from workflows.models import Run
run.status = "failed"
node.status, node.message = "failed", "x"
Run.objects.filter(pk=1).update(status="failed")
run.save(update_fields=["status"])
"""
    assert _status_writes(ast.parse(source)) == [3, 4, 5, 6]


@pytest.mark.django_db
def test_an_illegal_run_transition_is_refused_naming_it(credit_pipeline):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED
    with pytest.raises(state.IllegalTransition, match=f"run {run.pk} cannot go from 'succeeded'"):
        state.set_run_status(run, Status.RUNNING)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED


@pytest.mark.django_db
def test_an_illegal_node_transition_is_refused_naming_the_node(credit_pipeline):
    run = new_run(credit_pipeline)
    node = run.nodes.get(node_id="split")
    state.set_node_status(node, Status.SKIPPED, "outside the run's scope")
    with pytest.raises(state.IllegalTransition, match="'split'.*'skipped' to 'running'"):
        state.set_node_status(node, Status.RUNNING)
    node.refresh_from_db()
    assert node.status == Status.SKIPPED


@pytest.mark.django_db
def test_stopping_a_pending_run_ends_it_and_its_nodes_and_publishes_it(credit_pipeline):
    run = new_run(credit_pipeline)
    seen: list[dict] = []
    with events.listening(seen.append):
        assert state.stop_pending_run(run.pk, Status.CANCELLED, "cancelled", "not started")
    run.refresh_from_db()
    assert (run.status, run.message, run.finished_at is not None) == (
        Status.CANCELLED,
        "cancelled",
        True,
    )
    assert set(run.nodes.values_list("status", flat=True)) == {Status.CANCELLED}
    assert {"type": "run.status", "status": "cancelled"}.items() <= seen[-1].items()


@pytest.mark.django_db
def test_a_claimed_run_is_neither_stopped_as_pending_nor_claimed_twice(credit_pipeline):
    run = new_run(credit_pipeline)
    assert state.claim_run(run.pk, "host:1") is not None
    assert state.claim_run(run.pk, "host:2") is None
    assert not state.stop_pending_run(run.pk, Status.CANCELLED, "late", "late")
    run.refresh_from_db()
    assert (run.status, run.executor) == (Status.RUNNING, "host:1")


@pytest.mark.django_db
def test_stopping_a_pending_run_with_a_finished_status_it_cannot_reach_is_refused(
    credit_pipeline,
):
    run = new_run(credit_pipeline)
    with pytest.raises(state.IllegalTransition, match="'pending' to 'succeeded'"):
        state.stop_pending_run(run.pk, Status.SUCCEEDED, "", "")
    assert Run.objects.get(pk=run.pk).status == Status.PENDING


@pytest.mark.django_db
def test_marking_interrupted_leaves_finished_runs_and_nodes_alone(credit_pipeline):
    finished, pending = run_now(credit_pipeline), new_run(credit_pipeline)
    state.mark_interrupted([finished.pk, pending.pk], INTERRUPTED_MESSAGE)
    finished.refresh_from_db()
    pending.refresh_from_db()
    assert finished.status == Status.SUCCEEDED
    assert (pending.status, render(pending.message)) == (
        Status.INTERRUPTED,
        "The server stopped while this was running; run the pipeline again.",
    )
    assert set(pending.nodes.values_list("status", flat=True)) == {Status.INTERRUPTED}
    assert set(finished.nodes.values_list("status", flat=True)) == {Status.SUCCEEDED}
