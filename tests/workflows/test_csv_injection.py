"""CSV downloads neutralise spreadsheet formulas in every cell, header cells included."""

from __future__ import annotations

import csv
import io

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from tests.workflows.runs import run_now
from workflows.downloads import neutralise_cell, neutralised_csv
from workflows.models import Artifact, Status

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


def test_a_csv_is_rewritten_cell_by_cell(tmp_path):
    path = tmp_path / "t.csv"
    rows = [['=cmd|"/c calc"!A1', "id"], ["@SUM(1)", "x,y"], ["-2", "line\nbreak"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    text = b"".join(neutralised_csv(path)).decode()
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
    artifact = Artifact.objects.filter(node_run__run=run, owner_node_id=alice_user.node_id).first()
    artifact.path.write_text(
        'id,"=HYPERLINK(""http://evil.example"",""click"")"\nc1,@SUM(A1)\nc2,-1.5\nc3,\t+1\n',
        encoding="utf-8",
    )
    return artifact


EXPECTED = [
    ["id", '\'=HYPERLINK("http://evil.example","click")'],
    ["c1", "'@SUM(A1)"],
    ["c2", "-1.5"],
    ["c3", "'\t+1"],
]


def test_a_download_neutralises_header_and_cells(poisoned_table, alice_client):
    response = alice_client.get(f"/api/v1/artifacts/{poisoned_table.pk}/download/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == EXPECTED
    # The artifact itself is unchanged: downstream components read the true values.
    assert poisoned_table.path.read_text(encoding="utf-8").startswith('id,"=HYPERLINK')


def test_an_asgi_download_neutralises_too(poisoned_table, alice_user):
    async def get():
        client = AsyncClient()
        await client.aforce_login(alice_user)
        response = await client.get(f"/api/v1/artifacts/{poisoned_table.pk}/download/")
        return b"".join([chunk async for chunk in response.streaming_content])

    text = async_to_sync(get)().decode()
    assert list(csv.reader(io.StringIO(text))) == EXPECTED
