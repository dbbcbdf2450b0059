"""preprocessing/scaler: standardise (z-score) or min-max scale numeric feature columns.

Each party fits the scaling of its own columns on its own data (standard: mean and population
standard deviation, as scikit-learn's `StandardScaler`; min-max: to [0, 1], as `MinMaxScaler`;
a constant column gets scale 1) and keeps the fitted values as a rule at that party. Connect a
rule from an earlier scaler (e.g. fitted on the train set) to `input_rule` to apply it instead
of fitting (e.g. to the test set).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import KEPT_BY_HOLDERS, Declares, Form, disclose
from workflows.components.params import ChoiceParam, ColumnsParam
from workflows.components.schema import TABLES, ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import frame_at, replace_columns, table_port


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info, chosen = ctx.inputs["input_ds"], set(ctx.params["features"])
    scaled = [c for c in info.columns if c.name in chosen]
    changed = {c.name: replace(c, type="float") for c in scaled}  # gaps stay gaps
    rule = ArtifactInfo(PortType.RULE, tuple(dict.fromkeys(c.party for c in scaled)), tuple(scaled))
    return {"output_ds": replace_columns(info, changed), "output_rule": rule}


def check(ctx: InferContext) -> list[str]:
    given = ctx.inputs.get("input_rule")
    if given is None:
        return []
    missing = sorted(set(ctx.params["features"]) - given.names())
    return [f"the input rule does not cover {', '.join(missing)}"] if missing else []


def fit(frame: pd.DataFrame, method: str) -> dict[str, dict[str, float]]:
    fitted = {}
    for name in frame.columns:
        values = frame[name].astype(float).dropna()
        if values.empty:
            raise ValueError(f"column {name!r} has no value to fit a scaler on")
        if method == "standard":
            offset, scale = values.mean(), values.std(ddof=0)
        else:
            offset, scale = values.min(), values.max() - values.min()
        fitted[name] = {"offset": float(offset), "scale": float(scale) if scale > 0 else 1.0}
    return fitted


def apply(frame: pd.DataFrame, fitted: dict[str, dict[str, float]]) -> pd.DataFrame:
    frame = frame.copy()
    for name, values in fitted.items():
        if name in frame.columns:
            scaled = (frame[name].astype(float) - values["offset"]) / values["scale"]
            frame[name] = scaled.to_numpy(dtype=np.float64)
    return frame


def scale_at_party(ctx: RunContext, party: str, columns: list[str]) -> None:
    frame = frame_at(ctx, "input_ds", party)
    if not columns:
        ctx.write_table("output_ds", party, frame)
        return
    if "input_rule" in ctx.inputs:
        rule = ctx.at(party, ctx.inputs["input_rule"].read_json, party)
        if rule.get("kind") != "scaler":
            raise ValueError(f"input rule is a {rule.get('kind')!r} rule, not a scaler rule")
        method, fitted = rule["method"], {name: rule["columns"][name] for name in columns}
    else:
        method = ctx.params["method"]
        fitted = ctx.at(party, fit, frame[columns], method)
    ctx.write_table("output_ds", party, ctx.at(party, apply, frame, fitted))
    ctx.write_json("output_rule", party, {"kind": "scaler", "method": method, "columns": fitted})


def run(ctx: RunContext) -> None:
    info, rule = ctx.inputs["input_ds"].info, ctx.infos["output_rule"]
    for index, party in enumerate(info.parties):
        scale_at_party(ctx, party, [c.name for c in rule.columns_at(party)])
        ctx.progress(100 * (index + 1) / len(info.parties))
    ctx.log(f"scaled {len(rule.columns)} column(s) ({ctx.params['method']})")


COMPONENT = Component(
    domain="preprocessing",
    name="scaler",
    version="1.0.0",
    category="preprocessing",
    label=_("Scaler"),
    description=_(
        "Standardise or min-max scale numeric features; outputs the table and a rule "
        "that can be applied to another table."
    ),
    inputs=(
        table_port("input_ds", _("Table")),
        Port("input_rule", (PortType.RULE,), _("Rule to apply"), _("A fitted scaler rule."), True),
    ),
    outputs=(
        Port("output_ds", TABLES, _("Scaled table")),
        Port(
            "output_rule",
            (PortType.RULE,),
            _("Scaler rule"),
            _("Fitted values, kept at each party."),
        ),
    ),
    params=(
        ColumnsParam(
            name="features",
            port="input_ds",
            roles=("feature",),
            types=("int", "float"),
            min_count=1,
        ),
        ChoiceParam(
            name="method",
            choices=("standard", "minmax"),
            default="standard",
            help=_("standard: (x - mean) / std; minmax: (x - min) / (max - min)."),
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    # Each party keeps its own columns and the rule fitted on them.
    disclosure=disclose(
        output_ds=KEPT_BY_HOLDERS,
        output_rule=Declares(
            parts=True, parts_form=Form.AGGREGATE, parts_what="fitted offsets and scales"
        ),
    ),
)
