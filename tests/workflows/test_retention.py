"""Retention of run outputs: old runs lose their tables, never their models, rules or reports,
nor what a kept run reuses; sizes on disk per node in the run state."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.workflows.runs import run_now
from workflows import state
from workflows.models import Artifact, Status
from workflows.retention import prune_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three_runs(credit_pipeline, settings):
    settings.PRIVPAD_KEEP_RUNS = 0  # no pruning after each run: the test prunes itself
    runs = [run_now(credit_pipeline) for _ in range(3)]
    assert [run.status for run in runs] == [Status.SUCCEEDED] * 3
    return runs


def kinds(run) -> set[str]:
    return set(Artifact.objects.filter(node_run__run=run).values_list("kind", flat=True))


def test_it_removes_the_tables_of_runs_older_than_the_last_n(credit_pipeline, three_runs):
    old, middle, newest = three_runs
    tables = list(Artifact.objects.filter(node_run__run=old, kind__startswith="table"))
    before = {run.pk: Artifact.objects.filter(node_run__run=run).count() for run in three_runs}
    pruned = prune_pipeline(credit_pipeline, keep=2)
    assert pruned.runs == {old.pk}
    assert pruned.artifacts == len(tables)
    assert pruned.bytes == sum(artifact.size_bytes for artifact in tables)
    assert not any(artifact.path.exists() for artifact in tables)
    assert kinds(old) == {"report", "rule"}
    for run in (middle, newest):
        assert Artifact.objects.filter(node_run__run=run).count() == before[run.pk]
    assert old.nodes.count() == newest.nodes.count()  # the history of what ran stays


def test_a_dry_run_removes_nothing(credit_pipeline, three_runs):
    count = Artifact.objects.count()
    assert prune_pipeline(credit_pipeline, keep=1, dry_run=True).runs == {
        three_runs[0].pk,
        three_runs[1].pk,
    }
    assert Artifact.objects.count() == count
    assert all(artifact.path.exists() for artifact in Artifact.objects.all())


def test_outputs_a_kept_run_reuses_are_kept(credit_pipeline, three_runs, settings):
    reusing = run_now(credit_pipeline, reuse=True)
    assert reusing.status == Status.SUCCEEDED
    origins = set(reusing.nodes.exclude(reused_from=None).values_list("reused_from", flat=True))
    assert origins
    prune_pipeline(credit_pipeline, keep=1)
    kept = Artifact.objects.filter(node_run_id__in=origins)
    assert kept.filter(kind__startswith="table").exists()
    assert all(artifact.path.exists() for artifact in kept)


def test_the_setting_prunes_after_each_run(credit_pipeline, settings):
    settings.PRIVPAD_KEEP_RUNS = 1
    first = run_now(credit_pipeline)
    run_now(credit_pipeline)
    assert kinds(first) == {"report", "rule"}


def test_the_command_prunes_every_pipeline_and_says_what_went(credit_pipeline, three_runs, capsys):
    call_command("prune_outputs", "--keep", "2", "--dry-run")
    assert "Would remove" in capsys.readouterr().out
    call_command("prune_outputs", "--keep", "2")
    out = capsys.readouterr().out
    assert out.startswith("Removed ")
    assert "of 1 run(s); kept the last 2 run(s) of every pipeline." in out
    with pytest.raises(CommandError, match="--keep must be at least 1"):
        call_command("prune_outputs", "--keep", "0")


def test_run_state_gives_output_bytes_per_node_and_party(credit_pipeline, three_runs):
    run = three_runs[-1]
    body = state.run_state(run, "alice")
    nodes = {node["node"]: node for node in body["nodes"]}
    read = Artifact.objects.get(node_run__run=run, node_run__node_id="read")
    assert nodes["read"]["output_bytes"] == {"alice": read.size_bytes}
    assert nodes["read"]["output_bytes"]["alice"] > 0
    total = sum(a.size_bytes for a in Artifact.objects.filter(node_run__run=run, party="alice"))
    assert body["output_bytes"] == total
