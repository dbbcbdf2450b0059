"""The engine's fixed advice in the reader's language.

A `core.errors.RangeError` carries the engine's advice (`fix`) in English: `core` has no
translations. That advice is one of a few fixed sentences (the errors module's default, the
kernels' domain advice, the planner's, the bounds checks', SS-LR's). Each is marked here for
translation with the engine's exact words (a test holds the two together: every fix the engine
can give is in `ENGINE_FIXES`), so the fix inside a stored range failure reads in the reader's
language. Advice not listed here (a newer engine's) is shown as it is.

The engine's `problem` (what was exceeded, with the figures) is worded with values by the
engine and stays English.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from workflows.messages import Message, translatable

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
