"""A precision plan's reason in the reader's language, for the node's log.

`core.mpc.precision.plan_precision` decides the field and fraction bits and explains them in
English (`PrecisionPlan.reason`, for the Python API); `core` has no translations. Here the same
sentence is worded with gettext from the figures the plan carries, so a Chinese user's log reads
in Chinese. In English it is exactly the engine's sentence (a test holds the two together), so
the rule lives in the engine and only the words live here.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext, ngettext, pgettext

from core.errors import format_bound
from core.mpc.precision import (
    FIELD_DEFAULT_BITS,
    MIN_FRACTION_BITS,
    PrecisionPlan,
    integer_bits,
    ring_for,
)


def plan_reason(plan: PrecisionPlan) -> str:
    """`plan.reason`, worded in the active language."""
    bits = integer_bits(plan.max_abs)
    text = ngettext(
        "%(field)s with %(fraction)d fraction bits: inputs up to %(max)s need %(bits)d integer bit",
        "%(field)s with %(fraction)d fraction bits: inputs up to %(max)s need %(bits)d "
        "integer bits",
        bits,
    ) % {
        "field": plan.field,
        "fraction": plan.fxp_fraction_bits,
        "max": f"{plan.max_abs:.6g}",
        "bits": bits,
    }
    if plan.products:
        top = max(plan.max_abs, 1.0) ** (plan.products + 1)
        text += gettext(
            "; %(products)d chained product(s) reach at most %(top)s (2^%(before)s before "
            "truncation), within 2^%(limit)d (%(protocol)s keeps %(margin)d bits of truncation "
            "headroom)"
        ) % {
            "products": plan.products,
            "top": format_bound(top),
            "before": f"{math.log2(top) + 2 * plan.fxp_fraction_bits:.1f}",
            "limit": ring_for(plan.field).trunc_limit_bits - plan.margin,
            "protocol": plan.protocol,
            "margin": plan.margin,
        }
    if plan.possible > plan.fxp_fraction_bits:
        text += gettext("; capped at the default %(default)d (up to %(possible)d would fit)") % {
            "default": FIELD_DEFAULT_BITS[plan.field],
            "possible": plan.possible,
        }
    text += pgettext("the end of a sentence", ".")
    if plan.fm64_bits is not None:
        text += " " + _why_not_fm64(plan.fm64_bits)
    return text


def _why_not_fm64(fm64_bits: int) -> str:
    left = (
        gettext("only %(bits)d") % {"bits": fm64_bits}
        if fm64_bits > 0
        else pgettext("how many fraction bits are left", "no")
    )
    return gettext(
        "FM64 cannot hold these products: it would leave %(left)s fraction bits (fewer than "
        "%(min)d), so the 128-bit ring is used (slower: two 64-bit limbs per value)."
    ) % {"left": left, "min": MIN_FRACTION_BITS}
