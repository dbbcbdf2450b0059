"""Shared parts of the evaluation components: label and prediction pickers at one party.

An evaluation runs at the party holding both the label and the prediction column (the
validation refuses them at different parties); only its report leaves that party. Missing or
infinite labels and predictions fail the node (no metric is computed from them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from workflows.components.checks import CheckFailed
from workflows.components.context import RunContext
from workflows.components.disclosure import (
    Declares,
    DisclosureContext,
    to_owner_in_full_else_aggregated,
)
from workflows.components.params import ColumnsParam, IntParam
from workflows.components.spec import InferContext
from workflows.components.tables import frame_at
from workflows.messages import translatable, translatable_plural


def label_param() -> ColumnsParam:
    return ColumnsParam(
        name="label",
        port="input_ds",
        roles=("label",),
        types=("int", "float", "bool"),
        multiple=False,
        help=_("The true value."),
        refuses_missing=True,
    )


def prediction_param() -> ColumnsParam:
    return ColumnsParam(
        name="prediction",
        port="input_ds",
        roles=("feature", "label"),
        types=("int", "float"),
        multiple=False,
        help=_("The predicted score or value."),
        refuses_missing=True,
    )


def bucket_param(default: int = 10) -> IntParam:
    return IntParam(name="bucket_size", default=default, minimum=2, maximum=1000, help=_("Bins."))


def check_one_party(ctx: InferContext) -> list:
    info = ctx.inputs["input_ds"]
    label, prediction = ctx.params["label"], ctx.params["prediction"]
    if label == prediction:
        return [translatable("label and prediction must be different columns")]
    for party in info.parties:
        names = {c.name for c in info.columns_at(party)}
        if {label, prediction} <= names:
            return []
    return [
        translatable(
            "label %(label)s and prediction %(prediction)s must be held by one party",
            label=repr(label),
            prediction=repr(prediction),
        )
    ]


def evaluation_party(ctx: RunContext) -> str:
    info = ctx.inputs["input_ds"].info
    wanted = {ctx.params["label"], ctx.params["prediction"]}
    return next(p for p in info.parties if wanted <= {c.name for c in info.columns_at(p)})


def evaluating_party(ctx: DisclosureContext) -> str:
    info = ctx.inputs["input_ds"]
    wanted = {ctx.params["label"], ctx.params["prediction"]}
    return next(p for p in info.parties if wanted <= {c.name for c in info.columns_at(p)})


def evaluated(ctx: DisclosureContext):
    party = evaluating_party(ctx)
    refs = ctx.refs("input_ds", [ctx.params["label"], ctx.params["prediction"]])
    return tuple(ref for ref in refs if ref.party == party)


def report_disclosure(full: str, aggregated: str) -> Declares:
    """The evaluating party (label and prediction holder) gets the report in full; every other
    party headline figures and points aggregated over at least k rows."""
    flows = to_owner_in_full_else_aggregated(evaluating_party, evaluated, full, aggregated)
    return Declares(flows=flows)


def read_pair(ctx: RunContext, party: str) -> tuple[np.ndarray, np.ndarray]:
    """Label and prediction as floats, converted at `party` (a conversion error quotes the
    party's cell, so it must be that party's failure: see `workflows.redaction`)."""
    frame: pd.DataFrame = frame_at(ctx, "input_ds", party)
    return ctx.at(party, _pair, frame, ctx.params["label"], ctx.params["prediction"], party)


def _pair(
    frame: pd.DataFrame, label: str, prediction: str, party: str
) -> tuple[np.ndarray, np.ndarray]:
    pair = frame[[label, prediction]].astype(float)
    if pair.isna().any().any():
        raise ValueError(translatable("label or prediction has missing values; fill them first"))
    if len(pair) == 0:
        raise ValueError(translatable("nothing to evaluate: the table has no rows"))
    infinite = [name for name in pair.columns if not np.isfinite(pair[name].to_numpy()).all()]
    if infinite:
        raise CheckFailed(
            translatable_plural(
                "column %(columns)s at %(party)s holds infinite values, which no metric can use: "
                "the node that computed them produced wrong numbers. Fix: check that node's "
                "inputs (scale large features) and run it again.",
                "columns %(columns)s at %(party)s hold infinite values, which no metric can use: "
                "the node that computed them produced wrong numbers. Fix: check that node's "
                "inputs (scale large features) and run it again.",
                "count",
                columns=infinite,
                party=party,
                count=len(infinite),
            )
        )
    return pair.iloc[:, 0].to_numpy(), pair.iloc[:, 1].to_numpy()


def thin(points: list[dict], limit: int = 200) -> list[dict]:
    """At most `limit` evenly spaced points of a curve, keeping both ends."""
    if len(points) <= limit:
        return points
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]


def write_reports(ctx: RunContext, full: Callable, shared: Callable) -> None:
    """Evaluate at the label owner and hand out the report: the owner reads its own full
    report (`full(y, values)`), the other receivers the k-row aggregates it builds for them
    (`shared(y, values)`) and sends. Only the owner's process reads labels and values; the log,
    which every member reads, carries the row count only (a small evaluation withholds even
    its metrics)."""
    party = evaluation_party(ctx)
    computed = {}
    for owner in ctx.here([party]):
        y, values = read_pair(ctx, owner)
        ctx.progress(40)
        computed["full"] = ctx.at(owner, full, y, values)
        computed["shared"] = ctx.at(owner, shared, y, values)
    aggregates = ctx.publish(party, computed.get, "shared")
    for receiver in ctx.here(ctx.infos["report"].parties):
        ctx.write_json("report", receiver, computed["full"] if receiver == party else aggregates)
    ctx.log(
        translatable(
            "evaluated %(rows)s rows at %(party)s",
            rows=aggregates["summary"]["samples"],
            party=party,
        )
    )
