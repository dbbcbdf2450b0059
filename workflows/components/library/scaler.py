"""preprocessing/scaler: standardise (z-score) or min-max scale numeric feature columns.

Each party fits the scaling of its own columns on its own data (standard: mean and population
standard deviation, as scikit-learn's `StandardScaler`; min-max: to [0, 1], as `MinMaxScaler`;
a constant column gets scale 1) and keeps the fitted values as a rule at that party. Connect a
rule from an earlier scaler (e.g. fitted on the train set) to `input_rule` to apply it instead
of fitting (e.g. to the test set). A fit reads one column at a time; the table is then scaled
and written a slice of rows at a time (bounded memory, results identical to a whole-table pass).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.context import RunContext
from workflows.components.disclosure import KEPT_BY_HOLDERS, Declares, Form, disclose
from workflows.components.params import ChoiceParam, ColumnsParam
from workflows.components.schema import TABLES, ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import replace_columns, table_port
from workflows.messages import translatable, translatable_plural
from workflows.tabular.files import numeric_matrix, with_columns


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info, chosen = ctx.inputs["input_ds"], set(ctx.params["features"])
    scaled = [c for c in info.columns if c.name in chosen]
    changed = {c.name: replace(c, type="float") for c in scaled}  # gaps stay gaps
    rule = ArtifactInfo(PortType.RULE, tuple(dict.fromkeys(c.party for c in scaled)), tuple(scaled))
    return {"output_ds": replace_columns(info, changed), "output_rule": rule}


def check(ctx: InferContext) -> list:
    given = ctx.inputs.get("input_rule")
    if given is None:
        return []
    missing = sorted(set(ctx.params["features"]) - given.names())
    if not missing:
        return []
    return [translatable("the input rule does not cover %(columns)s", columns=missing)]


def fit(values: np.ndarray, names: list[str], method: str) -> dict[str, dict[str, float]]:
    """Offset and scale of each column of `values` (rows x columns, NaN for missing)."""
    fitted = {}
    for index, name in enumerate(names):
        column = values[:, index]
        present = column[~np.isnan(column)]
        if not len(present):
            raise ValueError(
                translatable("column %(column)s has no value to fit a scaler on", column=repr(name))
            )
        if method == "standard":
            offset = present.mean()
            present -= offset  # a copy of the column's values: centred in place
            scale = np.sqrt((present * present).mean())
        else:
            offset = present.min()
            scale = present.max() - offset
        fitted[name] = {"offset": float(offset), "scale": float(scale) if scale > 0 else 1.0}
    return fitted


def apply(values: np.ndarray, names: list[str], fitted: dict) -> np.ndarray:
    offsets = np.array([fitted[name]["offset"] for name in names])
    scales = np.array([fitted[name]["scale"] for name in names])
    return (values - offsets) / scales


def fit_columns(data, party: str, columns: list[str], method: str) -> dict:
    """Fit each column on the whole column, read one at a time (bounded memory)."""
    fitted = {}
    for name in columns:
        fitted |= fit(data.read_numeric(party, [name]), [name], method)
    return fitted


def scaled_parts(data, party: str, columns: list[str], fitted: dict):
    """The party's table, slice by slice, with `columns` scaled by `fitted`."""
    for part in data.iter_arrow(party):
        scaled = apply(numeric_matrix(part, columns), columns, fitted)
        yield with_columns(part, {name: scaled[:, i] for i, name in enumerate(columns)})


def scale_at_party(ctx: RunContext, party: str, columns: list[str]) -> None:
    data = ctx.inputs["input_ds"]
    if not columns:
        ctx.write_table_parts("output_ds", party, data.iter_arrow(party))
        return
    if "input_rule" in ctx.inputs:
        rule = ctx.at(party, ctx.inputs["input_rule"].read_json, party)
        if rule.get("kind") != "scaler":
            raise ValueError(
                translatable(
                    "input rule is a %(kind)s rule, not a scaler rule", kind=repr(rule.get("kind"))
                )
            )
        method, fitted = rule["method"], {name: rule["columns"][name] for name in columns}
    else:
        method = ctx.params["method"]
        fitted = ctx.at(party, fit_columns, data, party, columns, method)
    ctx.write_table_parts("output_ds", party, scaled_parts(data, party, columns, fitted))
    ctx.write_json("output_rule", party, {"kind": "scaler", "method": method, "columns": fitted})


def run(ctx: RunContext) -> None:
    info, rule = ctx.inputs["input_ds"].info, ctx.infos["output_rule"]
    parties = ctx.here(info.parties)
    for index, party in enumerate(parties):
        scale_at_party(ctx, party, [c.name for c in rule.columns_at(party)])
        ctx.progress(100 * (index + 1) / len(parties))
    ctx.log(
        translatable_plural(
            "scaled %(count)s column (%(method)s)",
            "scaled %(count)s columns (%(method)s)",
            "count",
            count=len(rule.columns),
            method=ctx.params["method"],
        )
    )


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
            parts=True,
            parts_form=Form.AGGREGATE,
            parts_what=gettext_noop("fitted offsets and scales"),
        ),
    ),
)
