"""preprocessing/fillna: fill missing values, with a strategy per column type.

Each party computes the fill value of each of its chosen columns from its own data (mean,
median, most frequent value, or a constant) and fills them; the values are kept at that party
as a reusable rule. Integer columns filled with a mean or a median become float columns. Ties
for the most frequent value go to the smallest value, as scikit-learn's `SimpleImputer` does.
Fill values are computed one column at a time; the table is then filled and written a slice of
rows at a time, so memory holds one column or one slice, never the whole table.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.context import RunContext
from workflows.components.disclosure import KEPT_BY_HOLDERS, Declares, Form, disclose
from workflows.components.params import (
    BoolParam,
    ChoiceParam,
    ColumnsParam,
    FloatParam,
    IntParam,
    StrParam,
)
from workflows.components.schema import TABLES, ArtifactInfo, Column, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import replace_columns, table_port
from workflows.messages import translatable, translatable_plural
from workflows.tabular.files import to_pandas, with_columns

NUMERIC_STRATEGIES = ("constant", "mean", "median", "most_frequent")
OTHER_STRATEGIES = ("constant", "most_frequent")


def strategy_for(params: dict, column: Column) -> str:
    return params[f"{column.type}_strategy"]


def filled_type(params: dict, column: Column) -> str:
    averaged = strategy_for(params, column) in ("mean", "median")
    return "float" if column.type == "int" and averaged else column.type


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info, chosen = ctx.inputs["input_ds"], set(ctx.params["features"])
    changed = {
        c.name: replace(c, type=filled_type(ctx.params, c), missing=False)
        for c in info.columns
        if c.name in chosen
    }
    filled = [c for c in info.columns if c.name in chosen]
    rule = ArtifactInfo(PortType.RULE, tuple(dict.fromkeys(c.party for c in filled)), tuple(filled))
    return {"output_ds": replace_columns(info, changed), "output_rule": rule}


def fill_value(series: pd.Series, strategy: str, constant):
    if strategy == "constant":
        return constant
    if series.count() == 0:
        raise ValueError(
            translatable(
                "column %(column)s has no value to compute its %(strategy)s from",
                column=repr(series.name),
                strategy=strategy,
            )
        )
    if strategy == "mean":
        return float(series.astype(float).mean())
    if strategy == "median":
        return float(series.astype(float).median())
    counts = series.value_counts()
    return min(counts[counts == counts.max()].index.tolist())


def fill_values(data, party: str, columns: list[Column], params: dict) -> dict:
    """The fill value of each chosen column, computed from that whole column (a mean, median
    or most frequent value needs all of it): read one column at a time."""
    used = {}
    for column in columns:
        series = data.read_table(party, [column.name])[column.name]
        constant = params[f"fill_value_{column.type}"]
        value = fill_value(series, strategy_for(params, column), constant)
        used[column.name] = value.item() if hasattr(value, "item") else value
    return used


def filled_series(series: pd.Series, column: Column, params: dict, value) -> pd.Series:
    """`series` (any slice of the column) with its gaps filled, in the output's type."""
    averaged = strategy_for(params, column) in ("mean", "median")
    if column.type == "int" and averaged:
        series = series.astype(float)
    series = series.fillna(value) if series.hasnans else series
    if column.type == "int" and not averaged:
        series = series.astype("int64")
    return series


def filled_parts(data, party: str, columns: list[Column], params: dict, used: dict):
    """The party's table, slice by slice, with the chosen columns filled (only they go
    through pandas; the others are copied as they are)."""
    names = [column.name for column in columns]
    for part in data.iter_arrow(party):
        chosen = to_pandas(part.select(names))
        filled = {c.name: filled_series(chosen[c.name], c, params, used[c.name]) for c in columns}
        yield with_columns(part, filled)


def run(ctx: RunContext) -> None:
    info, rule = ctx.inputs["input_ds"].info, ctx.infos["output_rule"]
    data = ctx.inputs["input_ds"]
    parties = ctx.here(info.parties)
    for index, party in enumerate(parties):
        columns = rule.columns_at(party)
        used = ctx.at(party, fill_values, data, party, columns, ctx.params)
        parts = filled_parts(data, party, columns, ctx.params, used)
        ctx.write_table_parts("output_ds", party, parts)
        if columns:
            ctx.write_json("output_rule", party, {"kind": "fillna", "values": used})
            ctx.log(
                translatable_plural(
                    "%(party)s: filled %(count)s column",
                    "%(party)s: filled %(count)s columns",
                    "count",
                    party=party,
                    count=len(columns),
                )
            )
        ctx.progress(100 * (index + 1) / len(parties))


KIND_NAMES = {"int": _("integer"), "float": _("float"), "str": _("text"), "bool": _("true/false")}


def _strategy(kind: str, choices: tuple[str, ...], default: str) -> ChoiceParam:
    return ChoiceParam(
        name=f"{kind}_strategy",
        choices=choices,
        default=default,
        help=format_lazy(_("How to fill {kind} columns."), kind=KIND_NAMES[kind]),
    )


COMPONENT = Component(
    domain="preprocessing",
    name="fillna",
    version="1.0.0",
    category="preprocessing",
    label=_("Fill missing values"),
    description=_("Fill missing values of the chosen columns; each party fills its own columns."),
    inputs=(table_port("input_ds", _("Table")),),
    outputs=(
        Port("output_ds", TABLES, _("Table")),
        Port(
            "output_rule", (PortType.RULE,), _("Fill rule"), _("Fill values, kept at each party.")
        ),
    ),
    params=(
        ColumnsParam(name="features", port="input_ds", roles=("feature",), min_count=1),
        _strategy("int", NUMERIC_STRATEGIES, "most_frequent"),
        _strategy("float", NUMERIC_STRATEGIES, "mean"),
        _strategy("str", OTHER_STRATEGIES, "most_frequent"),
        _strategy("bool", OTHER_STRATEGIES, "most_frequent"),
        IntParam(name="fill_value_int", default=0, help=_("Constant for int columns.")),
        FloatParam(name="fill_value_float", default=0.0, help=_("Constant for float columns.")),
        StrParam(name="fill_value_str", default="", help=_("Constant for text columns.")),
        BoolParam(
            name="fill_value_bool", default=False, help=_("Constant for true/false columns.")
        ),
    ),
    infer=infer,
    run=run,
    # Each party keeps its own columns and the rule fitted on them.
    disclosure=disclose(
        output_ds=KEPT_BY_HOLDERS,
        output_rule=Declares(
            parts=True, parts_form=Form.AGGREGATE, parts_what=gettext_noop("fill values")
        ),
    ),
)
