"""Artifact downloads stream under ASGI (daphne) instead of being collected in memory first."""

from __future__ import annotations

import io
import warnings

import pandas as pd
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from tests.workflows.runs import run_now
from workflows.models import Artifact, Status
from workflows.tabular import export
from workflows.tabular.files import count_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_table(credit_pipeline, alice_user, monkeypatch):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    tables = Artifact.objects.filter(
        node_run__run=run, owner_node_id=alice_user.node_id, kind__startswith="table"
    )
    # A few rows per piece, so that the response really is produced piece by piece.
    monkeypatch.setattr(export, "BATCH_ROWS", 2)
    return tables.first()


def fetch_asgi(user, url: str):
    async def get():
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get(url)
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    return async_to_sync(get)()


def test_an_asgi_download_is_an_async_stream_of_the_table_as_csv(own_table, alice_user):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must buffer a sync iterator
        response, chunks = fetch_asgi(alice_user, f"/api/v1/artifacts/{own_table.pk}/download/")
    assert response.status_code == 200
    assert response.is_async
    assert len(chunks) >= 3
    body = b"".join(chunks)
    assert body == b"".join(export.csv_chunks(own_table.path))
    frame = pd.read_csv(io.BytesIO(body))
    assert len(frame) == count_rows(own_table.path)
    assert list(frame.columns) == [
        c["name"] for c in own_table.info["columns"] if c["party"] == "alice"
    ]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.csv"')


def test_another_party_gets_404_over_asgi_too(own_table, bob_user):
    async def get():
        client = AsyncClient()
        await client.aforce_login(bob_user)
        return await client.get(f"/api/v1/artifacts/{own_table.pk}/download/")

    assert async_to_sync(get)().status_code == 404
