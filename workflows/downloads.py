"""File downloads that stream under daphne instead of being read whole into memory.

Django's ASGI handler serves a streaming response with a synchronous iterator (FileResponse's
file) by first collecting all of it into a list in a worker thread: under daphne, a 2 GB
output table would sit in the server's memory. Under ASGI the file is therefore read chunk by
chunk through an asynchronous iterator (each read in a thread, so the event loop never
blocks). Under WSGI (the test client, pytest-django's live server) FileResponse streams as is.

CSV encodings for Excel users: tables are stored as UTF-8. Excel on Chinese Windows reads a
CSV without a byte-order mark as GBK and garbles UTF-8 text, so a CSV download can be
re-encoded on the fly: `utf-8` (the stored bytes), `utf-8-sig` (UTF-8 with a BOM, which every
Excel reads correctly; the default for users whose console language is Chinese) or `gbk`. A GBK
download is checked whole before the first byte is sent, so a character GBK cannot represent
is a clear refusal naming its line, never a half-written file.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

CHUNK_BYTES = 256 * 1024
STORED_ENCODING = "utf-8"
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "gbk")


class UnencodableCSV(ValueError):
    """The CSV cannot be written in the requested encoding (the message names the line)."""


def csv_encoding(requested: str | None) -> str:
    """The encoding of a CSV download: the one asked for, else UTF-8 with a BOM for users
    reading the console in Chinese (Excel then shows Chinese text correctly), else UTF-8."""
    if requested:
        wanted = requested.strip().lower().replace("_", "-")
        wanted = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "gb2312": "gbk"}.get(wanted, wanted)
        if wanted not in CSV_ENCODINGS:
            raise UnencodableCSV(
                _("Unknown CSV encoding '%(requested)s'; choose one of: %(choices)s.")
                % {"requested": requested, "choices": ", ".join(CSV_ENCODINGS)}
            )
        return wanted
    language = translation.get_language() or ""
    return "utf-8-sig" if language.lower().startswith("zh") else STORED_ENCODING


def check_encodable(path: Path, encoding: str) -> None:
    """Refuse (naming the first line) a file that `encoding` cannot represent."""
    if encoding in ("utf-8", "utf-8-sig"):
        return
    with path.open(encoding=STORED_ENCODING, newline="") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.encode(encoding)
            except UnicodeEncodeError as error:
                raise UnencodableCSV(
                    _(
                        "Line %(line)s holds the character '%(char)s', which %(encoding)s "
                        "cannot represent; download the table as UTF-8 instead."
                    )
                    % {"line": number, "char": line[error.start], "encoding": encoding.upper()}
                ) from None


def _encoded(path: Path, encoding: str) -> Iterator[bytes]:
    """The file re-encoded chunk by chunk (incremental codecs: a character split between two
    chunks is carried over, never broken)."""
    decoder = codecs.getincrementaldecoder(STORED_ENCODING)()
    encoder = codecs.getincrementalencoder(encoding)()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield encoder.encode(decoder.decode(chunk))
    yield encoder.encode(decoder.decode(b"", final=True), final=True)


async def _async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        yield chunk


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def file_download(
    request, path: Path, filename: str, content_type: str = "text/csv", encoding: str = "utf-8"
):
    """An attachment response for `path`, streamed in chunks whatever the server; a text file
    in another `encoding` than the stored UTF-8 is re-encoded on the way (see the module)."""
    django_request = getattr(request, "_request", request)  # DRF wraps Django's request
    if encoding != STORED_ENCODING:
        check_encodable(path, encoding)
        chunks = _encoded(path, encoding)
        is_asgi = isinstance(django_request, ASGIRequest)
        response = StreamingHttpResponse(
            _async(chunks) if is_asgi else chunks,
            content_type=f"{content_type}; charset={encoding.removesuffix('-sig')}",
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    if not isinstance(django_request, ASGIRequest):
        return FileResponse(path.open("rb"), as_attachment=True, filename=filename)
    response = StreamingHttpResponse(_chunks(path), content_type=content_type)
    response["Content-Length"] = str(path.stat().st_size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
