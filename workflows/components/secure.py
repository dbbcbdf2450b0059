"""SPU sessions for components, with the fixed-point precision picked from the parties' data.

`session` gives a component the engine cluster its run's placement provides
(`workflows.placement`), bound to the component's thread only (`core.device.runtime.using`), so
components that compute on secret shares run side by side with no process-wide lock. Embedded:
a simulated cluster of its own, its traffic counted into the run's `ctx.comm` (SEMI2K's trusted
dealer appears as `dealer`, an in-process thread). Network run: the run's deployment, one
party per process; SEMI2K's correlations then come from the SPU's first party
(`TrustedFirstParty`: it generates them from PRG seeds and is trusted not to look at them)
or, when the cluster declares one, from a dealer node (`TrustedThirdParty`). Whichever it is,
`make_spu` states it in the node's log as the node's threat model (`trust_words`).

Precision from the data: before any value is shared, each party measures its own input columns
on its own worker and shares only a power-of-two bound of their largest |x| (`column_bounds`,
the engine's rule for what a range check may reveal: the order of magnitude, never a value),
its row count and whether some feature column is not scaled (`PartyBounds`;
`workflows.components.checks`). Which columns are not scaled stays at the party: its own
warning names them, for its own users (`warn_about`). The component then asks the engine for
a field and fraction bits (`plan_spu`, through `core.mpc.precision.plan_precision`) and
states the plan in the node's log: FM64 when it holds the products, FM128 (the 128-bit ring,
slower) when it cannot, e.g. unscaled incomes in SS-LR ("precision for SS-LR training: FM128
with 26 fraction bits: ... FM64 cannot hold these products ...").

Range failures are a party's own (`data_failure`, `range_failure`, `workflows.redaction`):
when no plan fits, or the engine refuses an input or a value computed from one party's inputs
alone, the node fails at that party: its users read the operation, the bound, the columns and
the fix; every other party reads that a value of that party's data is outside the range,
and which party, nothing more. A refusal of values computed from several parties' data (SS-LR's
weights) names the parties and the operation, for everyone, and no column. Embedded and network
runs give the same public texts; in a network run only the failing party's process holds the
full one. These texts and the plan's log line are stored messages (`workflows.messages`), read
in each reader's language whoever started the run, the engine's advice too
(`workflows.components.engine_words`), and so is the engine's account of the problem (a
RangeError's `problem`: a code and its figures, worded there).

Streamed inputs (`measure_streamed`, `streamed_blocks`): SS-LR reads its inputs from the
columnar files slice by slice. Each party first measures its whole table in one pass (bound,
unscaled columns, row count, no missing value), then shares it `BLOCK_ROWS` rows at a time,
every block declared within that one bound (`core.mpc.bounds.Bounded`), so the engine sees the
same public bound as for a whole matrix and no party ever holds its plaintext matrix whole.

Secret-shared results that must outlive a run (an SS-LR model's weights) are persisted share
by share with the engine's `SPU.export_shares` / `import_shares`: each party writes and later
loads only its own share; a new SPU must have the same parties, protocol and precision, and
the parties refuse parts of different exports (every part names its export's random id, so a
mixed-up or stale part fails the node instead of summing to wrong weights).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.functional import Promise

import core
from core.device import runtime
from core.errors import PartyFailure, RangeError, format_bound
from core.mpc.bounds import Bounded
from core.mpc.precision import PrecisionPlan, plan_precision
from workflows import redaction
from workflows.components.checks import (
    CheckFailed,
    columns_of,
    listed_words,
    not_scaled,
    scaling_advice,
)
from workflows.components.context import RunCancelled, RunContext
from workflows.components.engine_words import engine_fix, engine_problem
from workflows.components.precision_words import plan_reason
from workflows.components.trust_words import threat_model
from workflows.messages import Message, translatable, translatable_plural

PROTOCOL = "SEMI2K"
FIELD = "FM64"  # SPUs made without a plan (and models saved before plans were stored)
BLOCK_ROWS = 1 << 16  # rows per block of a streamed input (about 5 MB for 10 columns)

# What a computation is called in its messages: a lazily translated label (`gettext_lazy`,
# stored by its msgid and read in each reader's language), a message, or plain text.
What = Message | Promise | str


@contextmanager
def session(ctx: RunContext, parties: list[str]) -> Iterator[None]:
    """The engine cluster over `parties` for this thread (a simulation counted in `ctx.comm`,
    or the network run's deployment): SPUs and PYUs built inside (`make_spu`, `at_party`)
    belong to it."""
    with ctx.placement.session(list(parties), ctx.comm):
        yield


def make_spu(
    ctx: RunContext, parties: list[str], plan: PrecisionPlan | None, what: What
) -> core.SPU:
    """A SEMI2K SPU over `parties` in the current session (the plan's precision, or SPU's
    default of 18 fraction bits on FM64); the node's log states whom `what` then trusts
    (`trust_words.threat_model`)."""
    config = {"protocol": PROTOCOL, "field": FIELD} | correlation_source()
    if plan is not None:
        config |= {"field": plan.field, "fxp_fraction_bits": plan.fxp_fraction_bits}
    spu = core.SPU({"nodes": list(parties), "runtime_config": config})
    ctx.log(threat_model(spu, what))
    return spu


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
    """What a party discloses about its own input columns, and what it keeps.

    Disclosed to every party (the protocol needs them to plan one precision): a power-of-two
    bound of the columns' largest |x| (0 for an empty or all-zero input), the row count
    (public in a project) and `has_unscaled`, whether some feature column goes beyond the
    scaled limit (the verdict behind the party's public warning). `columns` are the input's
    columns as the caller chose them (the pipeline's parameters: known to every party, never
    sent). `unscaled` names the unscaled columns where the party's code runs in this process
    (every party embedded; this process's own party in a network run) and is None elsewhere:
    which of a party's columns are large never leaves it."""

    party: str
    columns: tuple[str, ...]
    bound: float
    rows: int
    has_unscaled: bool
    unscaled: tuple[str, ...] | None

    @property
    def details_here(self) -> bool:
        """Whether this process holds the party's own details (its unscaled columns)."""
        return self.unscaled is not None

    @property
    def label(self) -> str:
        """The name of this input in the engine's errors (`column_label`)."""
        return column_label(self.party, list(self.columns))

    def named_columns(self) -> Message:
        """The party's columns a fix should name: the unscaled ones, else all of them (a
        label, which is not a feature, is never reported unscaled). For its users only."""
        return columns_of(self.party, list(self.unscaled or self.columns))


def power_of_two_bound(values: np.ndarray) -> float:
    """The smallest power of two >= max |x| (0 when every value is 0)."""
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    return 0.0 if largest == 0 else 2.0 ** math.ceil(math.log2(largest))


def column_bounds(
    party: str, columns: list[str], matrix: core.PYUObject, *, features: bool = True
) -> PartyBounds:
    """Measured at `party` on its own matrix: only the bound, the row count and whether some
    feature column is unscaled are revealed; the unscaled columns' names stay at the party."""

    def inspect(x: np.ndarray):
        return power_of_two_bound(x), not_scaled(x, columns) if features else [], len(x)

    return _disclose(party, columns, at_party(party, inspect, matrix))


def _disclose(party: str, columns: list[str], measured: core.PYUObject) -> PartyBounds:
    """`PartyBounds` from a party's own (bound, unscaled names, rows): every party receives the
    bound, the row count and the verdict; the names are read where the party runs only."""
    verdict = at_party(party, lambda m: (m[0], m[2], bool(m[1])), measured)
    bound, rows, has_unscaled = core.reveal(verdict)
    kept = core.PYU(party).local(measured)
    unscaled = None if kept is None else tuple(kept[1])
    return PartyBounds(party, tuple(columns), float(bound), int(rows), bool(has_unscaled), unscaled)


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
        raise ValueError(
            translatable_plural(
                "column %(columns)s at %(party)s has missing values; fill it first",
                "columns %(columns)s at %(party)s have missing values; fill them first",
                "count",
                columns=missing,
                party=party,
                count=len(missing),
            )
        )
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

    return _disclose(party, columns, at_party(party, inspect))


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


def unscaled_parties(bounds: list[PartyBounds]) -> list[str]:
    """The parties with unscaled features (public: every party receives the verdicts)."""
    return list(dict.fromkeys(b.party for b in bounds if b.has_unscaled))


def warn_about(ctx: RunContext, party: str, message: str | None) -> None:
    """Warn about `party`'s data: `message` where its details are here (None elsewhere); a
    process that does not hold them records the text every other party reads."""
    ctx.warn(redaction.warning_public(party) if message is None else message, party=party)


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
    what: What,
    min_bits: int = 0,
    field: str | None = None,
):
    """Field and fraction bits for one product of values up to `magnitude` (which the caller
    derives from the parties' bounds and its program), logged with the engine's reason.
    `field` None lets the engine pick (FM64, or FM128 when FM64 cannot hold the products); a
    field name plans within that field (e.g. a trained model's).

    No plan at all, or fewer than `min_bits` fraction bits (what the program's own constants
    need), is the failure of the party with the largest inputs (`data_failure`)."""
    with named_range_errors(bounds, what):
        plan = plan_precision(magnitude, products=1, protocol=PROTOCOL, field=field)
    ctx.log(translatable("precision for %(what)s: %(reason)s", what=what, reason=plan_reason(plan)))
    if plan.fxp_fraction_bits < min_bits:
        raise data_failure(bounds, what, lambda top: too_few_bits(top, what, plan, min_bits))
    return plan


def too_few_bits(top: PartyBounds, what: What, plan: PrecisionPlan, min_bits: int) -> Message:
    fix = scaling_advice({top.party: list(top.unscaled or [])}) or translatable("scale the inputs")
    return translatable_plural(
        "the values of %(columns)s leave %(what)s only %(bits)s fraction bit, fewer than the "
        "%(min)s it needs. Fix: %(fix)s.",
        "the values of %(columns)s leave %(what)s only %(bits)s fraction bits, fewer than the "
        "%(min)s it needs. Fix: %(fix)s.",
        "bits",
        columns=top.named_columns(),
        what=what,
        bits=plan.fxp_fraction_bits,
        min=min_bits,
        fix=fix,
    )


def largest_inputs(bounds: list[PartyBounds]) -> PartyBounds | None:
    """The input with the largest bound (the first in order on a tie): the data that a
    precision cannot hold when no plan fits."""
    return max(bounds, key=lambda b: b.bound, default=None)


def data_failure(
    bounds: list[PartyBounds],
    what: What,
    full: Callable[[PartyBounds], Message],
    *,
    culprit: PartyBounds | None = None,
    computed: bool = False,
) -> Exception:
    """The failure of `what` caused by one party's data (`culprit`, by default the one with
    the largest inputs), as that party's own (`workflows.redaction`): `full(culprit)`, naming
    its columns, where its details are here; everyone else reads `redaction.range_public`,
    which names the party and nothing of its columns, values or bounds."""
    culprit = culprit or largest_inputs(bounds)
    if culprit is None:  # no input at all: nobody's data to name
        return CheckFailed(translatable("%(what)s has no input to compute on", what=what))
    public = redaction.range_public(culprit.party, what, computed=computed)
    message = full(culprit) if culprit.details_here else public
    return PartyFailure(culprit.party, CheckFailed(message, public=public))


@contextmanager
def named_range_errors(bounds: list[PartyBounds], what: What) -> Iterator[None]:
    """Turn the engine's RangeError (bare or from a party) into the node's failure
    (`range_failure`)."""
    try:
        yield
    except RangeError as error:
        raise range_failure(error, bounds, what) from error
    except PartyFailure as failure:
        if not isinstance(failure.error, RangeError):
            raise
        raise range_failure(failure.error, bounds, what) from failure


# Operations that refuse the inputs themselves (too large to plan for or to encode); others
# refuse a value computed from them (weights, a kernel's argument).
INPUT_OPERATIONS = frozenset({"plan_precision", "SPU input"})


def range_failure(error: RangeError, bounds: list[PartyBounds], what: What) -> Exception:
    """Whose failure the engine's refusal is, and its texts.

    - No input named (the plan: `plan_precision` refuses a magnitude): the party with the
      largest inputs, which no precision holds.
    - The refused value derives from one party's inputs only (its input, or values computed
      from it alone, as the error's label says): that party's failure.
    - It derives from several parties' inputs (SS-LR's weights, a correlation): nobody can
      tell whose values are to blame (they are secret), so the failure is nobody's: one text
      for everyone, naming the parties, the operation and the engine's fix, and no column,
      value or bound.
    """
    computed = error.operation not in INPUT_OPERATIONS
    if error.label is None and not computed:
        return data_failure(bounds, what, lambda top: range_message(error, top, what, []))
    named = named_inputs(error.label, bounds) if error.label else list(bounds)
    parties = list(dict.fromkeys(b.party for b in named))
    if len(parties) == 1 and not truncated(error.label):
        culprit = largest_inputs(named)
        return data_failure(
            bounds,
            what,
            lambda top: range_message(error, top, what, named),
            culprit=culprit,
            computed=computed,
        )
    named_parties = parties or [b.party for b in bounds]
    return CheckFailed(joint_range_message(what, error.operation, named_parties, error.fix))


def named_inputs(label: str, bounds: list[PartyBounds]) -> list[PartyBounds]:
    """The inputs an engine label names: the label of one input (`column_label`), or several
    joined by ", " in sorted order (`core.mpc.bounds.label_text`)."""
    return [b for b in bounds if _names(label, b.label)]


def _names(label: str, one: str) -> bool:
    if label == one:
        return True
    ends = (", ", " and ")
    return any(label.startswith(one + end) for end in ends) or any(
        f", {one}{end}" in label or label.endswith(f", {one}") for end in ends
    )


def truncated(label: str | None) -> bool:
    """Whether the engine's label lists only the first of its inputs ("... and 3 more")."""
    return bool(label) and re.search(r" and \d+ more$", label) is not None


def range_message(
    error: RangeError, top: PartyBounds, what: What, named: list[PartyBounds]
) -> Message:
    """The culprit's full text: its columns (the `named` inputs of the engine's label, else
    the ones a fix should name), the operation, the bound and the fix. The engine's problem
    (a code and figures) and its `fix` (one of a few fixed sentences) are read in the
    reader's language (`engine_words`)."""
    columns = top.named_columns()
    if error.label and named:
        columns = columns_of(top.party, [name for b in named for name in b.columns])
    facts = {
        "columns": columns,
        "what": what,
        "operation": error.operation,
        "bound": format_bound(error.bound),
        "problem": engine_problem(error.problem),
        "fix": scaling_advice({top.party: list(top.unscaled or [])}) or engine_fix(error.fix),
    }
    if error.operation in INPUT_OPERATIONS:
        return translatable(
            "the values of %(columns)s are out of the range %(what)s can compute on in fixed "
            "point (operation %(operation)s, safe bound %(bound)s): %(problem)s. Fix: %(fix)s.",
            **facts,
        )
    return translatable(
        "%(what)s stopped at a range check on values computed from %(columns)s (operation "
        "%(operation)s, safe bound %(bound)s): %(problem)s. Fix: %(fix)s.",
        **facts,
    )


def joint_range_message(what: What, operation: str, parties: list[str], fix: str) -> Message:
    """The one text of a refusal of values computed from several parties' data (`fix`: the
    engine's, which names no column)."""
    return translatable(
        "%(what)s stopped at a range check (operation %(operation)s) on values computed from "
        "the data of %(parties)s: a value is outside the range this operation can compute on "
        "in fixed point. Fix: %(fix)s.",
        what=what,
        operation=operation,
        parties=listed_words(parties),
        fix=engine_fix(fix),
    )
