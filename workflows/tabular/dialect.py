"""The one CSV dialect of PrivPad: how text cells become typed values, everywhere.

Upload profiling (`console.datasets.schema`), the conversion of an upload to a typed table
(`workflows.tabular.convert`) and every reader of a dataset follow these rules; nothing else
parses a dataset's text.

- Delimiter: a comma, or a semicolon or a tab when the file says so (`detect_delimiter`): the
  header and the first records must split into the same number of fields (two or more) at that
  character and into one field at a comma. A file that splits at a semicolon or tab in its
  header but not consistently below is refused with the reason, never read as one column.
- Quoting: `"` quotes a field, `""` inside a quoted field is a quote; fields may span lines.
- Spaces right after a delimiter are not part of a field (`a, b` names columns `a` and `b`;
  `1, "x,y"` is the two fields `1` and `x,y`). Other spaces are kept.
- Blank lines are ignored.
- Missing: a cell that is empty, only spaces, or exactly one of `NULL_MARKERS`. Anything else is
  a value: `n/a`, `-` or `?` are text.
- Types per column, over all its non-missing cells: `int` (fits int64), `float` (decimal,
  scientific, inf), `bool` (`true`/`false` in any case, and the words of `TRUE_WORDS` /
  `FALSE_WORDS`), `str` otherwise, including integers too large for int64 (ids of 20 digits
  stay text, never floats). int + float cells make a float column; other mixes make text.
"""

from __future__ import annotations

import csv
import io

NULL_MARKERS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"})
TRUE_WORDS = ["true", "True", "TRUE", "yes", "Yes", "YES"]
FALSE_WORDS = ["false", "False", "FALSE", "no", "No", "NO"]
BOOL_WORDS = frozenset([*TRUE_WORDS, *FALSE_WORDS])
COMMA = ","
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Records looked at to detect the delimiter.
SNIFF_RECORDS = 50


class DialectError(ValueError):
    """The text does not follow the dialect; the message says why, for the uploader."""


def records(text: str, delimiter: str) -> list[list[str]]:
    """Non-blank records of `text` split with the dialect's rules at `delimiter`."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    return [record for record in reader if record]


def detect_delimiter(sample: str, complete: bool) -> str:
    """The delimiter of a file starting with `sample` (decoded text).

    `complete`: the sample is the whole file; otherwise its last, maybe cut, line is ignored.
    Raises DialectError when the header splits at a semicolon or tab but the records do not.
    """
    if not complete:
        sample = sample[: sample.rfind("\n") + 1]
    try:
        by_comma = records(sample, COMMA)[:SNIFF_RECORDS]
    except csv.Error:
        return COMMA  # the structure pass names the bad line
    if not by_comma or len(by_comma[0]) > 1:
        return COMMA
    for delimiter in (";", "\t"):
        split = records(sample, delimiter)[:SNIFF_RECORDS]
        width = len(split[0]) if split else 1
        if width < 2:
            continue
        ragged = next((i for i, record in enumerate(split) if len(record) != width), None)
        if ragged is not None:
            name = DELIMITERS[delimiter]
            raise DialectError(
                f"The header row has {width} columns separated by {name}s, but record "
                f"{ragged + 1} has {len(split[ragged])} fields at {name}s. Use one delimiter "
                "(comma, semicolon or tab) throughout, and quote fields that contain it."
            )
        return delimiter
    return COMMA


def pandas_options(encoding: str, delimiter: str = COMMA) -> dict:
    """`pandas.read_csv` options that apply this dialect (missing, true/false, spaces)."""
    return {
        "sep": delimiter,
        "encoding": encoding,
        "skipinitialspace": True,
        "skip_blank_lines": True,
        "na_values": sorted(NULL_MARKERS),
        "keep_default_na": False,
        "true_values": TRUE_WORDS,
        "false_values": FALSE_WORDS,
    }
