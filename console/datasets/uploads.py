"""Streaming upload handler: files go to disk chunk by chunk, capped at PRIVPAD_UPLOAD_MAX_BYTES.

- Each file part is written in the parser's chunks (64 KiB) to a private temporary file under
  `settings.UPLOAD_TEMP_DIR` (same filesystem as the node storage, so the dataset service can
  move it into place with one `os.replace`). Nothing is held whole in memory.
- A request whose Content-Length alone exceeds the limit (plus room for the multipart envelope
  and the small text fields) is refused up front: parsing stops at the first file part, whose
  content is neither read nor written. The fields sent before it (the CSRF token and the name,
  in the order forms send them) are kept, so the page still passes its CSRF check and can say
  why. Under ASGI the server has received the body already; this saves parsing and writing it.
- A part that grows past the limit while streaming has its partial file removed at once; the
  rest of that part is read and discarded.
- Either way the request carries a `RejectedUpload` (no content, a `rejection` message naming
  the limit in human units) in place of the file, so forms and the dataset service answer 400
  with that message instead of "no file".
- The temporary file is removed when the upload is closed: by the service, on failure, or by
  Django at the end of the request (`HttpRequest.close()`), whichever comes first; a file the
  service moved into node storage is simply gone from the temporary directory by then.
- Django strips path components from the file name the client sent; the dataset service must
  refuse such names instead, so the parser used here remembers the name as sent
  (`client_name`).
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser

# The form field that carries the CSV, in the pages and the API alike.
UPLOAD_FIELD = "file"
# Multipart boundaries and part headers on top of the file and the text fields.
ENVELOPE_BYTES = 64 * 1024


def human_bytes(size: int) -> str:
    """`2147483648` -> `2 GiB`, `1536` -> `1.5 KiB`, `100` -> `100 bytes`."""
    if size < 1024:
        return f"{size} byte{'s' * (size != 1)}"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def limit_message(size: int | None = None) -> str:
    """The refusal of a file over the limit, naming the limit (and the size when known)."""
    limit = human_bytes(settings.PRIVPAD_UPLOAD_MAX_BYTES)
    if size is None:
        return f"The file exceeds the upload limit of {limit}."
    return f"The file exceeds the upload limit of {limit} (it is {human_bytes(size)})."


def envelope_allowance() -> int:
    return ENVELOPE_BYTES + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


class StreamedUpload(UploadedFile):
    """An uploaded file kept in a private temporary file; closing it removes the file."""

    def __init__(self, name: str, client_name: str, content_type: str, charset) -> None:
        directory = Path(settings.UPLOAD_TEMP_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
        super().__init__(os.fdopen(descriptor, "w+b"), name, content_type, 0, charset)
        self.client_name = client_name
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path

    def close(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            self.file.close()
        # Gone already when the dataset service moved it into node storage.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


class RejectedUpload(UploadedFile):
    """Stands for a file refused while uploading: no content, `rejection` says why."""

    def __init__(self, name: str, client_name: str, size: int, rejection: str) -> None:
        super().__init__(io.BytesIO(), name or "upload", "application/octet-stream", size)
        self.client_name = client_name
        self.rejection = rejection


class _ClientNameParser(MultiPartParser):
    """Django's multipart parser, remembering each file name exactly as the client sent it."""

    def __init__(self, *args, on_file_name, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_file_name = on_file_name

    def sanitize_file_name(self, file_name):
        # Django unescapes HTML entities first (`a&#x2F;b` is `a/b`): judge the name it sees.
        self._on_file_name(html.unescape(file_name))
        # A name Django would drop ("..", only separators) still reaches the service, which
        # refuses it by name; an empty name means no file was chosen.
        return super().sanitize_file_name(file_name) or ("upload" if file_name else None)


class NodeStorageUploadHandler(FileUploadHandler):
    """Stream every uploaded file to `UPLOAD_TEMP_DIR`, enforcing the upload size limit."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self._parsing = False
        self._client_name = ""
        self.upload: StreamedUpload | None = None
        self._received = 0
        self._rejected = False
        self._request_too_large = False
        self._request_length = 0
        self._stopped: tuple[str, str, int] | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self._parsing:
            return None  # Called again by the parser started below.
        limit = settings.PRIVPAD_UPLOAD_MAX_BYTES
        # No file within the limit fits a body this large: stop at the first file part.
        self._request_length = content_length or 0
        self._request_too_large = bool(content_length) and (
            content_length > limit + envelope_allowance()
        )
        self._parsing = True
        try:
            handlers = self.request.upload_handlers if self.request is not None else [self]
            parser = _ClientNameParser(
                META, input_data, handlers, encoding, on_file_name=self._remember_name
            )
            post, files = parser.parse()
        finally:
            self._parsing = False
        if self._stopped is not None:
            field_name, file_name, declared = self._stopped
            rejected = RejectedUpload(file_name, self._client_name, declared, limit_message())
            files.appendlist(field_name, rejected)
        return post, files

    def _remember_name(self, file_name: str) -> None:
        self._client_name = file_name

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, *args):
        super().new_file(field_name, file_name, content_type, content_length, charset, *args)
        if self._request_too_large:
            self._stopped = (field_name, file_name, self._request_length)
            raise StopUpload(connection_reset=True)
        self._received = 0
        limit = settings.PRIVPAD_UPLOAD_MAX_BYTES
        self._rejected = content_length is not None and content_length > limit
        self.upload = None
        if not self._rejected:
            client_name = self._client_name or file_name
            self.upload = StreamedUpload(file_name, client_name, content_type, charset)

    @property
    def file(self):
        # Django's parser closes `handler.file` when it stops an upload early.
        return self.upload if self.upload is not None else io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._rejected:
            return None
        if self._received > settings.PRIVPAD_UPLOAD_MAX_BYTES:
            self._rejected = True
            self._discard()
            return None
        self.upload.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        if self._rejected:
            self._discard()
            name = self.file_name or ""
            client_name = self._client_name or name
            return RejectedUpload(name, client_name, self._received, limit_message(self._received))
        upload, self.upload = self.upload, None
        upload.flush()
        upload.seek(0)
        upload.size = file_size
        return upload

    def upload_interrupted(self) -> None:
        self._discard()

    def _discard(self) -> None:
        if self.upload is not None:
            self.upload.close()
            self.upload = None
