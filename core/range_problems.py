"""What a range refusal says, as data: a stable code and its params.

A `RangeProblem` is the English text a `core.errors.RangeError`'s `problem` has always carried
(so Python users, logs and `str(error)` read the same words) and, beside it, what that text says
as a `code` plus `params` (figures already written as people read them: bounds, intervals,
counts, ring names). Layers above the engine word a problem in their reader's language from the
code alone (`workflows.components.engine_words`); they never parse the text. `PROBLEMS` is the
one table of codes and their English templates (`str.format`, plain `{name}` fields only, so a
translation can use the same names), the pattern of `core.comm.causes` for link failures.

A problem is a `str`, so everything that treats it as text keeps working. A plain `str` problem
(a caller's own words, or a newer engine's) is still valid: it is shown as it is.

Problems do not cross processes: the one a party raises after another party's input was refused
(`owner_check_failed`, `core.device.spu.secondhand_refusal`) is built locally from the refusal's
public header, which carries no problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.coded_text import CodedText

PROBLEMS: dict[str, str] = {
    # encoding (`core.mpc.fixedpoint`)
    "secret_outside_encoding": (
        "a value is outside the fixed-point range with {fraction_bits} fraction bits in {ring} "
        "({count} of {size} element(s) too large)"
    ),
    "public_outside_encoding": (
        "{value} is outside the fixed-point range with {fraction_bits} fraction bits in {ring} "
        "({count} of {size} element(s) too large)"
    ),
    # the precision planner (`core.mpc.precision`); `products` and `wider` are optional
    "plan_too_large": (
        "values up to {max_abs} need {integer_bits} integer bit(s){products}, leaving fewer "
        "than {min_fraction_bits} fraction bits in {field}'s {ring_bits}-bit ring{wider}"
    ),
    # declared and derived bounds (`core.mpc.bounds`)
    "declared_invalid": "the declared interval {interval} is invalid",
    "outside_declared": (
        "{outside} of {size} element(s) lie outside the declared interval {interval}"
    ),
    "result_may_reach": (
        "the result may reach {reach} (from public bounds {interval}), beyond what "
        "{fraction_bits} fraction bits can encode in {ring}"
    ),
    "product_may_overflow": (
        "|x| <= {a} times |y| <= {b} may reach {reach}, so the {intermediate_bits}-fraction-bit "
        "intermediate could overflow the {ring_bits}-bit ring ({ring})"
    ),
    "products_may_overflow": (
        "{terms} products of |x| <= {a} times |y| <= {b} may reach {reach}, so the "
        "{intermediate_bits}-fraction-bit intermediate could overflow the {ring_bits}-bit ring "
        "({ring})"
    ),
    # kernels' domains (`core.mpc.kernels.domains`)
    "outside_domain": "an element is outside the kernel's domain {domain}",
    "divisor_outside": "a divisor's magnitude is outside [{lo}, {hi}]",
    "divisor_or_dividend_outside": (
        "a divisor's magnitude is outside [{lo}, {hi}] or a dividend's is too large for the "
        "quotient to fit"
    ),
    "exp_above": (
        "an element is above {high}, where e^x leaves the kernel's range (e^11.09 = 2^16)"
    ),
    # SS-LR (`core.ml.ss_lr`)
    "features_no_room": (
        "features up to {bound} over {batch} rows per batch leave no room for weights in the "
        "fixed-point products"
    ),
    "weight_left": (
        "a weight left [-{half}, {half}], near where the next step's products could overflow"
    ),
    # another party's input was refused by its owner (`core.device.spu`)
    "owner_check_failed": "the input failed its owner's range check",
}

# Optional parts of `plan_too_large`, in English (the layers above word them from the params).
PLAN_PRODUCTS = " and {products} chained product(s) of them"
PLAN_WIDER = " ({field} would hold them)"

_PLAIN = (str, int, float)


class RangeProblem(CodedText):
    """A range refusal's problem (see the module docstring): `str(problem)` is its English."""

    TEMPLATES = PROBLEMS
    KIND = "range problem"

    @classmethod
    def _check(cls, code: str, params: Mapping[str, Any]) -> None:
        if not all(isinstance(value, _PLAIN) for value in params.values()):
            raise TypeError(f"range problem {code!r}: params must be text or numbers")

    @classmethod
    def _english(cls, code: str, params: Mapping[str, Any]) -> str:
        if code != "plan_too_large":
            return PROBLEMS[code].format(**params)
        products = params["products"]
        shown = dict(params, products=PLAN_PRODUCTS.format(products=products) if products else "")
        wider = params["wider"]
        shown["wider"] = PLAN_WIDER.format(field=wider) if wider else ""
        bits = params["integer_bits"]
        return (
            PROBLEMS[code]
            .format(**shown)
            .replace(f"{bits} integer bit(s)", f"{bits} integer bit" + ("" if bits == 1 else "s"))
        )
