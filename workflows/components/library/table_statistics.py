"""stats/table_statistics: per-column statistics, each party's columns computed at that party.

Numeric columns: total count, count, nulls, null ratio, mean, sample standard deviation, min,
quartiles, max, sum, sample skewness and excess kurtosis (pandas' bias-corrected estimators).
Text and true/false columns: counts, nulls and number of distinct values.

Recipients: every project party receives a report, and each copy differs. A party sees its own
columns' statistics in full. Of another party's columns it sees aggregates over at least k rows
(`RunContext.min_group_rows`) only: counts, nulls, mean, std, sum, skewness and kurtosis when
the column has at least k values (else only its counts, and of a table of fewer than k rows
only the row count, every party's anyway: a null count over one row says whether that row's
value is missing); not the min, quartiles or max, which
are single rows' values, unless `single_row_values` asks for them: the plan then discloses them
at row level, so they leave only with their owner's consent (an approval, or a standing policy
allowing row-level data); and of a label column its mean and sum (which give the class counts)
only when every class has at least k rows. Withheld statistics are null and named in the row's
`withheld` list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.aggregates import enough_rows
from workflows.components.context import RunContext
from workflows.components.disclosure import Declares, DisclosureContext, Flow, Form, disclose
from workflows.components.params import BoolParam, ColumnsParam
from workflows.components.schema import NUMERIC_TYPES, ArtifactInfo, Column
from workflows.components.spec import Component, InferContext
from workflows.components.tables import finite, report_info, report_port, table_port
from workflows.messages import translatable_plural


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    return {"report": report_info(ctx.env.parties)}


def column_statistics(series: pd.Series, column: Column) -> dict:
    """Statistics of one column (text and true/false: counts and distinct values)."""
    if column.type in NUMERIC_TYPES:
        return numeric_statistics(series.astype(float).to_numpy()[:, None], [column])[0]
    total, nulls = len(series), int(series.isna().sum())
    return _counts(column, total, nulls) | {"distinct": int(series.nunique(dropna=True))}


def _counts(column: Column, total: int, nulls: int) -> dict:
    return {
        "column": column.name,
        "party": column.party,
        "type": column.type,
        "total_count": total,
        "count": total - nulls,
        "nulls": nulls,
        "null_ratio": finite(nulls / total) if total else None,
    }


def numeric_statistics(values: np.ndarray, columns: list[Column]) -> list[dict]:
    """Statistics of numeric columns at once (`values`: rows x columns, NaN for missing),
    with pandas' estimators: sample std, bias-corrected skewness and excess kurtosis."""
    total = values.shape[0]
    rows = []
    for index, column in enumerate(columns):
        present = values[:, index]
        present = present[~np.isnan(present)]
        row = _counts(column, total, total - len(present))
        rows.append(row | _moments(present))
    return rows


def _moments(x: np.ndarray) -> dict:
    """Moments and quartiles of `x` (this party's own copy of the non-missing values, which
    is reordered: one partition gives the quartiles, the minimum and the maximum)."""
    n = len(x)
    if n == 0:
        keys = ("mean", "std", "min", "q1", "median", "q3", "max", "sum", "skewness", "kurtosis")
        return dict.fromkeys(keys, None) | {"sum": 0.0}
    total = x.sum()
    mean = total / n
    # Plain ufuncs, not np.dot: BLAS threads cost more than they save on one vector.
    centred = x - mean
    squares = centred * centred
    m2 = float(squares.sum())
    centred *= squares
    m3 = float(centred.sum())
    squares *= squares
    m4 = float(squares.sum())
    q1, median, q3, low, high = _quartiles(x)
    return {
        "mean": finite(mean),
        "std": finite(np.sqrt(m2 / (n - 1))) if n > 1 else None,
        "min": finite(low),
        "q1": finite(q1),
        "median": finite(median),
        "q3": finite(q3),
        "max": finite(high),
        "sum": finite(total),
        "skewness": finite(_skew(n, _fp(m2), _fp(m3))),
        "kurtosis": finite(_kurt(n, _fp(m2), _fp(m4))),
    }


def _quartiles(x: np.ndarray) -> tuple[float, ...]:
    """Quartiles with linear interpolation (numpy's and pandas' default), minimum, maximum.

    One in-place partition of `x` at the three lower ranks; each quartile's upper neighbour is
    then the smallest value right of its rank, and the extremes lie outside the outer ranks,
    so every further value costs one pass over a slice, never another selection.
    """
    n = len(x)
    positions = [q * (n - 1) for q in (0.25, 0.5, 0.75)]
    ranks = [int(p) for p in positions]
    x.partition(ranks)
    # Right of a rank, up to the next larger rank (or the end), lies its upper neighbour.
    bounds = [min((r for r in ranks if r > rank), default=n - 1) for rank in ranks]
    quartiles = []
    for p, rank, bound in zip(positions, ranks, bounds, strict=True):
        low = x[rank]
        high = x[rank + 1 : bound + 1].min() if p > rank else low
        quartiles.append(low + (p - rank) * (high - low))
    return (*quartiles, x[: ranks[0] + 1].min(), x[ranks[-1] :].max())


def _fp(value: float) -> float:
    """Round-off to zero, as pandas does before dividing moments."""
    return 0.0 if abs(value) < 1e-14 else value


def _skew(n: int, m2: float, m3: float) -> float | None:
    if n < 3 or m2 == 0:  # undefined without spread (pandas: NaN)
        return None
    return n * (n - 1) ** 0.5 / (n - 2) * (m3 / m2**1.5)


def _kurt(n: int, m2: float, m4: float) -> float | None:
    if n < 4:
        return None
    adjust = 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    numerator = _fp(n * (n + 1) * (n - 1) * m4)
    denominator = _fp((n - 2) * (n - 3) * m2**2)
    if denominator == 0:
        return None
    return numerator / denominator - adjust


def statistics_at_party(data, party: str, columns: list[Column]) -> list[dict]:
    """This party's chosen columns, read one at a time (quartiles need the whole column, but
    never the whole table): numeric ones straight from the file as float64."""
    found = []
    for column in columns:
        if column.type in NUMERIC_TYPES:
            values = data.read_numeric(party, [column.name])
            found.append(numeric_statistics(values, [column])[0])
        else:
            series = data.read_table(party, [column.name])[column.name]
            found.append(column_statistics(series, column))
    return found


SINGLE_ROW_VALUES = ("min", "q1", "median", "q3", "max")
MAX_CLASSES = 10  # a label with more distinct values is taken as continuous
AGGREGATES = ("mean", "std", "sum", "skewness", "kurtosis")


def shared_statistics(
    row: dict, series: pd.Series | None, role: str, k: int, single_row_values: bool = False
) -> dict:
    """A column's statistics as another party than its owner receives them (see above)."""
    withheld = [] if single_row_values else [key for key in SINGLE_ROW_VALUES if key in row]
    if not enough_rows(row["total_count"], k):
        withheld += ["count", "nulls", "null_ratio"]
    if not enough_rows(row["count"], k):
        withheld += [key for key in (*AGGREGATES, "distinct") if key in row]
    elif role == "label" and not _classes_of_k(series, k):
        withheld += [key for key in ("mean", "sum") if key in row]
    shared = {key: (None if key in withheld else value) for key, value in row.items()}
    return shared | {"withheld": withheld}


def _classes_of_k(series: pd.Series, k: int) -> bool:
    """A label with few distinct values is a class label: its mean gives the class counts, so
    every class needs k rows. A continuous label's mean is an ordinary aggregate."""
    counts = series.dropna().value_counts()
    if len(counts) > MAX_CLASSES:
        return True
    return bool(len(counts)) and enough_rows(int(counts.min()), k)


def statistics_for_others(
    data,
    party: str,
    columns: list[Column],
    rows: list[dict],
    k: int,
    single_row_values: bool = False,
) -> list[dict]:
    """This party's columns as the other parties receive them (only a label's values are read
    again: its class counts decide whether its mean may be shared)."""
    labels = [column.name for column in columns if column.role == "label"]
    frame = data.read_table(party, labels) if labels else None
    return [
        shared_statistics(
            row, _label_series(frame, column, labels), column.role, k, single_row_values
        )
        for row, column in zip(rows, columns, strict=True)
    ]


def _label_series(frame: pd.DataFrame | None, column: Column, labels: list[str]):
    return frame[column.name] if frame is not None and column.name in labels else None


def described(info: ArtifactInfo, chosen: list[str]) -> list[Column]:
    return [c for c in info.columns if not chosen or c.name in set(chosen)]


def statistics_flows(ctx: DisclosureContext) -> list[Flow]:
    """A column's holder sees its full statistics (min, max and quartiles are single rows'
    values: k=1); every other party only aggregates over groups of at least k rows."""
    flows = []
    columns = described(ctx.inputs["input_ds"], ctx.params["features"])
    for party in dict.fromkeys(c.party for c in columns):
        refs = ctx.refs("input_ds", [c.name for c in columns if c.party == party])
        refs = tuple(ref for ref in refs if ref.party == party)
        others = tuple(p for p in ctx.parties if p != party)
        flows.append(
            Flow((party,), Form.AGGREGATE, refs, gettext_noop("full column statistics"), 1)
        )
        what = gettext_noop("column counts, nulls, mean and spread")
        flows.append(Flow(others, Form.AGGREGATE, refs, what, ctx.min_group))
        if ctx.params.get("single_row_values"):
            what = gettext_noop("min, quartiles and max of columns (single rows' values)")
            flows.append(Flow(others, Form.ROW_LEVEL, refs, what))
    return flows


def run(ctx: RunContext) -> None:
    info, chosen = ctx.inputs["input_ds"].info, set(ctx.params["features"])
    data, k = ctx.inputs["input_ds"], ctx.min_group_rows
    single_row_values = ctx.params.get("single_row_values", False)
    full, shared = {}, []
    for index, party in enumerate(info.parties):
        columns = [c for c in info.columns_at(party) if not chosen or c.name in chosen]
        if columns:
            full[party] = ctx.at(party, statistics_at_party, data, party, columns)
            # The k-row aggregates of its columns are all the others receive (as a frame).
            others = statistics_for_others
            shared += ctx.publish(
                party, others, data, party, columns, full[party], k, single_row_values
            )
        ctx.progress(90 * (index + 1) / len(info.parties))
    for receiver in ctx.here(ctx.infos["report"].parties):
        # Own columns in full, other parties' columns as k-row aggregates.
        own = iter(full.get(receiver) or [])
        rows = [next(own) if row["party"] == receiver else row for row in shared]
        report = {"kind": "table_statistics", "title": "Table statistics", "columns": rows}
        ctx.write_json("report", receiver, report)
    ctx.log(
        translatable_plural(
            "statistics of %(count)s column",
            "statistics of %(count)s columns",
            "count",
            count=len(shared),
        )
    )


COMPONENT = Component(
    domain="stats",
    name="table_statistics",
    version="1.0.0",
    category="stats",
    label=_("Table statistics"),
    description=_(
        "Count, nulls, mean, std, min, quartiles, max, skewness and kurtosis per column."
    ),
    inputs=(table_port("input_ds", _("Table")),),
    outputs=(report_port(),),
    params=(
        ColumnsParam(
            name="features",
            port="input_ds",
            roles=("id", "feature", "label"),
            default=[],
            help=_("Columns to describe (none: every usable column)."),
        ),
        BoolParam(
            name="single_row_values",
            default=False,
            help=_(
                "Also give the other parties the min, quartiles and max of each column: single "
                "rows' values, so the run needs each owner's consent to row-level data."
            ),
        ),
    ),
    infer=infer,
    run=run,
    disclosure=disclose(report=Declares(flows=statistics_flows)),
)
