"""A dataset's schema as another party reads it: no null count of a protected column, and none
of a dataset smaller than k rows.

Tried as alice would against bob's dataset: its null counts are counts of bob's rows, derived
from his data. A protected column's data reaches no other party in any form; other counts
follow the rule for aggregates that leave their owner (at least k rows,
`PRIVPAD_DISCLOSURE_MIN_ROWS`). bob's own users still read every count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from console.datasets.models import Authorization
from tests.workflows.conftest import make_dataset

pytestmark = pytest.mark.django_db

ROLES = {"id": "id", "spend": "feature", "diagnosis": "protected"}


def bobs(bob, project, rows: int):
    frame = pd.DataFrame(
        {
            "id": range(rows),
            "spend": [np.nan, *range(1, rows)],
            "diagnosis": [np.nan, np.nan, np.nan, *(["x"] * (rows - 3))],
        }
    )
    dataset = make_dataset(bob, f"clinic{rows}", frame)
    Authorization.objects.create(dataset=dataset, project=project, column_roles=ROLES)
    return dataset


def nulls(columns) -> dict:
    return {column["name"]: column["nulls"] for column in columns}


def test_alice_reads_no_null_count_of_bobs_protected_column(bob, project, api_alice):
    dataset = bobs(bob, project, rows=40)
    shown = api_alice.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert nulls(shown["columns"]) == {"id": 0, "spend": 1, "diagnosis": None}
    listed = api_alice.get(f"/api/v1/projects/{project.pk}/").json()["datasets"]
    entry = next(d for d in listed if d["dataset"] == dataset.pk)
    assert nulls(entry["columns"]) == {"id": 0, "spend": 1, "diagnosis": None}


def test_nor_any_null_count_of_a_dataset_smaller_than_k(bob, project, api_alice):
    dataset = bobs(bob, project, rows=12)
    shown = api_alice.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert set(nulls(shown["columns"]).values()) == {None}


def test_the_dataset_page_shows_alice_no_count_of_the_protected_column(bob, project, alice_client):
    dataset = bobs(bob, project, rows=40)
    page = alice_client.get(reverse("datasets:detail", args=[dataset.pk])).content.decode()
    row = page[page.index('<td class="column-name">diagnosis</td>') :].split("</tr>")[0]
    assert '<td class="num">3</td>' not in row
    assert "None" not in row


def test_bob_reads_every_count_of_his_own(bob, project, api_bob):
    dataset = bobs(bob, project, rows=12)
    shown = api_bob.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert nulls(shown["columns"]) == {"id": 0, "spend": 1, "diagnosis": 3}
