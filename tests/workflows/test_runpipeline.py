"""`manage.py runpipeline`: progress bars per node, non-zero exit on failure."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from workflows import services
from workflows.models import Pipeline, Run, Status

pytestmark = pytest.mark.django_db


def _call(*args) -> str:
    out = StringIO()
    call_command("runpipeline", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_runs_a_saved_pipeline_with_progress_bars(credit_pipeline):
    output = _call(str(credit_pipeline.pk))
    assert f"Run {Run.objects.get().pk} of pipeline {credit_pipeline.pk}" in output
    assert "[########################] 100% succeeded" in output
    assert "  split " in output
    assert "read 60 rows" in output
    assert output.rstrip().endswith("succeeded")


def test_it_exits_non_zero_when_a_node_fails(credit_pipeline):
    credit_pipeline.graph["nodes"][1]["params"]["train_size"] = 0.01
    credit_pipeline.save()
    with pytest.raises(CommandError, match="failed"):
        _call(str(credit_pipeline.pk))
    assert Run.objects.get().status == Status.FAILED


def test_it_refuses_an_invalid_pipeline_before_running(pipeline_factory):
    pipeline = pipeline_factory({"nodes": [{"id": "s", "component": "stats/table_statistics"}]})
    with pytest.raises(CommandError, match="1 problem"):
        _call(str(pipeline.pk))
    assert not Run.objects.exists()


def test_it_imports_and_runs_an_exported_file(credit_pipeline, project, tmp_path):
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(services.export_document(credit_pipeline)), encoding="utf-8")
    output = _call(str(path), "--project", str(project.pk), "--scope", "upstream", "--node", "fill")
    assert "succeeded" in output
    assert Pipeline.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "no pipeline"),
        (["missing.json"], "neither"),
        (["--scope", "node"], "needs a node"),
    ],
)
def test_it_explains_bad_arguments(credit_pipeline, args, message):
    if message == "needs a node":
        args = [*args, str(credit_pipeline.pk)]
    with pytest.raises(CommandError, match=message):
        _call(*args)
