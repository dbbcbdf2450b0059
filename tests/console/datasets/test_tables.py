"""Datasets get their typed table at upload (one dialect: semicolons and tabs detected or
refused with the reason); older datasets are converted by `manage.py convert_datasets`."""

from __future__ import annotations

import os

import pytest
from django.core.management import CommandError, call_command

from console.datasets.models import Dataset
from tests.console.api.helpers import assert_error
from tests.console.datasets.helpers import assert_nothing_left, upload
from workflows.tabular.files import read_frame, stored_metadata

pytestmark = pytest.mark.django_db


def test_a_semicolon_separated_upload_is_split_into_its_columns(api_alice):
    response = upload(api_alice, b"id;city;amount\n1;Paris, France;2.5\n2;Rome;3\n")
    assert response.status_code == 201, response.json()
    dataset = Dataset.objects.get()
    assert dataset.columns == [
        {"name": "id", "type": "int", "nulls": 0},
        {"name": "city", "type": "str", "nulls": 0},
        {"name": "amount", "type": "float", "nulls": 0},
    ]
    assert stored_metadata(dataset.table_path)["delimiter"] == ";"
    frame = read_frame(dataset.table_path, ["city", "amount"])
    assert frame["city"].tolist() == ["Paris, France", "Rome"]
    preview = api_alice.get(f"/api/v1/datasets/{dataset.pk}/preview/").json()
    assert preview["rows"] == [["1", "Paris, France", "2.5"], ["2", "Rome", "3"]]


def test_a_tab_separated_upload_is_split_into_its_columns(api_alice):
    response = upload(api_alice, b"id\tnote\n1\tn/a\n2\tok\n")
    assert response.status_code == 201, response.json()
    assert Dataset.objects.get().column_names == ["id", "note"]


def test_an_inconsistently_delimited_upload_is_refused_with_the_reason(api_alice):
    response = upload(api_alice, b"id;city;amount\n1;Paris\n2;Rome;3;4\n")
    body = assert_error(response, 400, "invalid_csv")
    assert "3 columns separated by semicolons, but record 2 has 2 fields" in str(body)
    assert_nothing_left()


def test_convert_datasets_converts_what_has_no_current_table(api_alice, capsys):
    assert upload(api_alice).status_code == 201
    dataset = Dataset.objects.get()
    call_command("convert_datasets", "--check")
    assert capsys.readouterr().out == "0 dataset(s) need converting.\n"
    dataset.table_path.unlink()
    call_command("convert_datasets", "--check")
    assert "needs converting: alice/customers" in capsys.readouterr().out
    call_command("convert_datasets")
    assert "converted alice/customers" in capsys.readouterr().out
    assert read_frame(dataset.table_path, ["id"])["id"].tolist() == [1, 2, 3]


def test_convert_datasets_names_a_dataset_whose_csv_no_longer_fits(api_alice):
    assert upload(api_alice).status_code == 201
    dataset = Dataset.objects.get()
    dataset.path.write_bytes(b"id,age,income,member\nx,34,5200.5,true\n")
    later = dataset.table_path.stat().st_mtime_ns + 10**9
    os.utime(dataset.path, ns=(later, later))
    with pytest.raises(CommandError, match="alice/customers .*column 'id' is int"):
        call_command("convert_datasets")


def test_the_owner_sees_the_detected_delimiter_on_the_dataset_page(api_alice, alice_user, client):
    assert upload(api_alice, b"id;city\n1;Paris\n").status_code == 201
    dataset = Dataset.objects.get()
    client.force_login(alice_user)
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "utf-8, semicolon-separated" in page
