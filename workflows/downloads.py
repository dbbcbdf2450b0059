"""File downloads that stream under daphne instead of being read whole into memory.

Django's ASGI handler serves a streaming response with a synchronous iterator (FileResponse's
file) by first collecting all of it into a list in a worker thread: under daphne, a 2 GB
output table would sit in the server's memory. Under ASGI the file is therefore read chunk by
chunk through an asynchronous iterator (each read in a thread, so the event loop never
blocks). Under WSGI (the test client, pytest-django's live server) FileResponse streams as is.

CSV downloads are rewritten on the way out so that no cell runs as a spreadsheet formula
(CSV injection): a cell (header cells included: a pipeline parameter can name a column of
another party's output) that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
leading `'`, which spreadsheets show as text and do not evaluate. A tab keeps its place after
the quote (it was itself a neutraliser that readers strip). Plain numbers such as `-1.5` stay
numbers. Artifacts on disk stay exactly as components wrote them: only what leaves the console
for a spreadsheet is changed, by `neutralise_cell`, the one rule every CSV export uses.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK_BYTES = 256 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: str) -> str:
    """`value`, prefixed with `'` when a spreadsheet would evaluate it as a formula."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralised_csv(path: Path) -> Iterator[bytes]:
    """The UTF-8 CSV at `path` with every cell neutralised, in chunks of about CHUNK_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.reader(handle):
            writer.writerow([neutralise_cell(cell) for cell in record])
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def _in_threads(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    done = object()
    while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
        yield chunk


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def file_download(request, path: Path, filename: str, content_type: str = "text/csv"):
    """An attachment response for `path`, streamed in chunks whatever the server.

    A `.csv` file is served neutralised (see the module docstring), so with no Content-Length.
    """
    django_request = getattr(request, "_request", request)  # DRF wraps Django's request
    if path.suffix.lower() == ".csv":
        return _csv_download(django_request, path, filename)
    if not isinstance(django_request, ASGIRequest):
        return FileResponse(path.open("rb"), as_attachment=True, filename=filename)
    response = StreamingHttpResponse(_chunks(path), content_type=content_type)
    response["Content-Length"] = str(path.stat().st_size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _csv_download(django_request, path: Path, filename: str) -> StreamingHttpResponse:
    chunks = neutralised_csv(path)
    streamed = _in_threads(chunks) if isinstance(django_request, ASGIRequest) else chunks
    response = StreamingHttpResponse(streamed, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
