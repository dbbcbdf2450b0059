"""SPU sessions for components, with the fixed-point precision picked from the parties' data.

`session` gives a component the engine cluster its run's placement provides
(`workflows.placement`), bound to the component's thread only (`core.device.runtime.using`), so
components that compute on secret shares run side by side with no process-wide lock. Embedded:
a simulated cluster of its own, its traffic counted into the run's `ctx.comm` (SEMI2K's trusted
dealer appears as `dealer`, an in-process thread). Network run: the run's deployment, one
party per process; SEMI2K's correlations then come from the SPU's first party
(`TrustedFirstParty`: it generates them from PRG seeds and must not collude with the others)
or, when the cluster declares one, from a dealer node (`TrustedThirdParty`).

Precision from the data: before any value is shared, each party measures its own input columns
on its own worker and shares only a power-of-two bound of their largest |x| (`column_bounds`,
the engine's rule for what a range check may reveal: the order of magnitude, never a value)
and the names of its columns that are not scaled (`workflows.components.checks`). The
component then asks the engine for a field and fraction bits (`plan_spu`, through
`core.mpc.precision.plan_precision`) and states the plan in the node's log: FM64 when it holds
the products, FM128 (the 128-bit ring, slower) when it cannot, e.g. unscaled incomes in SS-LR
("precision for SS-LR training: FM128 with 26 fraction bits: ... FM64 cannot hold these
products ..."). When no plan fits,
the engine's RangeError fails the node naming the operation, the bound and the columns
(`named_range_errors`).

Streamed inputs (`measure_streamed`, `streamed_blocks`): SS-LR reads its inputs from the
columnar files slice by slice. Each party first measures its whole table in one pass (bound,
unscaled columns, row count, no missing value), then shares it `BLOCK_ROWS` rows at a time,
every block declared within that one bound (`core.mpc.bounds.Bounded`), so the engine sees the
same public bound as for a whole matrix and no party ever holds its plaintext matrix whole.

Secret-shared results that must outlive a run (an SS-LR model's weights) are persisted share
by share with the engine's `SPU.export_shares` / `import_shares`: each party writes and later
loads only its own share; a new SPU must have the same parties, protocol and precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext

import core
from core.device import runtime
from core.errors import PartyFailure, RangeError, format_bound
from core.mpc.bounds import Bounded
from core.mpc.precision import PrecisionPlan, plan_precision
from workflows.components.checks import CheckFailed, not_scaled, scaling_advice
from workflows.components.context import RunCancelled, RunContext
from workflows.components.precision_words import plan_reason

PROTOCOL = "SEMI2K"
FIELD = "FM64"  # SPUs made without a plan (and models saved before plans were stored)
BLOCK_ROWS = 1 << 16  # rows per block of a streamed input (about 5 MB for 10 columns)


@contextmanager
def session(ctx: RunContext, parties: list[str]) -> Iterator[None]:
    """The engine cluster over `parties` for this thread (a simulation counted in `ctx.comm`,
    or the network run's deployment): SPUs and PYUs built inside (`make_spu`, `at_party`)
    belong to it."""
    with ctx.placement.session(list(parties), ctx.comm):
        yield


def make_spu(parties: list[str], plan: PrecisionPlan | None = None) -> core.SPU:
    """A SEMI2K SPU over `parties` in the current session (the plan's precision, or SPU's
    default of 18 fraction bits on FM64)."""
    config = {"protocol": PROTOCOL, "field": FIELD} | correlation_source()
    if plan is not None:
        config |= {"field": plan.field, "fxp_fraction_bits": plan.fxp_fraction_bits}
    return core.SPU({"nodes": list(parties), "runtime_config": config})


def correlation_source() -> dict:
    """SEMI2K's source of Beaver triples in the current cluster (module docstring): the
    simulation's dealer thread, else the cluster's dealer node, else the first SPU party."""
    cluster = runtime.current()
    if cluster.simulation:
        return {}
    dealers = getattr(cluster, "dealers", [])
    if dealers:
        return {"beaver_type": "TrustedThirdParty", "ttp_party": dealers[0]}
    return {"beaver_type": "TrustedFirstParty"}


def at_party(party: str, fn: Callable[..., Any], *args: Any) -> core.PYUObject:
    """Run `fn` on `party`'s worker (its own data only); the result stays at that party.

    `args` may hold that party's PYU objects. Errors become `PartyFailure(party, error)`.
    """
    try:
        return core.PYU(party)(fn)(*args)
    except (RunCancelled, PartyFailure):
        raise
    except Exception as error:
        raise PartyFailure(party, error) from error


@dataclass(frozen=True)
class PartyBounds:
    """What a party discloses about its own input columns: a power-of-two bound of their
    largest |x| (0 for an empty or all-zero input), the names of its unscaled feature columns
    and its row count (public in a project)."""

    party: str
    bound: float
    unscaled: tuple[str, ...]
    rows: int


def power_of_two_bound(values: np.ndarray) -> float:
    """The smallest power of two >= max |x| (0 when every value is 0)."""
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    return 0.0 if largest == 0 else 2.0 ** math.ceil(math.log2(largest))


def column_bounds(
    party: str, columns: list[str], matrix: core.PYUObject, *, features: bool = True
) -> PartyBounds:
    """Measured at `party` on its own matrix; only the bound, the names of unscaled columns
    (for features) and the row count are revealed."""

    def inspect(x: np.ndarray):
        return power_of_two_bound(x), not_scaled(x, columns) if features else [], len(x)

    bound, unscaled, rows = core.reveal(at_party(party, inspect, matrix))
    return PartyBounds(party, float(bound), tuple(unscaled), int(rows))


def column_label(party: str, columns: list[str]) -> str:
    """How the engine names a party's input in its errors: "alice's income, age"."""
    return f"{party}'s {', '.join(columns)}"


def labelled(
    party: str, columns: list[str], matrix: core.PYUObject, *, bound: float | None = None
) -> core.PYUObject:
    """The party's matrix as an SPU input named after its columns (`core.mpc.bounds.Bounded`),
    so the engine's RangeErrors name them; `bound` declares |x| <= bound, checked at the
    party."""
    label = column_label(party, columns)
    return at_party(party, lambda x: Bounded(x, bound=bound, label=label), matrix)


def measured_input(
    party: str,
    columns: list[str],
    read: Callable[[], np.ndarray],
    *,
    features: bool = True,
    bound: float | None = None,
) -> tuple[core.PYUObject, PartyBounds]:
    """Read a party's matrix at that party: the SPU input named after its columns, and what
    the party discloses about it (`column_bounds`)."""
    matrix = at_party(party, read)
    measured = column_bounds(party, columns, matrix, features=features)
    return labelled(party, columns, matrix, bound=bound), measured


def refuse_missing(values: np.ndarray, party: str, columns: list[str]) -> np.ndarray:
    """`values` (a party's own rows of `columns`), or ValueError naming the columns with gaps."""
    gaps = np.isnan(values).any(axis=0)
    if gaps.any():
        missing = [name for name, gap in zip(columns, gaps, strict=True) if gap]
        raise ValueError(f"columns {missing} at {party!r} have missing values; fill them first")
    return values


def measure_streamed(data, party: str, columns: list[str], *, features=True) -> PartyBounds:
    """`column_bounds` of the party's `columns` of `data` (an `ArtifactData`), measured at
    the party in one pass over its table slice by slice; missing values are refused."""

    def inspect():
        largest, rows = np.zeros(len(columns)), 0
        for values in data.iter_numeric(party, columns):
            refuse_missing(values, party, columns)
            if len(values):
                largest = np.maximum(largest, np.max(np.abs(values), axis=0))
            rows += len(values)
        unscaled = not_scaled(largest[None, :], columns) if features and rows else []
        return power_of_two_bound(largest), unscaled, rows

    bound, unscaled, rows = core.reveal(at_party(party, inspect))
    return PartyBounds(party, float(bound), tuple(unscaled), int(rows))


def streamed_blocks(
    data, inputs: list[tuple[str, list[str], PartyBounds]], block_rows: int = 0
) -> Iterator[list[core.PYUObject]]:
    """Blocks of consecutive rows: per block, each `(party, columns, measured)` input's next
    `block_rows` rows (`BLOCK_ROWS` by default), read at that party and declared within its
    measured bound, as SPU inputs named after the columns. Every input must have the rows of
    the first (aligned tables: row counts are public). A block is released at its parties
    (`PYU.release`) when the next one is asked for: share it before asking."""
    step = block_rows or BLOCK_ROWS
    rows = inputs[0][2].rows
    readers = [
        at_party(party, lambda p=party, c=columns: iter(data.iter_numeric(p, c, step)))
        for party, columns, _ in inputs
    ]
    for _ in range(max(1, math.ceil(rows / step))):
        block = [
            at_party(party, _next_block, reader, party, columns, measured.bound)
            for reader, (party, columns, measured) in zip(readers, inputs, strict=True)
        ]
        yield block
        # Asked for the next block: this one is in the SPU now, its plaintext can go.
        for (party, _, _), values in zip(inputs, block, strict=True):
            core.PYU(party).release(values)


def _next_block(reader, party: str, columns: list[str], bound: float) -> Bounded:
    values = refuse_missing(next(reader), party, columns)
    return Bounded(values, bound=bound or None, label=column_label(party, columns))


def unscaled_columns(bounds: list[PartyBounds]) -> dict[str, list[str]]:
    return {b.party: list(b.unscaled) for b in bounds if b.unscaled}


def gradient_magnitude(bounds: list[PartyBounds], rows: int) -> float:
    """What one product must hold when inputs (|x| <= B, the parties' largest bound) are
    multiplied by values of similar size (weights, an error in [-1, 1]) and up to `rows` such
    products are summed before truncating (`X_b^T e` in SS-LR's gradient): one product of
    values up to max(B, sqrt(rows * B)) keeps both B^2 and rows * B * 1 in range."""
    largest = max((b.bound for b in bounds), default=0.0)
    return max(largest, math.sqrt(max(rows, 1) * largest))


def plan_spu(
    ctx: RunContext,
    bounds: list[PartyBounds],
    magnitude: float,
    what: str,
    min_bits: int = 0,
    field: str | None = None,
):
    """Field and fraction bits for one product of values up to `magnitude` (which the caller
    derives from the parties' bounds and its program), logged with the engine's reason; fewer
    than `min_bits` (what the program's own constants need) fail the node naming the columns.
    `field` None lets the engine pick (FM64, or FM128 when FM64 cannot hold the products); a
    field name plans within that field (e.g. a trained model's)."""
    with named_range_errors(ctx, bounds, what):
        plan = plan_precision(magnitude, products=1, protocol=PROTOCOL, field=field)
    ctx.log(
        gettext("precision for %(what)s: %(reason)s") % {"what": what, "reason": plan_reason(plan)}
    )
    if plan.fxp_fraction_bits < min_bits:
        advice = scaling_advice(unscaled_columns(bounds)) or "scale the inputs"
        raise CheckFailed(
            f"the values of {describe_columns(bounds)} leave {what} only "
            f"{plan.fxp_fraction_bits} fraction bits, fewer than the {min_bits} it needs. "
            f"Fix: {advice}."
        )
    return plan


def describe_columns(bounds: list[PartyBounds]) -> str:
    """Who holds the largest inputs: "alice's income, age" (unscaled first), for messages."""
    unscaled = unscaled_columns(bounds)
    if unscaled:
        return "; ".join(f"{party}'s {', '.join(names)}" for party, names in unscaled.items())
    top = max(bounds, key=lambda b: b.bound, default=None)
    return f"{top.party}'s columns" if top else "the inputs"


@contextmanager
def named_range_errors(ctx: RunContext, bounds: list[PartyBounds], what: str) -> Iterator[None]:
    """Turn the engine's RangeError (bare or from a party) into a node failure naming the
    operation, the bound and the columns, with the fix; the engine's full explanation goes to
    the node's log."""
    try:
        yield
    except RangeError as error:
        ctx.log(f"the engine refused {what}: {error}")
        raise CheckFailed(range_message(error, bounds, what)) from error
    except PartyFailure as failure:
        if not isinstance(failure.error, RangeError):
            raise
        ctx.log(f"the engine refused {what} at {failure.party}: {failure.error}")
        raise CheckFailed(range_message(failure.error, bounds, what)) from failure


# Operations that refuse the inputs themselves (too large to plan for or to encode); others
# refuse a value computed from them (weights, a kernel's argument).
INPUT_OPERATIONS = frozenset({"plan_precision", "SPU input"})


def range_message(error: RangeError, bounds: list[PartyBounds], what: str) -> str:
    columns = error.label or describe_columns(bounds)
    advice = scaling_advice(unscaled_columns(bounds)) or error.fix
    where = f"operation {error.operation}, safe bound {format_bound(error.bound)}"
    if error.operation in INPUT_OPERATIONS:
        return (
            f"the values of {columns} are out of the range {what} can compute on in fixed "
            f"point ({where}). Fix: {advice}."
        )
    return (
        f"{what} stopped at a range check on values computed from {columns} ({where}): "
        f"{error.problem}. Fix: {advice}."
    )
