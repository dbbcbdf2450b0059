"""Downloads of stored files that stream from disk instead of loading them into memory.

Django's FileResponse streams a file synchronously; under ASGI (daphne) that makes Django
consume the whole iterator up front, so a multi-gigabyte download (a dataset, a big
output table would sit in the server's memory). Here an ASGI request gets the file chunk by
chunk through an asynchronous iterator (each read in a thread, so the event loop never
blocks). Under WSGI (the test client, pytest-django's live server) FileResponse streams as is.

Tables are stored as Arrow files but always downloaded as CSV (`table_download`): the CSV is
produced batch by batch while it streams (`workflows.tabular.export`), so its length is not
known in advance and the response has no Content-Length.

CSV encodings for Excel users: the CSV is produced as UTF-8. Excel on Chinese Windows reads a
CSV without a byte-order mark as GBK and garbles UTF-8 text, so a CSV download can be
re-encoded on the fly: `utf-8` (as produced), `utf-8-sig` (UTF-8 with a BOM, which every
Excel reads correctly; the default for users whose console language is Chinese) or `gbk`. A GBK
download is checked whole (one conversion pass that keeps nothing) before the first byte is
sent, so a character GBK cannot represent is a clear refusal naming its line, never a
half-written file.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from workflows.tabular.export import csv_chunks

CHUNK_BYTES = 256 * 1024
PRODUCED_ENCODING = "utf-8"
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
    return "utf-8-sig" if language.lower().startswith("zh") else PRODUCED_ENCODING


def check_encodable(pieces: Iterable[bytes], encoding: str) -> None:
    """Refuse (naming the first line) UTF-8 `pieces` that `encoding` cannot represent."""
    if encoding in ("utf-8", "utf-8-sig"):
        return
    decoder = codecs.getincrementaldecoder(PRODUCED_ENCODING)()
    lines_before = 0
    for piece in _with_end(pieces):
        text = decoder.decode(piece, final=not piece)
        try:
            text.encode(encoding)
        except UnicodeEncodeError as error:
            line = lines_before + text.count("\n", 0, error.start) + 1
            raise UnencodableCSV(
                _(
                    "Line %(line)s holds the character '%(char)s', which %(encoding)s "
                    "cannot represent; download the table as UTF-8 instead."
                )
                % {"line": line, "char": text[error.start], "encoding": encoding.upper()}
            ) from None
        lines_before += text.count("\n")


def _with_end(pieces: Iterable[bytes]) -> Iterator[bytes]:
    yield from (piece for piece in pieces if piece)
    yield b""  # flushes the decoder


def encoded(pieces: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """UTF-8 `pieces` re-encoded one by one (incremental codecs: a character split between two
    pieces is carried over, never broken)."""
    decoder = codecs.getincrementaldecoder(PRODUCED_ENCODING)()
    encoder = codecs.getincrementalencoder(encoding)()
    for piece in pieces:
        yield encoder.encode(decoder.decode(piece))
    yield encoder.encode(decoder.decode(b"", final=True), final=True)


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


def table_download(request, path: Path, filename: str, encoding: str = PRODUCED_ENCODING):
    """A CSV attachment of the table at `path` (Arrow, or a legacy CSV file), converted while it
    streams, in `encoding` (one of CSV_ENCODINGS; see the module). Raises UnencodableCSV before
    anything is sent when the table holds a character `encoding` cannot write."""
    django_request = getattr(request, "_request", request)
    check_encodable(csv_chunks(path), encoding)
    pieces = csv_chunks(path)
    if encoding != PRODUCED_ENCODING:
        pieces = encoded(pieces, encoding)
    body = _async_pieces(pieces) if isinstance(django_request, ASGIRequest) else pieces
    charset = encoding.removesuffix("-sig")
    response = StreamingHttpResponse(body, content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
