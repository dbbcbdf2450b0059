"""File downloads that stream under daphne instead of being read whole into memory.

Django's ASGI handler serves a streaming response with a synchronous iterator (FileResponse's
file) by first collecting all of it into a list in a worker thread: under daphne, a 2 GB
output table would sit in the server's memory. Under ASGI the file is therefore read chunk by
chunk through an asynchronous iterator (each read in a thread, so the event loop never
blocks). Under WSGI (the test client, pytest-django's live server) FileResponse streams as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

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
