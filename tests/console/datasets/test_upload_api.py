"""POST /api/v1/datasets/: good CSVs are stored and profiled; every bad upload answers 400
naming the problem and leaves no file (stored or temporary), no row, and a failed audit event."""

from __future__ import annotations

import pytest
from django.test import Client

from console.audit.models import AuditEvent
from console.datasets.models import Dataset
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import (
    CSV,
    LIST,
    assert_nothing_left,
    leftovers,
    multipart,
    upload,
)

BAD_FILES = {
    "empty": (b"", "The file is empty"),
    "blank-lines": (b"\n\n\n", "The file is empty"),
    "header-only": (b"id,age\n", "header row (2 columns) but no data rows"),
    "no-header": (b"1,34,5200\n2,41,3900\n", "no header row"),
    "ragged": (b"id,age\n1,34\n2,41,extra\n", "Line 3 has 3 fields, expected 2"),
    "short-row": (b"id,age,x\n1,34,0\n2\n", "Line 3 has 1 field, expected 3"),
    "duplicate-names": (b"id,age,id\n1,2,3\n", "Duplicate column names in the header: 'id'"),
    "empty-name": (b"id,,age\n1,2,3\n", "empty column name (column 2)"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image, not a CSV"),
    "nul-bytes": (b"id,age\n1,\x00\x00\x00\n", "binary data (a NUL byte"),
    "latin-1": ("name,city\nx,Zürich\n".encode("latin-1"), "encoding is not supported"),
    "utf-16": ("id,age\n1,2\n".encode("utf-16"), "encoded as UTF-16"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_it_refuses_bad_files_leaving_nothing(api_alice, case):
    content, message = BAD_FILES[case]
    body = assert_error(upload(api_alice, content), 400, "invalid_csv")
    assert message in body["detail"], body
    assert_nothing_left()


@pytest.mark.parametrize(
    "filename",
    [
        "../customers.csv",
        "/etc/passwd",
        "a/b.csv",
        "..\\evil.csv",
        "C:\\data\\x.csv",
        "..",
        "x\t.csv",
    ],
)
def test_it_refuses_path_like_file_names(api_alice, filename):
    body = assert_error(upload(api_alice, filename=filename), 400, "invalid_file_name")
    assert repr(filename) in body["detail"], body
    assert_nothing_left()


def test_it_audits_a_failed_upload(api_alice, alice):
    upload(api_alice, b"id,age\n")
    event = AuditEvent.objects.get(action="upload")
    assert event.outcome == "failed"
    assert event.actor_node == alice
    assert "no data rows" in event.detail["reason"]


def test_it_refuses_a_file_over_the_limit_while_streaming(api_alice, settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 40
    body = assert_error(upload(api_alice, CSV), 400, "file_too_large")
    assert body["detail"] == "file: The file exceeds the upload limit of 40 bytes (it is 63 bytes)."
    assert_nothing_left()
    assert AuditEvent.objects.get(action="upload").outcome == "failed"


def test_it_refuses_an_oversized_request_from_its_content_length(api_alice, settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 2048
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    content = b"id,v\n" + b"1,2\n" * 40_000
    body = assert_error(upload(api_alice, content), 400, "file_too_large")
    assert body["detail"] == "file: The file exceeds the upload limit of 2 KiB."
    assert_nothing_left()


def test_it_accepts_a_file_exactly_at_the_limit(api_alice, settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = len(CSV)
    assert upload(api_alice, CSV).status_code == 201


def test_it_requires_a_file(api_alice):
    body, content_type = multipart(None, b"", name="customers")
    response = api_alice.post(LIST, data=body, content_type=content_type)
    assert "Choose a CSV file" in assert_error(response, 400, "required")["detail"]
    assert_nothing_left()


def test_it_requires_a_name(api_alice):
    body = assert_error(upload(api_alice, name="  "), 400, "required")
    assert "needs a name" in body["detail"]
    assert_nothing_left()


def test_it_refuses_a_name_taken_on_the_node(api_alice, alice):
    assert upload(api_alice, name="customers").status_code == 201
    stored = leftovers()
    body = assert_error(upload(api_alice, name="Customers"), 400, "duplicate_name")
    assert "already has a dataset named 'Customers'" in body["detail"]
    assert leftovers() == stored
    assert Dataset.objects.count() == 1


def test_it_allows_the_same_name_on_another_node(api_alice, api_bob):
    assert upload(api_alice).status_code == 201
    assert upload(api_bob).status_code == 201


def test_it_refuses_users_without_a_node(api_admin):
    body = assert_error(upload(api_admin), 400, "no_node")
    assert "belongs to no node" in body["detail"]
    assert_nothing_left()


def test_it_requires_login_to_upload(api_anon, alice):
    assert_error(upload(api_anon), 401, "not_authenticated")
    assert_nothing_left()


def test_it_refuses_json_bodies(api_alice):
    response = api_alice.post(LIST, {"name": "x"}, format="json")
    assert_error(response, 415)


def test_it_stores_the_file_in_the_node_storage(api_alice, alice):
    response = upload(api_alice)
    assert response.status_code == 201, response.json()
    dataset = Dataset.objects.get()
    assert leftovers() == sorted([dataset.path, dataset.table_path])
    assert dataset.path.parent == alice.storage_root / "datasets"
    assert dataset.path.read_bytes() == CSV
    assert dataset.original_filename == "customers.csv"
    assert AuditEvent.objects.get(action="upload").outcome == "success"


def test_it_answers_the_profiled_schema(api_alice):
    body = upload(api_alice).json()
    assert body["columns"] == [
        {"name": "id", "type": "int", "nulls": 0},
        {"name": "age", "type": "int", "nulls": 1},
        {"name": "income", "type": "float", "nulls": 1},
        {"name": "member", "type": "bool", "nulls": 0},
    ]
    assert body["row_count"] == 3
    assert body["encoding"] == "utf-8"
    assert "relative_path" not in body
    assert "path" not in body


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("客户编号,年龄,城市\n1,30,北京\n2,41,上海\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "客户编号,年龄,城市\n1,30,北京\n2,41,上海\n".encode(), "utf-8-sig"),
        ("客户编号,年龄,城市\n1,30,北京\n2,41,上海\n".encode("gbk"), "gbk"),
    ],
)
def test_it_accepts_chinese_names_in_every_supported_encoding(api_alice, content, encoding):
    body = upload(api_alice, content).json()
    assert body["encoding"] == encoding
    assert [c["name"] for c in body["columns"]] == ["客户编号", "年龄", "城市"]
    assert [c["type"] for c in body["columns"]] == ["int", "int", "str"]


def test_it_accepts_quoted_fields_with_commas_and_newlines(api_alice):
    content = b'id,note\n1,"a, b"\n2,"first\nsecond"\n3,"he said ""no"""\n'
    body = upload(api_alice, content).json()
    assert body["row_count"] == 3
    assert body["columns"][1] == {"name": "note", "type": "str", "nulls": 0}


def test_it_profiles_a_large_file_through_many_chunks(api_alice, tmp_path, monkeypatch):
    monkeypatch.setattr("console.datasets.schema.DEFAULT_CHUNK_CELLS", 100_000)
    rows = 200_000
    path = tmp_path / "large.csv"
    with path.open("w") as out:
        out.write("id,amount,score,flag,comment\n")
        for i in range(rows):
            # score is int until the last chunk's row, comment null except every 1000th row.
            score = "0.5" if i == rows - 7 else str(i % 97)
            comment = f"c{i}" if i % 1000 == 0 else ""
            out.write(f"{i},{i * 1.25},{score},{'true' if i % 3 else 'false'},{comment}\n")
    response = upload(api_alice, path.read_bytes(), filename="large.csv")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["row_count"] == rows
    assert body["columns"] == [
        {"name": "id", "type": "int", "nulls": 0},
        {"name": "amount", "type": "float", "nulls": 0},
        {"name": "score", "type": "float", "nulls": 0},
        {"name": "flag", "type": "bool", "nulls": 0},
        {"name": "comment", "type": "str", "nulls": rows - rows // 1000},
    ]
    assert body["size_bytes"] == path.stat().st_size


def test_it_keeps_the_csrf_token_sent_before_an_oversized_file(alice_user, settings):
    settings.PRIVPAD_UPLOAD_MAX_BYTES = 2048
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_user)
    secret = "a" * 32
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    content = b"id,v\n" + b"1,2\n" * 40_000
    body, content_type = multipart("big.csv", content, csrfmiddlewaretoken=secret, name="big")
    response = client.post(LIST, data=body, content_type=content_type)
    assert assert_error(response, 400, "file_too_large")["detail"].endswith("limit of 2 KiB.")
    assert_nothing_left()
