"""A precision plan's reason as a message for the node's log, read in each reader's language.

`core.mpc.precision.plan_precision` decides the field and fraction bits and explains them in
English (`PrecisionPlan.reason`, for the Python API); `core` has no translations. Here the same
sentence is a stored message (`workflows.messages`) built from the figures the plan carries, so
a Chinese user reads the log in Chinese whoever started the run. Rendered in English it is
exactly the engine's sentence (a test holds the two together), so the rule lives in the engine
and only the words live here.
"""

from __future__ import annotations

import math

from core.errors import format_bound
from core.mpc.precision import (
    FIELD_DEFAULT_BITS,
    MIN_FRACTION_BITS,
    PrecisionPlan,
    integer_bits,
    ring_for,
)
from workflows.messages import Message, translatable, translatable_plural


def plan_reason(plan: PrecisionPlan) -> Message:
    """`plan.reason` as a message to store."""
    bits = integer_bits(plan.max_abs)
    reason = translatable_plural(
        "%(field)s with %(fraction)s fraction bits: inputs up to %(max)s need %(bits)s integer "
        "bit%(products)s%(capped)s.",
        "%(field)s with %(fraction)s fraction bits: inputs up to %(max)s need %(bits)s integer "
        "bits%(products)s%(capped)s.",
        "bits",
        field=plan.field,
        fraction=plan.fxp_fraction_bits,
        max=f"{plan.max_abs:.6g}",
        bits=bits,
        products=_products(plan) if plan.products else "",
        capped=_capped(plan) if plan.possible > plan.fxp_fraction_bits else "",
    )
    if plan.fm64_bits is None:
        return reason
    return translatable("%(plan)s %(why_not_fm64)s", plan=reason, why_not_fm64=_why_not_fm64(plan))


def _products(plan: PrecisionPlan) -> Message:
    top = max(plan.max_abs, 1.0) ** (plan.products + 1)
    return translatable_plural(
        "; %(products)s chained product reaches at most %(top)s (2^%(before)s before "
        "truncation), within 2^%(limit)s (%(protocol)s keeps %(margin)s bits of truncation "
        "headroom)",
        "; %(products)s chained products reach at most %(top)s (2^%(before)s before "
        "truncation), within 2^%(limit)s (%(protocol)s keeps %(margin)s bits of truncation "
        "headroom)",
        "products",
        products=plan.products,
        top=format_bound(top),
        before=f"{math.log2(top) + 2 * plan.fxp_fraction_bits:.1f}",
        limit=ring_for(plan.field).trunc_limit_bits - plan.margin,
        protocol=plan.protocol,
        margin=plan.margin,
    )


def _capped(plan: PrecisionPlan) -> Message:
    return translatable(
        "; capped at the default %(default)s (up to %(possible)s would fit)",
        default=FIELD_DEFAULT_BITS[plan.field],
        possible=plan.possible,
    )


def _why_not_fm64(plan: PrecisionPlan) -> Message:
    if plan.fm64_bits <= 0:
        return translatable(
            "FM64 cannot hold these products: it would leave no fraction bits (fewer than "
            "%(min)s), so the 128-bit ring is used (slower: two 64-bit limbs per value).",
            min=MIN_FRACTION_BITS,
        )
    return translatable_plural(
        "FM64 cannot hold these products: it would leave only %(bits)s fraction bit (fewer "
        "than %(min)s), so the 128-bit ring is used (slower: two 64-bit limbs per value).",
        "FM64 cannot hold these products: it would leave only %(bits)s fraction bits (fewer "
        "than %(min)s), so the 128-bit ring is used (slower: two 64-bit limbs per value).",
        "bits",
        bits=plan.fm64_bits,
        min=MIN_FRACTION_BITS,
    )
