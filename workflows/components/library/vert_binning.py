"""preprocessing/vert_binning: equal-range or quantile binning of numeric feature columns.

Each party bins its own chosen columns on its own data, in plaintext; nothing crosses parties.

Edges (`bin_num` bins at most, from the column's finite present values):
- `eq_range`: `bin_num` bins of equal width from the minimum to the maximum, exactly numpy's
  `np.histogram_bin_edges(values, bins=bin_num)`;
- `quantile`: the `i / bin_num` quantiles, exactly `np.quantile(values, ...)` (linear
  interpolation); equal edges (many equal values) collapse, so a column may get fewer bins.
A constant column gets one bin `[v, v]` under both methods (numpy's equal-range edges would
spread `v ± 0.5` over ten bins of which one is used).

Bins hold `[edge_i, edge_i+1)`, the last one closed, as `np.histogram` counts them; a value
below the first edge or above the last (another table binned by a rule) falls in the first or
last bin. The output column holds the bin index 0..n-1 (type int). Missing values are a bin of
their own, index -1 (SecretFlow's "else" bin): the binned column has no gaps, so it feeds
components that refuse missing values; fill first to bin them with the others.

The edges are a rule kept at the column's owner: connect it to `input_rule` of another
binning node to bin another table (the test split) with the edges fitted on this one; the
rule's method and edges are used, not the node's parameters. The report (bins with their
edges and counts when `report_rules`, else bin and missing counts) goes to each column's owner
only: quantile edges are single rows' values, so another party receives nothing of them.
Edges are fitted one column at a time; the table is binned and written a slice of rows at a
time (bounded memory, results identical to a whole-table pass).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from workflows.components.context import RunContext
from workflows.components.disclosure import (
    KEPT_BY_HOLDERS,
    Declares,
    DisclosureContext,
    Flow,
    Form,
    disclose,
)
from workflows.components.params import BoolParam, ChoiceParam, ColumnsParam, IntParam
from workflows.components.schema import TABLES, ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import replace_columns, table_port
from workflows.messages import translatable, translatable_plural
from workflows.tabular.files import numeric_matrix, with_columns

RULE_KIND = "binning"
MISSING_BIN = -1
MIN_BINS, MAX_BINS = 2, 1000
COMPARED_EDGES = 32  # up to this many inner edges, comparisons beat a binary search


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    info, chosen = ctx.inputs["input_ds"], set(ctx.params["features"])
    binned = [c for c in info.columns if c.name in chosen]
    # Bin indices; missing values get their own bin, so the column has no gaps any more.
    changed = {c.name: replace(c, type="int", missing=False) for c in binned}
    owners = tuple(dict.fromkeys(c.party for c in binned))
    return {
        "output_ds": replace_columns(info, changed),
        "output_rule": ArtifactInfo(PortType.RULE, owners, tuple(binned)),
        "report": ArtifactInfo(PortType.REPORT, owners),
    }


def check(ctx: InferContext) -> list:
    given = ctx.inputs.get("input_rule")
    if given is None:
        return []
    covered = {(c.party, c.name) for c in given.columns}
    info, chosen = ctx.inputs["input_ds"], set(ctx.params["features"])
    missing = [
        c.name for c in info.columns if c.name in chosen and (c.party, c.name) not in covered
    ]
    if not missing:
        return []
    return [
        translatable(
            "the input rule does not cover %(columns)s: bin them with the rule's node",
            columns=missing,
        )
    ]


def fit_edges(values: np.ndarray, name: str, method: str, bin_num: int) -> list[float]:
    """The bin edges of one column (`values`, NaN for missing): see the module docstring."""
    present = values[np.isfinite(values)]
    if not len(present):
        raise ValueError(translatable("column %(column)s has no value to bin", column=repr(name)))
    if method == "quantile":
        # Sorted once: numpy's quantiles then cost a pass, not a selection per edge.
        present.sort()
    low, high = present.min(), present.max()
    if low == high:
        return [float(low), float(high)]
    if method == "eq_range":
        edges = np.histogram_bin_edges(present, bins=bin_num)
    else:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bin_num + 1)))
    return [float(edge) for edge in edges]


def fit_columns(data, party: str, columns: list[str], method: str, bin_num: int) -> dict:
    """Edges of each column, fitted on the whole column, read one at a time (bounded memory)."""
    return {
        name: {"edges": fit_edges(data.read_numeric(party, [name])[:, 0], name, method, bin_num)}
        for name in columns
    }


def bin_indices(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """The bin of each value (int64): `[e_i, e_i+1)`, the last bin closed, outside values in
    the outer bins, missing values in bin -1."""
    inner = np.asarray(edges[1:-1], dtype=np.float64)
    if len(inner) > COMPARED_EDGES:
        found = np.searchsorted(inner, values, side="right").astype(np.int64)
    else:
        # The bin is the number of inner edges at or below the value (what searchsorted
        # finds); for a few edges, one vectorised comparison per edge is 4x faster than a
        # binary search per value.
        found, above = np.zeros(len(values), dtype=np.int64), np.empty(len(values), dtype=bool)
        for edge in inner:
            found += np.greater_equal(values, edge, out=above)
    found[np.isnan(values)] = MISSING_BIN
    return found


def binned_parts(data, party: str, columns: list[str], rule: dict, counts: dict):
    """The party's table, slice by slice, with `columns` replaced by bin indices; adds each
    slice's count per bin into `counts` ({column: [missing, bin 0, ..., bin n-1]})."""
    for part in data.iter_arrow(party):
        values = numeric_matrix(part, columns)
        replaced = {}
        for index, name in enumerate(columns):
            edges = rule[name]["edges"]
            found = bin_indices(values[:, index], edges)
            # Shifted by one: bin -1 (missing) counts in slot 0.
            counts[name] += np.bincount(found + 1, minlength=len(edges))
            replaced[name] = found
        yield with_columns(part, replaced)


def rule_for(rule: dict, columns: list[str]) -> tuple[str, dict]:
    """The method and edges of `columns` in a rule given on `input_rule`; refuse a rule of
    another kind or one that misses a column."""
    if not isinstance(rule, dict) or rule.get("kind") != RULE_KIND:
        raise ValueError(
            translatable(
                "input rule is a %(kind)s rule, not a binning rule: connect the output_rule of a "
                "binning node",
                kind=repr(kind_of(rule)),
            )
        )
    uncovered = [name for name in columns if name not in rule["columns"]]
    if uncovered:
        raise ValueError(
            translatable("the input rule does not cover %(columns)s", columns=uncovered)
        )
    for name in columns:
        edges = rule["columns"][name].get("edges")
        if not _valid_edges(edges):
            raise ValueError(
                translatable(
                    "the input rule's edges of %(column)s are not ascending numbers",
                    column=repr(name),
                )
            )
    return rule["method"], {name: rule["columns"][name] for name in columns}


def _valid_edges(edges) -> bool:
    if not isinstance(edges, list) or len(edges) < 2:
        return False
    if not all(isinstance(e, int | float) and not isinstance(e, bool) for e in edges):
        return False
    values = np.asarray(edges, dtype=np.float64)
    return bool(np.isfinite(values).all() and (np.diff(values) >= 0).all())


def report_columns(party: str, rule: dict, counts: dict, with_bins: bool) -> list[dict]:
    rows = []
    for name, fitted in rule.items():
        edges, found = fitted["edges"], [int(c) for c in counts[name]]
        row = {"column": name, "party": party, "bins": len(edges) - 1, "missing": found[0]}
        if with_bins:
            row["rule"] = [
                {"bin": i, "low": edges[i], "high": edges[i + 1], "count": found[i + 1]}
                for i in range(len(edges) - 1)
            ]
        rows.append(row)
    return rows


def kind_of(rule) -> str | None:
    return rule.get("kind") if isinstance(rule, dict) else type(rule).__name__


def bin_at_party(ctx: RunContext, party: str, columns: list[str]) -> None:
    data = ctx.inputs["input_ds"]
    if not columns:
        ctx.write_table_parts("output_ds", party, data.iter_arrow(party))
        return
    if "input_rule" in ctx.inputs:
        given = ctx.at(party, ctx.inputs["input_rule"].read_json, party)
        method, rule = ctx.at(party, rule_for, given, columns)
    else:
        method, bins = ctx.params["binning_method"], ctx.params["bin_num"]
        rule = ctx.at(party, fit_columns, data, party, columns, method, bins)
    counts = {name: np.zeros(len(rule[name]["edges"]), dtype=np.int64) for name in columns}
    ctx.write_table_parts("output_ds", party, binned_parts(data, party, columns, rule, counts))
    ctx.write_json("output_rule", party, {"kind": RULE_KIND, "method": method, "columns": rule})
    with_bins = ctx.params["report_rules"]
    report = {"kind": "binning", "method": method, "bins_reported": with_bins}
    report["columns"] = report_columns(party, rule, counts, with_bins)
    ctx.write_json("report", party, report)
    ctx.log(
        translatable_plural(
            "%(party)s: binned %(count)s column (%(method)s)",
            "%(party)s: binned %(count)s columns (%(method)s)",
            "count",
            party=party,
            count=len(columns),
            method=method,
        )
    )


def run(ctx: RunContext) -> None:
    info, rule = ctx.inputs["input_ds"].info, ctx.infos["output_rule"]
    parties = ctx.here(info.parties)
    for index, party in enumerate(parties):
        bin_at_party(ctx, party, [c.name for c in rule.columns_at(party)])
        ctx.progress(100 * (index + 1) / len(parties))


def report_flows(ctx: DisclosureContext) -> list[Flow]:
    """Each owner receives its own columns' bins (quantile edges are single rows' values:
    row level); no other party receives anything."""
    chosen = ctx.params["features"]
    flows = []
    for party in ctx.outputs["report"].parties:
        refs = tuple(ref for ref in ctx.refs("input_ds", chosen) if ref.party == party)
        what = gettext_noop("bin edges and counts of its own columns")
        flows.append(Flow((party,), Form.ROW_LEVEL, refs, what))
    return flows


COMPONENT = Component(
    domain="preprocessing",
    name="vert_binning",
    version="1.0.0",
    category="preprocessing",
    label=_("Binning"),
    description=_(
        "Bin numeric features into equal-range or quantile bins, each party its own columns; "
        "outputs the binned table, a rule that can be applied to another table, and a report "
        "for each column's owner."
    ),
    inputs=(
        table_port("input_ds", _("Table")),
        Port("input_rule", (PortType.RULE,), _("Rule to apply"), _("A fitted binning rule."), True),
    ),
    outputs=(
        Port("output_ds", TABLES, _("Binned table")),
        Port(
            "output_rule",
            (PortType.RULE,),
            _("Binning rule"),
            _("Bin edges, kept at each column's owner."),
        ),
        Port(
            "report",
            (PortType.REPORT,),
            _("Report"),
            _("Bins of each column, for that column's owner only."),
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
            name="binning_method",
            label=_("Binning method"),
            choices=("eq_range", "quantile"),
            default="eq_range",
            help=_(
                "eq_range: bins of equal width from min to max; quantile: bins holding about "
                "as many rows each (equal edges collapse)."
            ),
        ),
        IntParam(
            name="bin_num",
            label=_("Number of bins"),
            default=10,
            minimum=MIN_BINS,
            maximum=MAX_BINS,
            help=_("Bins per column; missing values get a bin of their own, index -1."),
        ),
        BoolParam(
            name="report_rules",
            label=_("Report bins"),
            default=True,
            help=_("Put each column's bin edges and counts in the report (its owner's copy only)."),
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    # Each party keeps its own binned columns, their edges and their report.
    disclosure=disclose(
        output_ds=KEPT_BY_HOLDERS,
        output_rule=Declares(
            parts=True,
            parts_form=Form.ROW_LEVEL,
            parts_what=gettext_noop("bin edges (quantile edges are single rows' values)"),
        ),
        report=Declares(flows=report_flows),
    ),
)
