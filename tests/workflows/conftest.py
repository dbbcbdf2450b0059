"""Fixtures for pipeline tests: the console's who-is-asking fixtures plus authorised datasets.

- alice's `credit` table (id, age, income with gaps, city, label `y`, model `score`) and bob's
  `shop` table (id, spend, visits) are authorised to `project` (alice + bob);
- carol's `claims` table exists but is authorised to no project;
- both authorisations let aggregates (groups of at least 20 rows) go to every member; any
  other disclosure needs the owner's approval;
- `pipeline_factory` saves a pipeline of `project` from nodes and edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from console.datasets.models import Authorization, Dataset
from tests.console.conftest import *  # noqa: F403 - the who-is-asking fixtures
from workflows.models import Pipeline

ROWS = 60


def credit_frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 12, rows).round(2)
    income[rng.choice(rows, 6, replace=False)] = np.nan
    y = (rng.random(rows) < 0.4).astype(int)
    return pd.DataFrame(
        {
            "id": [f"c{i:03d}" for i in range(rows)],
            "age": rng.integers(20, 70, rows),
            "income": income,
            "city": rng.choice(["Paris", "Lyon", "Nice"], rows),
            "y": y,
            "score": np.clip(0.3 * y + rng.random(rows) * 0.7, 0, 1).round(4),
        }
    )


def shop_frame(rows: int = ROWS, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"c{i:03d}" for i in range(rows)],
            "spend": rng.gamma(2.0, 30.0, rows).round(2),
            "visits": rng.integers(0, 20, rows),
        }
    )


CREDIT_ROLES = {
    "id": "id",
    "age": "feature",
    "income": "feature",
    "city": "feature",
    "y": "label",
    "score": "feature",
}
SHOP_ROLES = {"id": "id", "spend": "feature", "visits": "protected"}
TYPES = {"int64": "int", "float64": "float", "bool": "bool"}
# Standing policy of the fixtures' authorisations: aggregates over groups of at least 20 rows
# may go to every member; anything else needs the owner's approval.
AGGREGATES = {"aggregates": "allow", "aggregates_min_k": 20}


def make_dataset(node, name: str, frame: pd.DataFrame) -> Dataset:
    root = node.ensure_storage()
    relative = f"datasets/{name}.csv"
    frame.to_csv(root / relative, index=False)
    columns = [
        {
            "name": column,
            "type": TYPES.get(str(frame[column].dtype), "str"),
            "nulls": int(frame[column].isna().sum()),
        }
        for column in frame.columns
    ]
    return Dataset.objects.create(
        node=node,
        name=name,
        original_filename=f"{name}.csv",
        relative_path=relative,
        size_bytes=(root / relative).stat().st_size,
        sha256=f"{name:0<64}"[:64],
        encoding="utf-8",
        row_count=len(frame),
        columns=columns,
    )


@pytest.fixture
def fresh_storage(settings, tmp_path):
    """Node storage of this test alone (other tests' runs leave files in the shared one, and a
    run's id can come again once a test's rows are rolled back). Ask for it before the
    fixtures that write datasets."""
    settings.NODE_STORAGE_DIR = tmp_path / "nodes"


@pytest.fixture
def credit(alice, project) -> Dataset:
    dataset = make_dataset(alice, "credit", credit_frame())
    Authorization.objects.create(
        dataset=dataset, project=project, column_roles=CREDIT_ROLES, disclosure_policy=AGGREGATES
    )
    return dataset


@pytest.fixture
def shop(bob, project) -> Dataset:
    dataset = make_dataset(bob, "shop", shop_frame())
    Authorization.objects.create(
        dataset=dataset, project=project, column_roles=SHOP_ROLES, disclosure_policy=AGGREGATES
    )
    return dataset


@pytest.fixture
def claims(carol) -> Dataset:
    return make_dataset(carol, "claims", shop_frame(seed=9))


def node(node_id: str, component: str, **params) -> dict:
    return {"id": node_id, "component": component, "params": params, "position": {"x": 0, "y": 0}}


def edge(source: str, source_port: str, target: str, target_port: str) -> dict:
    return {
        "source": {"node": source, "port": source_port},
        "target": {"node": target, "port": target_port},
    }


def credit_graph(credit_id: int, shop_id: int | None = None) -> dict:
    """read -> split -> fillna -> scaler -> statistics, and an evaluation of the test set."""
    nodes = [
        node("read", "read/dataset", dataset=credit_id),
        node("split", "data_prep/train_test_split", random_state=3),
        node("fill", "preprocessing/fillna", features=["income", "age"]),
        node("scale", "preprocessing/scaler", features=["income", "age"]),
        node("stats", "stats/table_statistics"),
        node("eval", "ml.eval/binary_classification", label="y", prediction="score"),
    ]
    edges = [
        edge("read", "output_ds", "split", "input_ds"),
        edge("split", "train_ds", "fill", "input_ds"),
        edge("fill", "output_ds", "scale", "input_ds"),
        edge("scale", "output_ds", "stats", "input_ds"),
        edge("split", "test_ds", "eval", "input_ds"),
    ]
    if shop_id is not None:
        nodes.append(node("shop", "read/dataset", dataset=shop_id))
        nodes.append(node("shop_stats", "stats/table_statistics"))
        edges.append(edge("shop", "output_ds", "shop_stats", "input_ds"))
    return {"nodes": nodes, "edges": edges}


@pytest.fixture
def pipeline_factory(project, alice_user):
    def make(graph: dict, name: str = "Credit pipeline") -> Pipeline:
        return Pipeline.objects.create(
            project=project, name=name, graph=graph, created_by=alice_user
        )

    return make


@pytest.fixture
def credit_pipeline(pipeline_factory, credit, shop) -> Pipeline:
    return pipeline_factory(credit_graph(credit.pk, shop.pk))
