"""Columns chosen downstream that no longer exist upstream, after a dataset or a column choice
changed, are flagged by validation: the node, the parameter and every missing column named."""

from __future__ import annotations

import pytest

from console.datasets.models import Authorization
from tests.workflows.conftest import SHOP_ROLES, make_dataset, shop_frame
from workflows import services

pytestmark = pytest.mark.django_db


def test_changing_a_dataset_flags_every_stale_column_downstream(
    project, alice, credit, shop, pipeline_factory
):
    other = make_dataset(alice, "other", shop_frame(seed=5))
    Authorization.objects.create(dataset=other, project=project, column_roles=SHOP_ROLES)
    graph = services.template_graph(project.pk, "credit_risk").to_dict()
    read = next(node for node in graph["nodes"] if node["id"] == "read_1")
    assert read["params"] == {"dataset": credit.pk}
    read["params"]["dataset"] = other.pk  # alice picks another table; nothing else changes
    problems = [p.to_dict() for p in services.validate_pipeline(pipeline_factory(graph)).problems]
    stale = [p for p in problems if p["code"] == "column_missing"]
    assert [(p["node"], p["field"]) for p in stale] == [
        ("fill_train", "features"),
        ("fill_test", "features"),
    ]
    message = stale[0]["message"]
    assert "columns 'age', 'income', 'score' do not exist on input 'input_ds'" in message
    assert "choose the columns again" in message


def test_one_missing_column_is_named_in_the_singular(project, credit, shop, pipeline_factory):
    graph = services.template_graph(project.pk, "credit_risk").to_dict()
    fill = next(node for node in graph["nodes"] if node["id"] == "fill_train")
    fill["params"]["features"] = ["age", "gone"]
    problems = [p.to_dict() for p in services.validate_pipeline(pipeline_factory(graph)).problems]
    assert [(p["node"], p["field"], p["code"]) for p in problems] == [
        ("fill_train", "features", "column_missing")
    ]
    assert "column 'gone' does not exist on input 'input_ds'" in problems[0]["message"]
