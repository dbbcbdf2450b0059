"""stats/pearson: Pearson correlation matrix of numeric features across parties, on an SPU.

Each party loads its own chosen columns on its own worker and rescales them locally (subtract
its own mean, divide by its own largest absolute deviation, times 8): a per-column affine map
leaves correlations unchanged, reveals nothing (it never leaves the party) and puts every
input in [-8, 8], which the party declares to the engine (`Bounded`, checked at the party,
named after its columns). On the SPU (SEMI2K, `workflows.components.secure`) the columns are
standardised (mean, variance, inverse square root) into Z and the matrix is computed as
(Z / sqrt(n))^T (Z / sqrt(n)) = Z^T Z / n; only that matrix is revealed, into the report every
project party receives (in full over k rows or more: see Recipients).

Precision (stated in the node's log, planned by `secure.plan_spu`): the largest product is a
centred value (at most 16) times an inverse standard deviation (at most 2^5, the inverse square
root's domain starting at 2^-10), and the scaled product's sum stays in range for any row
count, so the plan keeps FM64 with 18 fraction bits (`correlation_magnitude`) whatever the
columns' magnitudes: the local rescaling is what spares Pearson the 128-bit ring that
SecretPad recommends for Pearson/VIF on large raw data (the plan would pick FM128 for products
FM64 cannot hold, as it does for SS-LR on a label in dollars). A column whose rescaled
variance falls below 2^-10 (one extreme outlier in more than 65,536 rows) fails the node: the
inverse square root refuses it. Which column is secret (the refusal opens one bit for them
all), so the failure names the parties whose columns feed it, not the columns
(`secure.range_failure`).
Accuracy: within 2e-4 of numpy's `corrcoef` on the demo data (13 columns, 3,643 rows; 1.03e-4
measured).

Recipients: every party receives the matrix when the table has at least k rows
(`RunContext.min_group_rows`). Below that, a party's copy keeps only correlations between its
own columns (with two rows, a correlation is +-1 and gives away the order of the other party's
values). Before computing, every party of the table learns each other party's row count and
the power-of-two bound of its rescaled columns (`BOUNDS_WHAT`, declared with the report).

What the matrix discloses (`report_flows`): a correlation between two columns of one party is
an aggregate over all rows. A correlation between columns of two parties is not, whatever the
row count: corr(x, c) = z_x . z_c / n is a linear function of x's standardised values whose
coefficients the other party picks by choosing its own column c. A column that is 1 on one
row and 0 elsewhere (aligned by PSI on a key it knows) gives (x_j - mean) / std of that one
row: the sign alone is a 0/1 label's value, and with the column's mean and spread (table
statistics) the exact value. So cross-party correlations are declared row-level data about
both parties' columns, to every party: they leave only with each owner's consent (an approval,
or a standing policy allowing row-level data).
"""

from __future__ import annotations

import math

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

import core
from core import reveal
from workflows.components import secure
from workflows.components.aggregates import enough_rows
from workflows.components.context import RunContext
from workflows.components.disclosure import (
    Declares,
    DisclosureContext,
    Flow,
    Form,
    disclose,
    input_bounds,
)
from workflows.components.library.ss_lr_train import read_numeric
from workflows.components.params import ColumnsParam
from workflows.components.schema import ArtifactInfo
from workflows.components.spec import Component, InferContext
from workflows.components.tables import (
    aligned_rows,
    finite,
    report_info,
    report_port,
    table_port,
)
from workflows.messages import translatable, translatable_plural

RANGE = 8.0  # largest absolute value of a locally rescaled (and centred) column
RSQRT_MAX = 2.0**5  # 1 / sqrt(2^-10): the inverse square root's largest output


# What `load` reveals to every party of the table (`secure.PartyBounds` of the rescaled
# columns: x * (1 / x) rounds to 1 or just below in binary floating point and RANGE is a power
# of two, so their bound is RANGE whatever the data).
BOUNDS_WHAT = gettext_noop(
    "the row count and the order of magnitude (a power of two) of the largest absolute value "
    "of the columns after their local rescaling, which fixes it at 8"
)


CROSS_WHAT = gettext_noop(
    "correlations between columns of different parties (each party picks its own columns, and "
    "one crafted to single out a row gives that row's standardised value)"
)


def report_flows(ctx: DisclosureContext) -> list[Flow]:
    """The matrix to every party: correlations within one party's columns as an aggregate over
    k rows or more, correlations across two parties' columns as row-level data (module
    docstring), and the input bounds of the computation."""
    used = ctx.refs("input_ds", ctx.params["features"])
    flows = [
        # Shared only over tables of at least k rows.
        Flow(
            ctx.parties,
            Form.AGGREGATE,
            used,
            gettext_noop("the correlation matrix"),
            ctx.min_group,
        ),
        input_bounds(ctx.inputs["input_ds"].parties, used, BOUNDS_WHAT),
    ]
    if len({ref.party for ref in used}) > 1:
        flows.append(Flow(ctx.parties, Form.ROW_LEVEL, used, CROSS_WHAT))
    return flows


def correlation_magnitude() -> float:
    """One product's planned magnitude (module docstring): |x - mean| <= 2 RANGE times an
    inverse standard deviation <= RSQRT_MAX, as one product of equal factors."""
    return math.sqrt(2 * RANGE * RSQRT_MAX)


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    return {"report": report_info(ctx.env.parties)}


def check(ctx: InferContext) -> list:
    info, names = ctx.inputs["input_ds"], ctx.params["features"]
    shared = sorted(name for name in names if len(info.find(name)) > 1)
    if not shared:
        return []
    return [
        translatable_plural(
            "column %(columns)s exists at several parties; rename it first",
            "columns %(columns)s exist at several parties; rename them first",
            "count",
            columns=shared,
            count=len(shared),
        )
    ]


def rescale(values: np.ndarray, party: str, names: list[str]) -> np.ndarray:
    """Centre and scale own columns into [-RANGE, RANGE]; a constant column is refused."""
    centred = values - values.mean(axis=0)
    spread = np.abs(centred).max(axis=0)
    constant = [name for name, s in zip(names, spread, strict=True) if s == 0]
    if constant:
        raise ValueError(
            translatable_plural(
                "column %(columns)s at %(party)s is constant; correlation undefined",
                "columns %(columns)s at %(party)s are constant; correlation undefined",
                "count",
                columns=constant,
                party=party,
                count=len(constant),
            )
        )
    return centred * (RANGE / spread)


def correlate(*parts):
    """SPU program: standardise every column and return (Z / sqrt(n))^T (Z / sqrt(n)).

    That is Z^T Z / n. Scaling Z by 1 / sqrt(n) before the product keeps the engine's public
    bound of the matrix product (n times the square of Z's bound) independent of n, so it
    passes the overflow check for any row count; Z^T Z itself would be refused beyond a few
    thousand rows.
    """
    x = np.concatenate(parts, axis=1)
    centred = x - x.mean(axis=0, keepdims=True)
    z = centred * (centred * centred).mean(axis=0, keepdims=True).rsqrt()
    u = z * (1.0 / np.sqrt(x.shape[0]))
    return u.T @ u


def layout(info: ArtifactInfo, features: list[str]) -> list[tuple[str, list[str]]]:
    chosen = set(features)
    parts = [(p, [c.name for c in info.columns_at(p) if c.name in chosen]) for p in info.parties]
    return [(party, names) for party, names in parts if names]


def load(ctx: RunContext, party: str, names: list[str]):
    """A party's rescaled columns as a declared SPU input, and what it discloses about them."""
    data = ctx.inputs["input_ds"]
    read = lambda: rescale(read_numeric(data, party, names), party, names)  # noqa: E731
    return secure.measured_input(party, names, read, features=False, bound=RANGE)


def base_report(parts: list[tuple[str, list[str]]]) -> dict:
    names = [name for _, party_names in parts for name in party_names]
    owners = {name: party for party, party_names in parts for name in party_names}
    return {"kind": "pearson", "features": names, "parties": owners}


def cells(matrix: np.ndarray) -> list[list[float | None]]:
    return [[finite(v) for v in row] for row in np.clip(matrix, -1.0, 1.0)]


def own_report(parts, party: str, block: np.ndarray | None, k: int) -> dict:
    """`party`'s copy below k rows: only correlations between its own columns (None for every
    other pair); `block` is that square of the matrix (None for a party without columns)."""
    report = base_report(parts)
    size = len(report["features"])
    matrix: list[list[float | None]] = [[None] * size for _ in range(size)]
    if block is not None:
        start = report["features"].index(dict(parts)[party][0])
        for i, row in enumerate(cells(np.asarray(block, dtype=np.float64))):
            matrix[start + i][start : start + len(row)] = row
    return report | {"matrix": matrix, "disclosure": {"view": "aggregated", "min_rows": k}}


def own_blocks(spu, secret, parts):
    """Per party with columns: its square of the secret matrix, revealed to it alone."""
    start = 0
    for party, names in parts:
        end = start + len(names)
        block = spu(lambda m, a=start, b=end: m[a:b, a:b])(secret)
        yield party, block.to(core.PYU(party))
        start = end


def run(ctx: RunContext) -> None:
    info = ctx.inputs["input_ds"].info
    parts = layout(info, ctx.params["features"])
    ctx.progress(0)
    what, k = _("Pearson correlation"), ctx.min_group_rows
    # Over k rows every party receives the whole matrix; below, each party only the
    # correlations of its own columns, revealed to it alone.
    whole = enough_rows(aligned_rows(ctx, "input_ds"), k)
    receivers = ctx.here(ctx.infos["report"].parties)
    with secure.session(ctx, list(info.parties)):
        inputs, bounds = zip(*(load(ctx, party, names) for party, names in parts), strict=True)
        bounds = list(bounds)
        plan = secure.plan_spu(ctx, bounds, correlation_magnitude(), what)
        spu = secure.make_spu(ctx, list(info.parties), plan, what)
        ctx.progress(30)
        with secure.named_range_errors(bounds, what):
            secret = spu(correlate)(*inputs)
            if whole:
                matrix = np.asarray(reveal(secret), dtype=np.float64)
            else:
                for party, block in own_blocks(spu, secret, parts):
                    write = lambda b, p=party: ctx.write_json(  # noqa: E731
                        "report", p, own_report(parts, p, b, k)
                    )
                    secure.at_party(party, write, block)
    holders = dict(parts)
    for party in receivers:
        if whole:
            ctx.write_json("report", party, base_report(parts) | {"matrix": cells(matrix)})
        elif party not in holders:
            ctx.write_json("report", party, own_report(parts, party, None, k))
    ctx.log(
        translatable(
            "correlation of %(features)s features across %(parties)s parties",
            features=len(base_report(parts)["features"]),
            parties=len(parts),
        )
    )
    ctx.progress(100)


COMPONENT = Component(
    domain="stats",
    name="pearson",
    version="1.0.0",
    category="stats",
    label=_("Pearson correlation"),
    description=_(
        "Correlation matrix of numeric features held by several parties, computed on "
        "secret shares; only the matrix is revealed."
    ),
    inputs=(table_port("input_ds", _("Table")),),
    outputs=(report_port(),),
    params=(
        ColumnsParam(
            name="features",
            port="input_ds",
            roles=("feature", "label"),
            types=("int", "float", "bool"),
            min_count=2,
            help=_("Numeric columns, from any party."),
            refuses_missing=True,
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    disclosure=disclose(report=Declares(flows=report_flows)),
)
