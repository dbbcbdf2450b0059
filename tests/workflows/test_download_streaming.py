"""Artifact downloads stream under ASGI (daphne) instead of being collected in memory first."""

from __future__ import annotations

import warnings

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from tests.workflows.runs import run_now
from workflows.downloads import CHUNK_BYTES
from workflows.models import Artifact, Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_table(credit_pipeline, alice_user):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    artifact = Artifact.objects.filter(node_run__run=run, owner_node_id=alice_user.node_id).first()
    # Several chunks' worth of rows, so that the response really is read piece by piece.
    with artifact.path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(["x" * 100] * (3 * CHUNK_BYTES // 100)) + "\n")
    return artifact


def fetch_asgi(user, url: str):
    async def get():
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get(url)
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    return async_to_sync(get)()


def test_an_asgi_download_is_an_async_stream_of_the_whole_file(own_table, alice_user):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must buffer a sync iterator
        response, chunks = fetch_asgi(alice_user, f"/api/v1/artifacts/{own_table.pk}/download/")
    assert response.status_code == 200
    assert response.is_async
    assert len(chunks) >= 3
    # No cell of this table needs neutralising (see workflows.downloads): the bytes are as saved.
    assert b"".join(chunks) == own_table.path.read_bytes()
    assert response["Content-Disposition"].startswith("attachment; filename=")


def test_another_party_gets_404_over_asgi_too(own_table, bob_user):
    async def get():
        client = AsyncClient()
        await client.aforce_login(bob_user)
        return await client.get(f"/api/v1/artifacts/{own_table.pk}/download/")

    assert async_to_sync(get)().status_code == 404
