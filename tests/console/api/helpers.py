"""Small builders shared by the API tests."""

from __future__ import annotations

from console.datasets.models import Authorization, Dataset
from console.nodes.models import Node
from console.projects.models import Project

COLUMNS = [
    {"name": "id", "type": "int", "nulls": 0},
    {"name": "<script>alert(1)</script>", "type": "float", "nulls": 2},
]


def make_dataset(node: Node, name: str = "customers") -> Dataset:
    return Dataset.objects.create(
        node=node,
        name=name,
        original_filename=f"{name}.csv",
        relative_path=f"datasets/secret-{name}.csv",
        size_bytes=10,
        sha256="ab" * 32,
        encoding="utf-8",
        row_count=2,
        columns=COLUMNS,
    )


def authorize(dataset: Dataset, project: Project, user=None) -> Authorization:
    roles = {"id": "id", "<script>alert(1)</script>": "feature"}
    return Authorization.objects.create(
        dataset=dataset, project=project, column_roles=roles, granted_by=user
    )


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's error shape: {"detail": str, "code": str} with the expected status."""
    body = response.json()
    assert response.status_code == status, body
    for key in ("detail", "code"):
        assert isinstance(body[key], str), body
        assert body[key], body
    assert set(body) <= {"detail", "code", "errors"}, body
    if code is not None:
        assert body["code"] == code, body
    return body
