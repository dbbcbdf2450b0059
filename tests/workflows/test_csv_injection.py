"""CSV downloads neutralise spreadsheet formulas in every cell, header cells included."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from tests.workflows.runs import run_now
from workflows.models import Artifact, Status
from workflows.tabular.export import csv_chunks, neutralise_cell
from workflows.tabular.files import TableColumn, iter_frames, write_table

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("\t=1+1", "'\t=1+1"),  # the tab stays: it neutralised the cell in the first place
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-1.5", "-1.5"),  # plain numbers stay numbers
        ("+3e-4", "+3e-4"),
        ("1=1", "1=1"),
        ("", ""),
        ("Paris", "Paris"),
    ],
)
def test_the_one_rule(cell, safe):
    assert neutralise_cell(cell) == safe


def test_a_legacy_csv_artifact_is_rewritten_cell_by_cell(tmp_path):
    path = tmp_path / "t.csv"
    rows = [['=cmd|"/c calc"!A1', "id"], ["@SUM(1)", "x,y"], ["-2", "line\nbreak"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    text = b"".join(csv_chunks(path)).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ['\'=cmd|"/c calc"!A1', "id"],
        ["'@SUM(1)", "x,y"],
        ["-2", "line\nbreak"],
    ]


@pytest.fixture
def poisoned_table(credit_pipeline, alice_user):
    """One of alice's output tables, its header and cells as a hostile parameter would set
    them (a prediction column named by another member's pipeline, say)."""
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    artifact = Artifact.objects.filter(
        node_run__run=run, owner_node_id=alice_user.node_id, kind__startswith="table"
    ).first()
    hostile = '=HYPERLINK("http://evil.example","click")'
    frame = pd.DataFrame(
        {"id": ["c1", "c2", "c3"], hostile: ["@SUM(A1)", "-1.5", "\t+1"], "n": [-1, 2, 3]}
    )
    columns = [TableColumn("id", "str"), TableColumn(hostile, "str"), TableColumn("n", "int")]
    write_table(artifact.path, frame, columns)
    return artifact


EXPECTED = [
    ["id", '\'=HYPERLINK("http://evil.example","click")', "n"],
    ["c1", "'@SUM(A1)", "-1"],
    ["c2", "-1.5", "2"],
    ["c3", "'\t+1", "3"],
]


def test_a_download_neutralises_header_and_cells(poisoned_table, alice_client):
    response = alice_client.get(f"/api/v1/artifacts/{poisoned_table.pk}/download/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == EXPECTED
    # The stored table is unchanged: downstream components read the true values.
    stored = next(iter_frames(poisoned_table.path))
    assert stored["n"].tolist() == [-1, 2, 3]
    assert stored.columns[1].startswith("=HYPERLINK")


def test_an_asgi_download_neutralises_too(poisoned_table, alice_user):
    async def get():
        client = AsyncClient()
        await client.aforce_login(alice_user)
        response = await client.get(f"/api/v1/artifacts/{poisoned_table.pk}/download/")
        return b"".join([chunk async for chunk in response.streaming_content])

    text = async_to_sync(get)().decode()
    assert list(csv.reader(io.StringIO(text))) == EXPECTED
