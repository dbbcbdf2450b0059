"""File downloads that stream under daphne instead of being read whole into memory.

Django's ASGI handler serves a streaming response with a synchronous iterator (FileResponse's
file) by first collecting all of it into a list in a worker thread: under daphne, a 2 GB
output table would sit in the server's memory. Under ASGI the file is therefore read chunk by
chunk through an asynchronous iterator (each read in a thread, so the event loop never
blocks). Under WSGI (the test client, pytest-django's live server) FileResponse streams as is.

Tables are stored as Arrow files but always downloaded as CSV (`table_download`): the CSV is
produced batch by batch while it streams (`workflows.tabular.export`), so its length is not
known in advance and the response has no Content-Length.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from workflows.tabular.export import csv_chunks

CHUNK_BYTES = 256 * 1024


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def file_download(request, path: Path, filename: str, content_type: str = "text/csv"):
    """An attachment response for `path`, streamed in chunks whatever the server."""
    django_request = getattr(request, "_request", request)  # DRF wraps Django's request
    if not isinstance(django_request, ASGIRequest):
        return FileResponse(path.open("rb"), as_attachment=True, filename=filename)
    response = StreamingHttpResponse(_chunks(path), content_type=content_type)
    response["Content-Length"] = str(path.stat().st_size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


async def _async_pieces(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each piece of a synchronous generator, produced in a thread."""
    done = object()
    while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
        yield piece


def table_download(request, path: Path, filename: str):
    """A CSV attachment of the table at `path`, converted while it streams."""
    django_request = getattr(request, "_request", request)
    pieces = csv_chunks(path)
    body = _async_pieces(pieces) if isinstance(django_request, ASGIRequest) else pieces
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
