"""The engine's range refusals (their problem and fixed advice) in the reader's language.

A `core.errors.RangeError` carries the engine's advice (`fix`) in English: `core` has no
translations. That advice is one of a few fixed sentences (the errors module's default, the
kernels' domain advice, the planner's, the bounds checks', SS-LR's). Each is marked here for
translation with the engine's exact words (a test holds the two together: every fix the engine
can give is in `ENGINE_FIXES`), so the fix inside a stored range failure reads in the reader's
language. Advice not listed here (a newer engine's) is shown as it is.

The engine's `problem` (what was exceeded, with the figures) is a `core.range_problems.
RangeProblem`: a stable code and params beside its English text. `ENGINE_PROBLEMS` maps every
code of the engine's table (`core.range_problems.PROBLEMS`; a test walks it) to a message with
the same placeholders, so `engine_problem` stores it translatable. A problem that is plain
text (a caller's own words), or whose code or params do not match the table (a newer engine's,
or a forged one), is stored as its text.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from core.range_problems import RangeProblem
from workflows.messages import PLACEHOLDER, Message, translatable, translatable_plural

ENGINE_FIXES = frozenset(
    {
        gettext_noop(
            "scale the input (for example standardise it) or choose more integer bits (fewer "
            "fxp_fraction_bits, or field FM128; core.mpc.precision.plan_precision picks them "
            "from the data)"
        ),
        gettext_noop(
            "scale the input into the domain; its upper edge is 2^(f-2), so more fraction bits "
            "(up to 26 on FM64, 48 on FM128) widen it, at the cost of a smaller limit for products"
        ),
        gettext_noop("scale the input into the domain (it does not depend on the fraction bits)"),
        gettext_noop("scale the inputs (for example standardise them) or split the computation"),
        gettext_noop("declare a finite interval with lo <= hi"),
        gettext_noop("declare a bound that holds for the data, or scale it"),
        gettext_noop("scale the features (for example standardise them) or lower batch_size"),
        gettext_noop(
            "the training diverges (lower learning_rate) or the features are too large (scale them)"
        ),
    }
)


def engine_fix(fix: str) -> Message | str:
    """The engine's advice `fix` as a message to store (as it is when it is not a known one)."""
    return translatable(fix) if fix in ENGINE_FIXES else fix


ENGINE_PROBLEMS: dict[str, str] = {
    "secret_outside_encoding": gettext_noop(
        "a value is outside the fixed-point range with %(fraction_bits)s fraction bits in "
        "%(ring)s (%(count)s of %(size)s element(s) too large)"
    ),
    "public_outside_encoding": gettext_noop(
        "%(value)s is outside the fixed-point range with %(fraction_bits)s fraction bits in "
        "%(ring)s (%(count)s of %(size)s element(s) too large)"
    ),
    # integer_bits, products and wider are worded by `_plan_too_large`
    "plan_too_large": "",
    "declared_invalid": gettext_noop("the declared interval %(interval)s is invalid"),
    "outside_declared": gettext_noop(
        "%(outside)s of %(size)s element(s) lie outside the declared interval %(interval)s"
    ),
    "result_may_reach": gettext_noop(
        "the result may reach %(reach)s (from public bounds %(interval)s), beyond what "
        "%(fraction_bits)s fraction bits can encode in %(ring)s"
    ),
    "product_may_overflow": gettext_noop(
        "|x| <= %(a)s times |y| <= %(b)s may reach %(reach)s, so the "
        "%(intermediate_bits)s-fraction-bit intermediate could overflow the "
        "%(ring_bits)s-bit ring (%(ring)s)"
    ),
    "products_may_overflow": gettext_noop(
        "%(terms)s products of |x| <= %(a)s times |y| <= %(b)s may reach %(reach)s, so the "
        "%(intermediate_bits)s-fraction-bit intermediate could overflow the "
        "%(ring_bits)s-bit ring (%(ring)s)"
    ),
    "outside_domain": gettext_noop("an element is outside the kernel's domain %(domain)s"),
    "divisor_outside": gettext_noop("a divisor's magnitude is outside [%(lo)s, %(hi)s]"),
    "divisor_or_dividend_outside": gettext_noop(
        "a divisor's magnitude is outside [%(lo)s, %(hi)s] or a dividend's is too large for "
        "the quotient to fit"
    ),
    "exp_above": gettext_noop(
        "an element is above %(high)s, where e^x leaves the kernel's range (e^11.09 = 2^16)"
    ),
    "features_no_room": gettext_noop(
        "features up to %(bound)s over %(batch)s rows per batch leave no room for weights in "
        "the fixed-point products"
    ),
    "weight_left": gettext_noop(
        "a weight left [-%(half)s, %(half)s], near where the next step's products could overflow"
    ),
    "owner_check_failed": gettext_noop("the input failed its owner's range check"),
}
_PLAN_PARAMS = frozenset(
    {"max_abs", "integer_bits", "products", "min_fraction_bits", "field", "ring_bits", "wider"}
)


def engine_problem(problem: str) -> Message | str:
    """The engine's account of a range refusal as a message to store (its text when it is
    not a well-formed `RangeProblem` of the engine's table: see the module docstring)."""
    code, params = getattr(problem, "code", None), getattr(problem, "params", None)
    if not isinstance(problem, RangeProblem) or code not in ENGINE_PROBLEMS:
        return str(problem)
    if not isinstance(params, dict) or not all(_plain(v) for v in params.values()):
        return str(problem)
    if code == "plan_too_large":
        return _plan_too_large(problem, params)
    msgid = ENGINE_PROBLEMS[code]
    if set(params) != {name for name, _kind in PLACEHOLDER.findall(msgid) if name}:
        return str(problem)
    return translatable(msgid, **params)


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _plan_too_large(problem: str, params: dict) -> Message | str:
    """`plan_too_large`, its optional parts (chained products, a wider field) worded apart."""
    bits, products, wider = (params.get(name) for name in ("integer_bits", "products", "wider"))
    if set(params) != _PLAN_PARAMS or not isinstance(bits, int) or not isinstance(products, int):
        return str(problem)
    chained = (
        translatable_plural(
            " and %(products)s chained product of them",
            " and %(products)s chained products of them",
            "products",
            products=products,
        )
        if products
        else ""
    )
    holds = translatable(" (%(field)s would hold them)", field=wider) if wider else ""
    return translatable_plural(
        "values up to %(max_abs)s need %(integer_bits)s integer bit%(products)s, leaving fewer "
        "than %(min_fraction_bits)s fraction bits in %(field)s's %(ring_bits)s-bit ring%(wider)s",
        "values up to %(max_abs)s need %(integer_bits)s integer bits%(products)s, leaving fewer "
        "than %(min_fraction_bits)s fraction bits in %(field)s's %(ring_bits)s-bit ring%(wider)s",
        "integer_bits",
        **(params | {"products": chained, "wider": holds}),
    )
