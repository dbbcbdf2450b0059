"""stats/table_statistics: per-column statistics, each party's columns computed at that party.

Numeric columns: total count, count, nulls, null ratio, mean, sample standard deviation, min,
quartiles, max, sum, sample skewness and excess kurtosis (pandas' bias-corrected estimators).
Text and true/false columns: counts, nulls and number of distinct values.

Recipients: every project party receives a report, and each copy differs. A party sees its own
columns' statistics in full. Of another party's columns it sees aggregates over at least k rows
(`RunContext.min_group_rows`) only: counts, nulls, mean, std, sum, skewness and kurtosis when
the column has at least k values (else only its counts); never the min, quartiles or max, which
are single rows' values; and of a label column its mean and sum (which give the class counts)
only when every class has at least k rows. Withheld statistics are null and named in the row's
`withheld` list.
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import Declares, DisclosureContext, Flow, Form, disclose
from workflows.components.params import ColumnsParam
from workflows.components.schema import NUMERIC_TYPES, ArtifactInfo, Column
from workflows.components.spec import Component, InferContext
from workflows.components.tables import finite, frame_at, report_info, report_port, table_port


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    return {"report": report_info(ctx.env.parties)}


def column_statistics(series: pd.Series, column: Column) -> dict:
    total, nulls = len(series), int(series.isna().sum())
    row = {
        "column": column.name,
        "party": column.party,
        "type": column.type,
        "total_count": total,
        "count": total - nulls,
        "nulls": nulls,
        "null_ratio": finite(nulls / total) if total else None,
    }
    if column.type not in NUMERIC_TYPES:
        return row | {"distinct": int(series.nunique(dropna=True))}
    values = series.astype(float)
    quantiles = values.quantile([0.25, 0.5, 0.75]) if total > nulls else [None] * 3
    return row | {
        "mean": finite(values.mean()),
        "std": finite(values.std()),
        "min": finite(values.min()),
        "q1": finite(quantiles[0.25] if total > nulls else None),
        "median": finite(quantiles[0.5] if total > nulls else None),
        "q3": finite(quantiles[0.75] if total > nulls else None),
        "max": finite(values.max()),
        "sum": finite(values.sum()),
        "skewness": finite(values.skew()),
        "kurtosis": finite(values.kurt()),
    }


def statistics_at_party(frame: pd.DataFrame, columns: list[Column]) -> list[dict]:
    return [column_statistics(frame[column.name], column) for column in columns]


SINGLE_ROW_VALUES = ("min", "q1", "median", "q3", "max")
MAX_CLASSES = 10  # a label with more distinct values is taken as continuous
AGGREGATES = ("mean", "std", "sum", "skewness", "kurtosis")


def shared_statistics(row: dict, series: pd.Series, role: str, k: int) -> dict:
    """A column's statistics as another party than its owner receives them (see above)."""
    withheld = [key for key in SINGLE_ROW_VALUES if key in row]
    if row["count"] < k:
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
    return bool(len(counts)) and int(counts.min()) >= k


def statistics_for_others(
    frame: pd.DataFrame, columns: list[Column], rows: list[dict], k: int
) -> list[dict]:
    return [
        shared_statistics(row, frame[column.name], column.role, k)
        for row, column in zip(rows, columns, strict=True)
    ]


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
        flows.append(Flow((party,), Form.AGGREGATE, refs, "full column statistics", 1))
        what = "column counts, nulls, mean and spread"
        flows.append(Flow(others, Form.AGGREGATE, refs, what, ctx.min_group))
    return flows


def run(ctx: RunContext) -> None:
    info, chosen = ctx.inputs["input_ds"].info, set(ctx.params["features"])
    full, shared = [], []
    for index, party in enumerate(info.parties):
        columns = [c for c in info.columns_at(party) if not chosen or c.name in chosen]
        if columns:
            frame = frame_at(ctx, "input_ds", party)
            rows = ctx.at(party, statistics_at_party, frame, columns)
            k = ctx.min_group_rows
            full += rows
            shared += ctx.at(party, statistics_for_others, frame, columns, rows, k)
        ctx.progress(90 * (index + 1) / len(info.parties))
    for receiver in ctx.infos["report"].parties:
        # Own columns in full, other parties' columns as k-row aggregates.
        pairs = zip(full, shared, strict=True)
        rows = [own if own["party"] == receiver else other for own, other in pairs]
        report = {"kind": "table_statistics", "title": "Table statistics", "columns": rows}
        ctx.write_json("report", receiver, report)
    ctx.log(f"statistics of {len(full)} column(s)")


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
    ),
    infer=infer,
    run=run,
    disclosure=disclose(report=Declares(flows=statistics_flows)),
)
