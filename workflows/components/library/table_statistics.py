"""stats/table_statistics: per-column statistics, each party's columns computed at that party.

Numeric columns: total count, count, nulls, null ratio, mean, sample standard deviation, min,
quartiles, max, sum, sample skewness and excess kurtosis (pandas' bias-corrected estimators).
Text and true/false columns: counts, nulls and number of distinct values. The report is the
explicit reveal of these aggregates to every project party.
"""

from __future__ import annotations

import pandas as pd

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
    rows = []
    for index, party in enumerate(info.parties):
        columns = [c for c in info.columns_at(party) if not chosen or c.name in chosen]
        if columns:
            frame = frame_at(ctx, "input_ds", party)
            rows += ctx.at(party, statistics_at_party, frame, columns)
        ctx.progress(90 * (index + 1) / len(info.parties))
    report = {"kind": "table_statistics", "title": "Table statistics", "columns": rows}
    for party in ctx.infos["report"].parties:
        ctx.write_json("report", party, report)
    ctx.log(f"statistics of {len(rows)} column(s)")


COMPONENT = Component(
    domain="stats",
    name="table_statistics",
    version="1.0.0",
    category="stats",
    label="Table statistics",
    description="Count, nulls, mean, std, min, quartiles, max, skewness and kurtosis per column.",
    inputs=(table_port("input_ds", "Table"),),
    outputs=(report_port(),),
    params=(
        ColumnsParam(
            name="features",
            port="input_ds",
            roles=("id", "feature", "label"),
            default=[],
            help="Columns to describe (none: every usable column).",
        ),
    ),
    infer=infer,
    run=run,
    disclosure=disclose(report=Declares(flows=statistics_flows)),
)
