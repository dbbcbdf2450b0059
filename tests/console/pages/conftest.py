"""Datasets and authorisations for the page tests, written straight to the node's storage.

The rows carry a marker (`ROW_MARKER`) so a test can prove they never reach a member's page.
"""

from __future__ import annotations

import hashlib

import pytest

from console.datasets.models import Authorization, Dataset
from console.nodes.models import Node

ROW_MARKER = "ROW-SECRET-7731"
XSS_NAMES = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def make_dataset(node: Node, name: str, header: list[str], rows: list[list[str]]) -> Dataset:
    """Write a CSV into the node's storage and register it (types are all 'str' here)."""
    text = "\n".join(",".join(cells) for cells in [header, *rows]) + "\n"
    content = text.encode("utf-8")
    relative = f"datasets/{name}.csv"
    (node.ensure_storage() / relative).write_bytes(content)
    return Dataset.objects.create(
        node=node,
        name=name,
        description=f"{name} for the page tests",
        original_filename=f"{name}.csv",
        relative_path=relative,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        encoding="utf-8",
        row_count=len(rows),
        columns=[{"name": column, "type": "str", "nulls": 0} for column in header],
    )


@pytest.fixture
def dataset(alice) -> Dataset:
    """Alice's dataset with a non-ASCII column name."""
    rows = [[f"c{i}", str(20 + i), f"{ROW_MARKER}-{i}"] for i in range(5)]
    return make_dataset(alice, "customers", ["customer_id", "年龄", "secret"], rows)


@pytest.fixture
def xss_dataset(alice) -> Dataset:
    """Alice's dataset whose column names are HTML/JS."""
    header = ['"id"', *[name.replace('"', '""').join('""') for name in XSS_NAMES]]
    dataset = make_dataset(alice, "hostile", header, [["1", "2", "3"]])
    dataset.columns = [{"name": n, "type": "str", "nulls": 0} for n in ["id", *XSS_NAMES]]
    dataset.save(update_fields=["columns"])
    return dataset


def authorize(dataset: Dataset, project, roles: dict[str, str] | None = None) -> Authorization:
    if roles is None:
        roles = dict.fromkeys(dataset.column_names, "feature")
        roles[dataset.column_names[0]] = "id"
    return Authorization.objects.create(dataset=dataset, project=project, column_roles=roles)


@pytest.fixture
def authorization(dataset, project) -> Authorization:
    return authorize(dataset, project)
