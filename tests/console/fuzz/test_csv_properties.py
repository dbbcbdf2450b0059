"""CSV ingestion under Hypothesis: any bytes get a profile or a clear CsvError (never another
exception, never a hang), well-formed tables are profiled correctly, and the upload API
answers 201 or 400 in its error shape whatever the file."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.datasets.schema import CsvError, profile_csv
from tests.console.datasets.helpers import upload

BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Cells a hostile or careless uploader produces: formulas, quotes, separators, line breaks,
# NUL bytes, non-ASCII (Chinese included), and the occasional huge field.
HOSTILE = st.sampled_from(
    ["=1+1", "@SUM(A1)", "+1", "-1", "\t=x", '"', '""', ",", "\n", "\r\n", "\x00", "客户", "é"]
)
CELL = st.one_of(
    st.text(max_size=12),
    HOSTILE,
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True).map(str),
    st.just("x" * 200_000),
)
NAME = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10)
ENCODING = st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16", "latin-1"])


@st.composite
def csv_bytes(draw) -> bytes:
    """Tables with ragged rows, hostile cells and an encoding that may not be supported."""
    width = draw(st.integers(1, 6))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 2), max_size=8))
    header = draw(st.lists(NAME, min_size=width, max_size=width))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(
        [header, *rows]
    )
    text = buffer.getvalue()
    if draw(st.booleans()):
        text += '1,"unclosed\n2,3\n'
    return text.encode(draw(ENCODING), errors="replace")


def _profile_or_error(path):
    """The profile, or the CsvError raised (any other exception fails the test)."""
    try:
        return profile_csv(path)
    except CsvError as error:
        return error


@BOUNDED
@given(content=st.one_of(csv_bytes(), st.binary(max_size=2000)))
def test_any_bytes_get_a_profile_or_a_clear_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("csv") / "upload.csv"
    path.write_bytes(content)
    outcome = _profile_or_error(path)
    if isinstance(outcome, CsvError):
        assert str(outcome).strip()
        assert "Traceback" not in str(outcome)
    else:
        assert outcome.row_count >= 1
        assert outcome.columns


@st.composite
def clean_tables(draw):
    width = draw(st.integers(1, 5))
    header = draw(
        st.lists(NAME.map(lambda n: "c" + n), min_size=width, max_size=width, unique=True)
    )
    safe = st.text(st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=8)
    rows = draw(st.lists(st.lists(safe, min_size=width, max_size=width), min_size=1, max_size=12))
    return header, rows


@BOUNDED
@given(table=clean_tables())
def test_a_well_formed_table_is_profiled_exactly(tmp_path_factory, table):
    header, rows = table
    rows = [[cell if cell.strip() else "x" for cell in row] for row in rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_bytes(buffer.getvalue().encode())
    profile = _profile_or_error(path)
    assert not isinstance(profile, CsvError), profile
    assert profile.column_names == [name.strip() for name in header]
    assert profile.row_count == len(rows)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=csv_bytes())
def test_the_upload_api_answers_201_or_400_in_shape(api_alice, storage, content):
    response = upload(api_alice, content, name="fuzz")
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 400:
        body = response.json()
        assert body["code"] == "invalid_csv" or body["code"].startswith("duplicate"), body
        assert body["detail"]
    else:
        from console.datasets.models import Dataset

        Dataset.objects.filter(pk=response.json()["id"]).delete()
