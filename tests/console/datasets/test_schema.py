"""console.datasets.schema: encodings, names, types, nulls, chunking and every refusal."""

from __future__ import annotations

import hashlib

import pytest

from console.datasets.schema import CsvError, merge_kinds, profile_csv, read_rows


@pytest.fixture
def write(tmp_path):
    def write(content: bytes | str, name: str = "data.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


def types_of(profile) -> dict[str, str]:
    return {column.name: column.type for column in profile.columns}


def nulls_of(profile) -> dict[str, int]:
    return {column.name: column.nulls for column in profile.columns}


def refusal(path) -> str:
    with pytest.raises(CsvError) as caught:
        profile_csv(path)
    return str(caught.value)


def test_it_profiles_types_nulls_and_rows(write):
    content = "id,score,ok,city\n1,1.5,true,Paris\n2,,False,\n3,2,yes,Rome\n"
    profile = profile_csv(write(content))
    assert types_of(profile) == {"id": "int", "score": "float", "ok": "bool", "city": "str"}
    assert nulls_of(profile) == {"id": 0, "score": 1, "ok": 0, "city": 1}
    assert profile.row_count == 3
    assert profile.encoding == "utf-8"


def test_it_hashes_and_measures_the_bytes(write):
    content = b"a,b\n1,2\n"
    profile = profile_csv(write(content))
    assert profile.sha256 == hashlib.sha256(content).hexdigest()
    assert profile.size_bytes == len(content)


def test_it_counts_null_markers_and_blank_cells(write):
    content = "a,b\n1,NA\n2, \n3,null\n4,N/A\n5,x\n"
    profile = profile_csv(write(content))
    assert nulls_of(profile) == {"a": 0, "b": 4}
    assert types_of(profile)["b"] == "str"


def test_it_types_an_all_null_column_as_str(write):
    assert types_of(profile_csv(write("a,b\n1,\n2,NA\n")))["b"] == "str"


def test_it_reads_utf8_with_bom_without_keeping_the_bom(write):
    profile = profile_csv(write(b"\xef\xbb\xbfid,v\n1,2\n"))
    assert profile.encoding == "utf-8-sig"
    assert profile.column_names == ["id", "v"]


def test_it_reads_gbk_with_chinese_names(write):
    content = "编号,姓名,收入\n1,张三,3.5\n2,李四,4\n".encode("gbk")
    profile = profile_csv(write(content))
    assert profile.encoding == "gbk"
    assert types_of(profile) == {"编号": "int", "姓名": "str", "收入": "float"}


def test_it_keeps_non_ascii_and_odd_names_exactly(write):
    names = ["客户 ID", "<b>x</b>", " padded ", "naïve"]
    content = ",".join(f'"{n}"' for n in names) + "\n1,2,3,4\n"
    assert profile_csv(write(content)).column_names == names


def test_it_handles_quoted_commas_newlines_and_quotes(write):
    content = 'id,note\n1,"a, b"\n2,"line one\nline two"\n3,"say ""hi"""\n'
    profile = profile_csv(write(content))
    assert profile.row_count == 3
    assert types_of(profile) == {"id": "int", "note": "str"}


def test_it_ignores_blank_lines(write):
    assert profile_csv(write("a,b\n\n1,2\n\n3,4\n\n")).row_count == 2


def test_it_accepts_crlf_line_endings(write):
    profile = profile_csv(write("a,b\r\n1,2.5\r\n3,4\r\n"))
    assert types_of(profile) == {"a": "int", "b": "float"}


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1", "-2", "+3"], "int"),
        (["1.5", "2", "1e3", "-.5"], "float"),
        (["inf", "1.0"], "float"),
        (["true", "FALSE", "Yes", "no"], "bool"),
        (["1", "true"], "str"),
        (["1", "abc"], "str"),
        (["1,000"], "str"),
        (["0x1F"], "str"),
    ],
)
def test_it_infers_the_narrowest_type(write, cells, expected):
    content = "name,value\n" + "".join(f'r{i},"{c}"\n' for i, c in enumerate(cells))
    assert types_of(profile_csv(write(content)))["value"] == expected, cells


def test_it_combines_types_across_chunks(write):
    rows = [f"{i},{i},{i},{'true' if i % 2 else 'false'},\n" for i in range(1000)]
    rows[900] = "900,900.5,text,true,late\n"
    content = "i,f,s,b,n\n" + "".join(rows)
    profile = profile_csv(write(content), chunk_cells=500)
    assert profile.chunks == 10
    assert types_of(profile) == {"i": "int", "f": "float", "s": "str", "b": "bool", "n": "str"}
    assert nulls_of(profile) == {"i": 0, "f": 0, "s": 0, "b": 0, "n": 999}
    assert profile.row_count == 1000


@pytest.mark.parametrize(
    ("left", "right", "merged"),
    [
        (None, "int", "int"),
        ("int", None, "int"),
        ("int", "int", "int"),
        ("int", "float", "float"),
        ("float", "int", "float"),
        ("bool", "int", "str"),
        ("float", "str", "str"),
        ("bool", "bool", "bool"),
        (None, None, None),
    ],
)
def test_it_merges_chunk_types(left, right, merged):
    assert merge_kinds(left, right) == merged


def test_it_refuses_an_empty_file(write):
    assert "empty" in refusal(write(b""))


def test_it_refuses_a_file_of_blank_lines(write):
    assert "empty" in refusal(write("\n\n\r\n"))


def test_it_refuses_a_bom_only_file(write):
    assert "empty" in refusal(write(b"\xef\xbb\xbf"))


def test_it_refuses_a_header_without_rows(write):
    assert "header row (3 columns) but no data rows" in refusal(write("a,b,c\n"))


def test_it_refuses_numeric_header_cells_as_missing_header(write):
    message = refusal(write("1,2.5,x\n3,4,y\n"))
    assert "no header row" in message
    assert "'1'" in message


def test_it_refuses_a_first_row_of_values_of_each_column_type(write):
    assert "no header row" in refusal(write("true,no\nfalse,yes\ntrue,yes\n"))


def test_it_accepts_names_that_merely_contain_digits(write):
    assert profile_csv(write("x1,2nd\n1,2\n")).column_names == ["x1", "2nd"]


def test_it_refuses_a_row_with_too_many_fields_naming_the_line(write):
    message = refusal(write('a,b\n1,"x\ny"\n2,3,4\n'))
    assert message.startswith("Line 4 has 3 fields, expected 2"), message


def test_it_refuses_a_row_with_too_few_fields_naming_the_line(write):
    message = refusal(write("a,b,c\n1,2,3\n\n4,5\n"))
    assert message.startswith("Line 4 has 2 fields, expected 3"), message


def test_it_refuses_duplicate_names_listing_them(write):
    message = refusal(write("id,x,id,y,x\n1,2,3,4,5\n"))
    assert "Duplicate column names" in message
    assert "'id' (columns 1, 3)" in message
    assert "'x' (columns 2, 5)" in message


@pytest.mark.parametrize("header", ["a,,c", "a, ,c", '"a","","c"'])
def test_it_refuses_empty_column_names(write, header):
    message = refusal(write(f"{header}\n1,2,3\n"))
    assert "empty column name (column 2)" in message, message


def test_it_refuses_a_column_name_over_the_limit_naming_the_column(write):
    message = refusal(write(f"id,{'n' * 5000},x\n1,2,3\n"))
    assert "The name of column 2 is 5,000 characters long; at most 255" in message, message


def test_a_column_name_at_the_limit_is_kept_whole(write):
    name = "名" * 255
    assert profile_csv(write(f"id,{name}\n1,2\n")).column_names == ["id", name]


def test_it_refuses_binary_data_with_nul_bytes(write):
    message = refusal(write(b"a,b\n1,2\n\x00\x01\x02garbage"))
    assert "binary data" in message
    assert "offset 8" in message


def test_it_names_an_excel_workbook(write):
    assert "Excel .xlsx" in refusal(write(b"PK\x03\x04\x14\x00rest-of-zip"))


def test_it_refuses_utf16_by_name(write):
    assert "UTF-16" in refusal(write("a,b\n1,2\n".encode("utf-16")))


def test_it_refuses_undecodable_text_naming_the_byte_and_line(write):
    message = refusal(write("name,city\nx,Zürich\ny,café\n".encode("latin-1")))
    assert "neither UTF-8" in message
    assert "nor GBK" in message
    assert "line 2" in message, message


def test_it_refuses_a_bom_followed_by_invalid_utf8(write):
    message = refusal(write(b"\xef\xbb\xbfa,b\n1,\xff\n"))
    assert "byte-order mark but is not UTF-8" in message


def test_it_reads_back_the_first_rows_with_nulls_as_none(write):
    path = write('id,note\n1,a\n2,\n3,"x, y"\n4,NA\n')
    header, rows = read_rows(path, "utf-8", 3)
    assert header == ["id", "note"]
    assert rows == [["1", "a"], ["2", None], ["3", "x, y"]]


def test_it_reads_back_gbk_rows(write):
    path = write("名字,值\n张三,1\n".encode("gbk"))
    assert read_rows(path, "gbk", 10) == (["名字", "值"], [["张三", "1"]])


def test_it_refuses_latin1_text_that_happens_to_decode_as_gbk(write):
    content = "name,city\nJürgen,Zürich\nMüller,Straße\n".encode("latin-1")
    message = refusal(write(content))
    assert "does not look like GBK" in message
    assert "Latin-1" in message


def test_it_accepts_gbk_text_mixing_chinese_and_ascii_letters(write):
    content = "姓名,备注\n张三abc,北京Beijing\n李四,上海\n".encode("gbk")
    assert profile_csv(write(content)).encoding == "gbk"


def test_it_skips_spaces_after_commas(write):
    profile = profile_csv(write("id, age, city\n1, 34, Paris\n2,  , Rome\n"))
    assert profile.column_names == ["id", "age", "city"]
    assert types_of(profile) == {"id": "int", "age": "int", "city": "str"}
    assert nulls_of(profile)["age"] == 1


def test_it_types_integers_beyond_int64_as_str(write):
    assert types_of(profile_csv(write("a\n99999999999999999999\n")))["a"] == "str"


def test_it_takes_true_false_in_any_case_and_yes_no_as_listed(write):
    profile = profile_csv(write("a,b,c\ntRuE,Yes,yEs\nfalse,no,no\n"))
    assert types_of(profile) == {"a": "bool", "b": "bool", "c": "str"}


def test_it_reads_back_with_the_profiled_types(write):
    import pandas as pd

    from console.datasets.schema import kind_of, pandas_read_options

    path = write("id,score,ok,city\n1,1.5,true,Paris\n2,,no,\n")
    profile = profile_csv(path)
    frame = pd.read_csv(path, **pandas_read_options(profile.encoding))
    assert {name: kind_of(frame[name].dtype) for name in frame} == types_of(profile)
    assert frame.isna().sum().to_dict() == nulls_of(profile)


def test_it_locates_a_ragged_row_after_many_good_ones(write):
    content = "a,b\n" + "1,2\n" * 5000 + "3\n" + "4,5\n" * 10
    assert refusal(write(content)).startswith("Line 5002 has 1 field, expected 2")


def test_it_names_the_line_of_a_field_too_large_for_csv(write):
    message = refusal(write("a,b\n1,2\n3," + "x" * 200_000 + "\n"))
    assert message.startswith("Line 3 is not valid CSV: field larger than field limit"), message
