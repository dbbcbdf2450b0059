"""console.datasets.uploads: human units, streaming to disk, the cap, and temp-file cleanup."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory

from console.datasets.uploads import (
    NodeStorageUploadHandler,
    RejectedUpload,
    StreamedUpload,
    human_bytes,
)
from tests.console.datasets.helpers import multipart


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5 MiB"),
        (2 * 1024**3, "2 GiB"),
        (3 * 1024**4, "3 TiB"),
    ],
)
def test_it_names_sizes_in_human_units(size, text):
    assert human_bytes(size) == text


def temp_files() -> list[Path]:
    return sorted(Path(settings.UPLOAD_TEMP_DIR).iterdir())


def parse(content: bytes, filename: str = "data.csv"):
    """Parse a multipart upload through the configured handlers, as a view would."""
    body, content_type = multipart(filename, content, name="n")
    request = RequestFactory().post("/upload/", data=body, content_type=content_type)
    return request, request.FILES


def test_it_streams_the_file_to_the_upload_directory(storage):
    request, files = parse(b"a,b\n1,2\n")
    upload = files["file"]
    assert isinstance(upload, StreamedUpload)
    assert Path(upload.temporary_file_path()).parent == settings.UPLOAD_TEMP_DIR
    assert upload.read() == b"a,b\n1,2\n"
    assert upload.size == 8
    assert request.POST["name"] == "n"


def test_it_writes_chunk_by_chunk(storage):
    handler = NodeStorageUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", None)
    chunk = b"x" * handler.chunk_size
    for index in range(8):
        handler.receive_data_chunk(chunk, index * len(chunk))
        # Each chunk goes to the file (on disk once flushed), not into a buffer of ours.
        handler.upload.flush()
        assert Path(handler.upload.temporary_file_path()).stat().st_size == (index + 1) * len(chunk)
    upload = handler.file_complete(8 * len(chunk))
    assert upload.size == 8 * len(chunk)
    upload.close()
    assert temp_files() == []


def test_it_removes_the_temporary_file_when_closed(storage):
    _request, files = parse(b"a,b\n1,2\n")
    assert len(temp_files()) == 1
    files["file"].close()
    assert temp_files() == []


def test_it_removes_the_temporary_file_at_the_end_of_the_request(storage):
    request, _files = parse(b"a,b\n1,2\n")
    request.close()
    assert temp_files() == []


def test_it_discards_a_file_growing_past_the_limit(settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 10
    _request, files = parse(b"a,b\n" + b"1,2\n" * 10)
    upload = files["file"]
    assert isinstance(upload, RejectedUpload)
    assert upload.rejection == "The file exceeds the upload limit of 10 bytes (it is 44 bytes)."
    assert temp_files() == []


def test_it_refuses_by_content_length_without_reading_the_file(settings, monkeypatch):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 10
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    def must_not_read(self, raw_data, start):
        raise AssertionError("the file part of an oversized request was read")

    monkeypatch.setattr(NodeStorageUploadHandler, "receive_data_chunk", must_not_read)
    request, files = parse(b"x" * (70 * 1024))
    upload = files["file"]
    assert isinstance(upload, RejectedUpload)
    assert upload.rejection == "The file exceeds the upload limit of 10 bytes."
    assert upload.size > 70 * 1024
    # Fields sent before the file (CSRF token, name) still arrive.
    assert request.POST["name"] == "n"
    assert temp_files() == []


def test_it_refuses_a_part_declaring_a_length_over_the_limit(settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 10
    handler = NodeStorageUploadHandler()
    handler.new_file("file", "x.csv", "text/csv", 11)
    handler.receive_data_chunk(b"0123456789A", 0)
    assert isinstance(handler.file_complete(11), RejectedUpload)
    assert temp_files() == []


def test_it_cleans_up_an_interrupted_upload(storage):
    handler = NodeStorageUploadHandler()
    handler.new_file("file", "x.csv", "text/csv", None)
    handler.receive_data_chunk(b"a,b\n", 0)
    assert len(temp_files()) == 1
    handler.upload_interrupted()
    assert temp_files() == []


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("../x.csv", "../x.csv"),
        ("a\\b.csv", "a\\b.csv"),
        ("..", ".."),
        ("dir/sub/x.csv", "dir/sub/x.csv"),
        ("a&#x2F;b.csv", "a/b.csv"),
    ],
)
def test_it_remembers_the_file_name_as_sent(storage, sent, seen):
    _request, files = parse(b"a\n1\n", filename=sent)
    upload = files["file"]
    assert upload.client_name == seen
    assert "/" not in upload.name
    upload.close()


def test_it_treats_an_empty_file_name_as_no_file(storage):
    _request, files = parse(b"", filename="")
    assert "file" not in files
    assert temp_files() == []
