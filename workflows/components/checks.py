"""Sanity checks of model inputs and results: no node succeeds with numbers that cannot be right.

Secure components compute in fixed point, where a value outside the encoding's range wraps
around silently; a model can also diverge. What such a failure looks like, and the rules here:

- Training loss (revealed per epoch by design, see `core.ml.ss_lr`): it fails the node when
  any epoch's loss is not finite or impossible (negative; for logistic regression above the
  clipped loss's maximum, -ln(LOSS_CLIP)), or when the last epoch's loss exceeds LOSS_GROWTH
  times the untrained model's: ln 2 for logistic regression (zero weights predict 0.5), the
  first epoch's loss for linear regression (its untrained loss would reveal the labels' mean
  square, so it is not computed). A logistic loss still at ln 2 after training is a warning
  (the model learned nothing: updates below the learning rate's or the encoding's reach).
- Predictions (checked at the receiver, on the values it receives anyway): not finite, or for
  logistic regression outside [0, 1] beyond the sigmoid's documented error (PROBABILITY_SLACK)
  fails the node. `mm1` is the linear approximation 0.5 + z/8, which leaves [0, 1] when
  |z| > 4: that is a warning; beyond |z| = MAX_LOGIT (a probability of 1 - 1e-28) it is
  overflow and fails.
- Feature ranges (each party inspects its own columns on its own worker): a column whose
  largest absolute value exceeds SCALED_LIMIT is reported as not scaled. Only the verdict
  (some column is not scaled) leaves the party; the column's name stays in the party's own
  warning, for its own users (`workflows.components.secure.PartyBounds`), and no value leaves.

A failure raises `CheckFailed`, whose message says what is wrong and how to fix it; the
executor records it as the node's reason as it is (no exception class in front). Messages and
warnings here are `workflows.messages` messages: stored as msgid and params (party and column
names, counts), read in each reader's language.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.ml.ss_lr import LOSS_CLIP
from workflows.messages import Message, translatable

LOSS_GROWTH = 2.0
LOSS_SLACK = 1e-3  # fixed-point error of a revealed loss (18 fraction bits and the log kernel)
MAX_LOGISTIC_LOSS = -math.log(LOSS_CLIP)
UNTRAINED_LOGISTIC_LOSS = math.log(2.0)
PROBABILITY_SLACK = 1e-3  # real sigmoid: error < 1e-4; seg3 is exact to 1 ulp
MAX_LOGIT = 64.0
SCALED_LIMIT = 10.0  # standardised or min-max scaled features stay well inside this


class CheckFailed(Exception):
    """A component refused its inputs or its own result; the message is for people (what is
    wrong, then how to fix it) and names columns and parties, never data values. A `Message`
    (`workflows.messages.translatable`) is stored as one and read in each reader's language;
    plain text is stored as it is.

    `public`: what parties other than the failing one read when that differs from the message
    (a refusal at a party that counts its rows, e.g. its predictions: the count is that
    party's alone; see `workflows.redaction`). The message itself by default."""

    def __init__(self, message: Message | str, public: Message | str | None = None):
        super().__init__(message)
        self.message = message
        self.public = message if public is None else public

    def __str__(self) -> str:
        return str(self.message)

    def __reduce__(self):
        return CheckFailed, (self.message, self.public)


def not_scaled(values: np.ndarray, names: Sequence[str]) -> list[str]:
    """The columns (of a party's own matrix) whose values go beyond ±SCALED_LIMIT."""
    if values.size == 0:
        return []
    largest = np.max(np.abs(values), axis=0)
    return [name for name, top in zip(names, largest, strict=True) if not top <= SCALED_LIMIT]


def scaling_advice(unscaled: dict[str, list[str]]) -> Message | str:
    """'add a scaler for alice's income, age and bob's spend' (empty if nothing is unscaled)."""
    parts = [columns_of(party, names) for party, names in unscaled.items() if names]
    if not parts:
        return ""
    return translatable(
        "add a scaler (Scaler, before this node) for %(columns)s", columns=listed_words(parts)
    )


def listed_words(items: list) -> Message | str:
    """'a, b and c' in the reader's language (items: names or messages; none: "")."""
    if len(items) < 2:
        return items[0] if items else ""
    return translatable("%(first)s and %(last)s", first=list(items[:-1]), last=items[-1])


def columns_of(party: str, names: list[str]) -> Message:
    """'alice's income, age' in the reader's language."""
    return translatable("%(party)s's %(columns)s", party=party, columns=list(names))


def scaling_pointer(parties: Sequence[str]) -> Message | str:
    """The fix for a failure that `parties`' unscaled features explain, for every party to
    read: it names the parties, not their columns (each party's own warning names those, for
    its own users: `workflows.redaction`). Empty if no party has unscaled features."""
    parties = list(parties)
    if not parties:
        return ""
    if len(parties) == 1:
        return translatable(
            "add a scaler (Scaler, before this node) for the features that %(party)s's "
            "warning names",
            party=parties[0],
        )
    return translatable(
        "add a scaler (Scaler, before this node) for the features that the warnings of "
        "%(parties)s name",
        parties=listed_words(parties),
    )


def gaps_message(component_label, gaps: dict[str, list[str]]) -> Message:
    """Validation's refusal of columns that may hold missing values, with the fix
    (`component_label`: a lazy label or plain text)."""
    listed = listed_words([columns_of(party, names) for party, names in gaps.items()])
    return translatable(
        "%(columns)s may have missing values (the dataset profile counted some, and no fill "
        "step comes before this node); %(component)s refuses them. Fix: add a Fill missing "
        "values node (preprocessing/fillna) for %(columns)s before this node.",
        columns=listed,
        component=component_label,
    )


def scaling_warning(party: str, names: list[str]) -> Message:
    return translatable(
        "features not scaled at %(party)s: %(columns)s go beyond ±%(limit)s; gradient descent "
        "converges poorly on them and fixed-point products can overflow. Fix: %(fix)s.",
        party=party,
        columns=list(names),
        limit=f"{SCALED_LIMIT:g}",
        fix=scaling_advice({party: names}),
    )


def check_losses(losses: Sequence[float], reg_type: str, advice: Message | str) -> None:
    """Fail when the training loss is impossible or exploded (rules in the module docstring).

    `advice` says how to fix it (e.g. which features to scale); a generic fix otherwise.
    """
    if not losses:
        return
    fix = advice or translatable(
        "scale the features (Scaler before this node) or lower the learning rate"
    )
    if not all(math.isfinite(loss) for loss in losses):
        raise CheckFailed(
            translatable(
                "the training loss is not a number: training broke down. Fix: %(fix)s.", fix=fix
            )
        )
    top = MAX_LOGISTIC_LOSS if reg_type == "logistic" else math.inf
    if min(losses) < -LOSS_SLACK or max(losses) > top + LOSS_SLACK:
        raise CheckFailed(
            translatable(
                "the training loss took impossible values: the fixed-point arithmetic "
                "overflowed (values too large for the secure encoding). Fix: %(fix)s.",
                fix=fix,
            )
        )
    baseline = UNTRAINED_LOGISTIC_LOSS if reg_type == "logistic" else losses[0]
    if losses[-1] > LOSS_GROWTH * baseline + LOSS_SLACK:
        times = f"{LOSS_GROWTH:g}"
        if reg_type == "logistic":
            message = translatable(
                "training diverged: the last epoch's loss is more than %(times)s times the "
                "untrained model's, so the model is worse than no model. Fix: %(fix)s.",
                times=times,
                fix=fix,
            )
        else:
            message = translatable(
                "training diverged: the last epoch's loss is more than %(times)s times the "
                "first epoch's, so the model is worse than no model. Fix: %(fix)s.",
                times=times,
                fix=fix,
            )
        raise CheckFailed(message)


def progress_warning(
    losses: Sequence[float], reg_type: str, advice: Message | str
) -> Message | None:
    """A warning when logistic training ended where it started (the untrained model's loss,
    ln 2): weight updates too small for the learning rate or the fixed-point resolution."""
    if reg_type != "logistic" or not losses or losses[-1] < UNTRAINED_LOGISTIC_LOSS - LOSS_SLACK:
        return None
    fix = advice or translatable("scale the features (Scaler before this node)")
    return translatable(
        "training made no progress: the last epoch's loss is that of an untrained model, so "
        "its predictions say nothing. Fix: raise the learning rate or %(fix)s.",
        fix=fix,
    )


def check_predictions(
    scores: np.ndarray, reg_type: str, sig_type: str, party: str, advice: Message | str
) -> Message | None:
    """Fail on predictions a model of this kind cannot output; return a warning or None."""
    fix = advice or translatable(
        "scale the model's features (Scaler before training, and its rule applied to this "
        "table) and train again"
    )
    total = scores.size
    broken = int(np.count_nonzero(~np.isfinite(scores)))
    if broken:
        # Counts only for the receiver: the predictions are its alone.
        facts = {"count": broken, "total": total, "party": party, "fix": fix}
        raise CheckFailed(
            translatable(
                "%(count)s of %(total)s predictions at %(party)s are not numbers. Fix: %(fix)s.",
                **facts,
            ),
            public=translatable(
                "some predictions at %(party)s are not numbers. Fix: %(fix)s.",
                party=party,
                fix=fix,
            ),
        )
    if reg_type != "logistic":
        return None
    if sig_type == "mm1":
        low, high = 0.5 - MAX_LOGIT / 8, 0.5 + MAX_LOGIT / 8
    else:
        low, high = -PROBABILITY_SLACK, 1 + PROBABILITY_SLACK
    outside = int(np.count_nonzero((scores < low) | (scores > high)))
    if outside:
        why = translatable(
            "lie outside [0, 1], which a logistic model cannot output: the fixed-point "
            "arithmetic overflowed (values too large for the secure encoding). Fix: %(fix)s.",
            fix=fix,
        )
        raise CheckFailed(
            translatable(
                "%(count)s of %(total)s predictions at %(party)s %(why)s",
                count=outside,
                total=total,
                party=party,
                why=why,
            ),
            public=translatable("some predictions at %(party)s %(why)s", party=party, why=why),
        )
    if sig_type == "mm1" and np.any((scores < 0) | (scores > 1)):
        # A warning about the receiver's predictions: only its users read it (redaction).
        return translatable(
            "some predictions at %(party)s lie outside [0, 1]: sig_type mm1 is the linear "
            "approximation 0.5 + x/8, a score rather than a probability. Train with sig_type "
            "real for probabilities.",
            party=party,
        )
    return None
