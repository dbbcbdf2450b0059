"""Validate and profile a CSV file in bounded memory (pure: no Django, no ORM).

`profile_csv(path)` reads the file twice, in streaming fashion:

1. Structure pass (bytes -> text -> csv records): sha256 and size of the bytes, refusal of
   binary files (known magic numbers, NUL bytes), the encoding, the header and the field count
   of every record (exact line numbers for ragged rows).
2. Profile pass: `pandas.read_csv(chunksize=...)` over the validated file, every cell read as
   text; each chunk updates per-column null counts and inferred types.

Encodings: UTF-8 (`utf-8`), UTF-8 with a byte-order mark (`utf-8-sig`) and GBK (`gbk`), tried in
that order; UTF-16/32 and anything undecodable are refused with a message saying so.

Rules: the product's one CSV dialect, `workflows.tabular.dialect` (delimiter detection,
quoting, spaces after a delimiter, null markers, true/false words, types); this module applies
it and adds what only an upload needs:
- Names are kept exactly as written, non-ASCII included. A name that is empty or only spaces,
  longer than `MAX_COLUMN_NAME_CHARS`, or that appears twice, is refused.
- Every non-blank record must have as many fields as the header.
- Types come from pandas' C parser over the non-null cells of each chunk, combined across
  chunks by `merge_kinds`; unsigned 64-bit integers (beyond int64) are text.
- No header: the first row is taken for data, and the file refused, when one of its cells is a
  number (a column named `2024` is refused too: rename it `y2024`), or when every column has a
  typed profile (int/float/bool) and every first-row cell is a value of that type.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workflows.tabular.dialect import (
    BOOL_WORDS,
    COMMA,
    FALSE_WORDS,
    NULL_MARKERS,
    TRUE_WORDS,
    DialectError,
    detect_delimiter,
    pandas_options,
)

__all__ = ["BOOL_WORDS", "FALSE_WORDS", "NULL_MARKERS", "TRUE_WORDS", "profile_csv"]

ENCODINGS = ("utf-8", "gbk")
INT_PATTERN = r"[+-]?\d+"
NUMBER_PATTERN = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
FLOAT_PATTERN = NUMBER_PATTERN + r"|[+-]?(?:inf|Inf|INF|infinity|Infinity)"
# Cells per pandas chunk: bounds memory whatever the width of the table.
DEFAULT_CHUNK_CELLS = 1_000_000
DEFAULT_MAX_COLUMNS = 2000
# Longest column name accepted: names travel in every schema, plan, page and parameter.
MAX_COLUMN_NAME_CHARS = 255
BLOCK_SIZE = 1 << 20
SNIFF_BYTES = 1 << 16
GBK_SAMPLE_BYTES = 1 << 20
# Leading bytes of formats people upload by mistake instead of exporting a CSV.
MAGIC_NUMBERS = {
    b"PK\x03\x04": "a ZIP archive (or an Excel .xlsx workbook)",
    b"\xd0\xcf\x11\xe0": "an Excel .xls / OLE document",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3\x00": "an SQLite database",
}
UTF16_32_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
UTF8_BOM = codecs.BOM_UTF8

_INT = re.compile(INT_PATTERN)
_NUMBER = re.compile(NUMBER_PATTERN)
_FLOAT = re.compile(FLOAT_PATTERN)


class CsvError(ValueError):
    """The file is not an acceptable CSV; the message names the problem for the uploader."""


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    nulls: int

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "nulls": self.nulls}


@dataclass(frozen=True)
class CsvProfile:
    encoding: str
    columns: list[ColumnProfile]
    row_count: int
    size_bytes: int
    sha256: str
    chunks: int = field(default=0, compare=False)
    delimiter: str = COMMA

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def profile_csv(
    path: str | Path, *, chunk_cells: int | None = None, max_columns: int = DEFAULT_MAX_COLUMNS
) -> CsvProfile:
    """Validate the CSV at `path` and return its schema; raise `CsvError` naming the problem.

    A file wider than `max_columns` is refused: every page, preview and schema of a dataset
    grows with its width, and nothing PrivPad computes needs thousands of columns.
    """
    path = Path(path)
    structure = scan_structure(path)
    width = len(structure.header)
    if width > max_columns:
        raise CsvError(
            f"The file has {width:,} columns; at most {max_columns:,} are accepted. Keep the "
            "columns the project needs and upload that."
        )
    chunk_rows = max(1, (chunk_cells or DEFAULT_CHUNK_CELLS) // width)
    kinds, nulls, rows, chunks = _profile_chunks(
        path, structure.encoding, structure.delimiter, width, chunk_rows
    )
    if rows != structure.rows:
        # Both passes parse the same bytes; a disagreement means quoting pandas reads otherwise.
        raise CsvError(
            f"The file's quoting is ambiguous: {structure.rows} data rows by one reading, "
            f'{rows} by another. Check quotes (") inside fields.'
        )
    columns = [
        ColumnProfile(name, kind or "str", count)
        for name, kind, count in zip(structure.header, kinds, nulls, strict=True)
    ]
    _refuse_data_as_header(structure.header, columns)
    return CsvProfile(
        encoding=structure.encoding,
        columns=columns,
        row_count=rows,
        size_bytes=structure.size_bytes,
        sha256=structure.sha256,
        chunks=chunks,
        delimiter=structure.delimiter,
    )


# --- Structure pass -------------------------------------------------------------------------


@dataclass(frozen=True)
class Structure:
    encoding: str
    header: list[str]
    rows: int
    size_bytes: int
    sha256: str
    delimiter: str = COMMA


class _Undecodable(Exception):
    def __init__(self, encoding: str, offset: int, line: int, byte: int) -> None:
        super().__init__(encoding, offset, line, byte)
        self.encoding, self.offset, self.line, self.byte = encoding, offset, line, byte

    def describe(self) -> str:
        return f"byte 0x{self.byte:02x} at offset {self.offset} (line {self.line})"


class _CheckingReader(io.RawIOBase):
    """A raw binary stream that hashes what is read, refuses NUL bytes (binary data) and checks
    that the bytes decode in `encoding`, locating the first bad byte (offset and line)."""

    def __init__(self, raw, encoding: str) -> None:
        self._raw = raw
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self.digest = hashlib.sha256()
        self.size = 0
        self._newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        nul = data.find(b"\x00")
        if nul >= 0:
            raise CsvError(
                f"The file is not a CSV text file: it contains binary data (a NUL byte at "
                f"offset {self.size + nul}). Export the data as CSV (UTF-8) and upload that."
            )
        self._check_decodes(data)
        self.digest.update(data)
        self.size += len(data)
        self._newlines += data.count(b"\n")
        buffer[: len(data)] = data
        return len(data)

    def _check_decodes(self, data: bytes) -> None:
        pending = self._decoder.getstate()[0]
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            # error.start indexes pending + data; bytes "\n" never occur inside a UTF-8 or
            # GBK multi-byte sequence, so counting them gives the line.
            offset = self.size - len(pending) + error.start
            before = (pending + data)[: error.start]
            line = self._newlines + before.count(b"\n") + 1
            raise _Undecodable(self._encoding, offset, line, error.object[error.start]) from None


def scan_structure(path: Path) -> Structure:
    """First pass: encoding, header, record widths, sha256. Raises `CsvError`."""
    with path.open("rb") as raw:
        head = raw.read(16)
    _refuse_known_binary(head)
    if not head:
        raise CsvError("The file is empty (0 bytes).")
    if head.startswith(UTF8_BOM):
        try:
            return _scan_as(path, "utf-8-sig")
        except _Undecodable as error:
            raise CsvError(
                f"The file starts with a UTF-8 byte-order mark but is not UTF-8: "
                f"{error.describe()} cannot be decoded. Save it as UTF-8 and upload it again."
            ) from None
    failures: list[_Undecodable] = []
    for encoding in ENCODINGS:
        try:
            structure = _scan_as(path, encoding)
        except _Undecodable as error:
            failures.append(error)
        else:
            if encoding == "gbk":
                _refuse_implausible_gbk(path, failures[0])
            return structure
    utf8, gbk = failures
    raise CsvError(
        f"The file's encoding is not supported: it is neither UTF-8 ({utf8.describe()} is "
        f"invalid) nor GBK ({gbk.describe()} is invalid). Save the CSV as UTF-8 and upload it "
        "again."
    )


def _refuse_implausible_gbk(path: Path, utf8: _Undecodable) -> None:
    """Refuse single-byte text (Latin-1, Windows-1252) that merely happens to decode as GBK.

    Chinese text in GBK is almost all GB2312 characters, both bytes >= 0xA1. An accented Latin
    letter followed by an ASCII letter decodes as a rare GBK extension character (trail byte
    0x40-0x7E), so when most double-byte characters of the first MiB are of that kind, the file
    is not GBK.
    """
    with path.open("rb") as raw:
        sample = raw.read(GBK_SAMPLE_BYTES)
    text = codecs.getincrementaldecoder("gbk")().decode(sample, final=False)
    pairs = [char.encode("gbk") for char in text if ord(char) > 0x7F]
    rare = sum(1 for pair in pairs if len(pair) == 2 and min(pair) < 0xA1)
    if pairs and 2 * rare > len(pairs):
        raise CsvError(
            f"The file's encoding is not supported: it is not UTF-8 ({utf8.describe()} is "
            "invalid) and does not look like GBK (it reads as rare characters, as single-byte "
            "encodings such as Latin-1 or Windows-1252 do). Save the CSV as UTF-8 and upload "
            "it again."
        )


def _refuse_known_binary(head: bytes) -> None:
    for bom, name in UTF16_32_BOMS.items():
        if head.startswith(bom):
            raise CsvError(
                f"The file is encoded as {name}; only UTF-8 (with or without BOM) and GBK are "
                "accepted. Save the CSV as UTF-8 and upload it again."
            )
    for magic, kind in MAGIC_NUMBERS.items():
        if head.startswith(magic):
            raise CsvError(f"The file is {kind}, not a CSV text file. Export it as CSV first.")


def _scan_as(path: Path, encoding: str) -> Structure:
    delimiter = _delimiter(path, encoding)
    with path.open("rb", buffering=0) as raw:
        checking = _CheckingReader(raw, encoding)
        text = io.TextIOWrapper(io.BufferedReader(checking, BLOCK_SIZE), encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
        header = _first_record(reader)
        _check_header(header)
        width = len(header)
        # Count record widths at C speed; locate a bad record only when there is one.
        try:
            widths = Counter(map(len, reader))
        except csv.Error as error:
            raise CsvError(f"Line {reader.line_num} is not valid CSV: {error}.") from None
    if set(widths) - {0, width}:
        _raise_ragged(path, encoding, delimiter, width)
    rows = widths[width]
    if rows == 0:
        raise CsvError(
            f"The file has a header row ({width} column{'s' * (width != 1)}) but no data rows."
        )
    digest = checking.digest.hexdigest()
    return Structure(encoding, header, rows, checking.size, digest, delimiter)


def _delimiter(path: Path, encoding: str) -> str:
    """The dialect's delimiter of the file, from its first 64 KiB (decodable: checked by the
    caller's pass, which names a bad byte better than this sample could)."""
    with path.open("rb") as raw:
        sample = raw.read(SNIFF_BYTES)
        complete = not raw.read(1)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=complete)
    try:
        return detect_delimiter(text, complete)
    except DialectError as error:
        raise CsvError(str(error)) from None


def _raise_ragged(path: Path, encoding: str, delimiter: str, width: int) -> None:
    """Name the first record whose field count differs from the header's, by starting line
    (`line_num` is where a record ends; quoted newlines make records span lines)."""
    with path.open(encoding=encoding, newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
        _first_record(reader)
        previous_end = reader.line_num
        for record in reader:
            if record and len(record) != width:
                raise CsvError(
                    f"Line {previous_end + 1} has {len(record)} "
                    f"field{'s' * (len(record) != 1)}, expected {width} (as many as the header "
                    "has columns)."
                )
            previous_end = reader.line_num
    raise AssertionError("a ragged record was counted but not found again")


def _records(reader) -> Iterator[list[str]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvError(f"Line {reader.line_num} is not valid CSV: {error}.") from None


def _first_record(reader) -> list[str]:
    for record in _records(reader):
        if record and any(cell.strip() for cell in record):
            return record
        if record:
            raise CsvError(f"Line {reader.line_num}, the header row, has only empty column names.")
    raise CsvError("The file is empty: it has no header row and no data.")


def _check_header(header: list[str]) -> None:
    empty = [str(i + 1) for i, name in enumerate(header) if not name.strip()]
    if empty:
        which = ", ".join(empty)
        raise CsvError(
            f"The header row has an empty column name (column{'s' * (len(empty) > 1)} "
            f"{which}). Every column needs a name."
        )
    long = next(
        ((i, name) for i, name in enumerate(header) if len(name) > MAX_COLUMN_NAME_CHARS), None
    )
    if long is not None:
        index, name = long
        raise CsvError(
            f"The name of column {index + 1} is {len(name):,} characters long; at most "
            f"{MAX_COLUMN_NAME_CHARS} are accepted. Shorten it (is the first line a header row?)."
        )
    seen: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        seen.setdefault(name, []).append(index + 1)
    duplicates = {name: where for name, where in seen.items() if len(where) > 1}
    if duplicates:
        listed = "; ".join(
            f"'{name}' (columns {', '.join(map(str, where))})" for name, where in duplicates.items()
        )
        raise CsvError(f"Duplicate column names in the header: {listed}. Names must be unique.")


def _refuse_data_as_header(header: list[str], columns: list[ColumnProfile]) -> None:
    for index, name in enumerate(header):
        if _NUMBER.fullmatch(name.strip()):
            raise CsvError(
                f"The file seems to have no header row: column {index + 1} is named "
                f"'{name}', a number, so the first line looks like data. Add a header row "
                "naming the columns (names must not be numbers)."
            )
    typed = [column.type for column in columns]
    if "str" not in typed and all(
        _is_value_of(name.strip(), kind) for name, kind in zip(header, typed, strict=True)
    ):
        raise CsvError(
            "The file seems to have no header row: every name in the first line is a value "
            "of its column's type. Add a header row naming the columns."
        )


def _is_value_of(cell: str, kind: str) -> bool:
    if kind == "bool":
        return cell in BOOL_WORDS or cell.lower() in {"true", "false"}
    if kind == "int":
        return _INT.fullmatch(cell) is not None
    return _FLOAT.fullmatch(cell) is not None


# --- Profile pass ---------------------------------------------------------------------------


def pandas_read_options(encoding: str, delimiter: str = COMMA) -> dict:
    """How to read a profiled file with pandas so that cells, nulls and types are as profiled
    (the dialect's options, with pandas' nullable dtypes)."""
    return pandas_options(encoding, delimiter) | {"dtype_backend": "numpy_nullable"}


def _profile_chunks(
    path: Path, encoding: str, delimiter: str, width: int, chunk_rows: int
) -> tuple[list[str | None], list[int], int, int]:
    kinds: list[str | None] = [None] * width
    nulls = [0] * width
    rows = chunks = 0
    options = pandas_read_options(encoding, delimiter)
    try:
        # Opening the reader parses the first chunk already: it belongs inside the `try`.
        reader = pd.read_csv(
            path,
            header=0,
            names=list(range(width)),
            index_col=False,
            chunksize=chunk_rows,
            **options,
        )
        with reader:
            for chunk in reader:
                rows += len(chunk)
                chunks += 1
                counts = chunk.isna().sum()
                for index in range(width):
                    null_count = int(counts[index])
                    kind = None if null_count == len(chunk) else kind_of(chunk[index].dtype)
                    kinds[index] = merge_kinds(kinds[index], kind)
                    nulls[index] += null_count
    except (pd.errors.ParserError, ValueError) as error:
        raise CsvError(_parser_message(error)) from None
    return kinds, nulls, rows, chunks


def _parser_message(error: Exception) -> str:
    text = str(error)
    found = re.search(r"EOF inside string starting at row (\d+)", text)
    if found:
        # pandas counts records from 0, the header included: record N starts on line N + 1.
        return (
            f"A quoted field that starts on line {int(found.group(1)) + 1} is never closed: "
            'a quote (") opens it and the file ends before the closing quote. Check the quotes.'
        )
    return f"The file is not valid CSV: {text}".strip()


def kind_of(dtype) -> str:
    """The profile type of a column chunk pandas parsed (its C parser infers per chunk)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_unsigned_integer_dtype(dtype):
        return "str"  # beyond int64: ids like these stay text
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "str"


def merge_kinds(left: str | None, right: str | None) -> str | None:
    """Combine the types seen in two chunks of one column (None: only nulls so far)."""
    if left is None or left == right:
        return right if left is None else left
    if right is None:
        return left
    if {left, right} == {"int", "float"}:
        return "float"
    return "str"


# --- Reading rows back (preview) ------------------------------------------------------------


def read_rows(
    path: str | Path, encoding: str, limit: int, delimiter: str = COMMA
) -> tuple[list[str], list[list]]:
    """The header and the first `limit` data rows, cells as text or None for nulls.

    Parses exactly like the structure pass (blank lines skipped), so it shows what was profiled.
    """
    rows: list[list] = []
    with Path(path).open(encoding=encoding, newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
        header: list[str] = []
        for record in reader:
            if not record:
                continue
            if not header:
                header = record
                continue
            if len(rows) >= limit:
                break
            rows.append([None if cell in NULL_MARKERS else cell for cell in record])
    return header, rows
