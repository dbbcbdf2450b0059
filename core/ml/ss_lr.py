"""SS-LR: vertical logistic / linear regression trained on an SPU (SecretFlow's SS-SGD).

Features are split by columns across parties (each party holds a `PYUObject` with its columns
for the same rows, e.g. after PSI); the label lives at one party. Everything is secret-shared
into the SPU, and mini-batch gradient descent runs there:

    pred = link(X_b @ w);  grad = X_b^T (pred - y_b) / |b| + l2_norm * w (no penalty on bias)
    w <- w - learning_rate * grad

with `sig_type` choosing the SPU sigmoid (`real`, `mm1`/`t1`, `seg3`) for logistic regression.
The weights stay secret-shared (an `SPUObject`) unless the caller reveals them; `predict`
returns secret-shared predictions.

What is revealed during training, by design and documented here: the loss of each epoch (one
scalar, for monitoring) and, when `eps > 0`, one bit per epoch saying whether the largest weight
change fell below `eps` (early stop, as in SecretFlow).

No silent overflow: the SPU's public bounds (`core.mpc.bounds`) check every product of a step.
Weights change each step, so their bound would grow without end; before each step they are
checked against `weight_bound`, the largest power of two W for which the step's and the loss's
products provably fit (from the features' and labels' public bounds, the batch and row counts).
Whenever the bound grown by the steps exceeds W, the runtime (with `range_checks` on) checks
|w| <= W / 2, which opens ONE public bit ("some |w| > W / 2"); a set bit fails training with a
RangeError: the training diverges (lower the learning rate) or the features are too large
(scale them). With the `real` and `seg3` links the error link(z) - y is bounded, so the bound
grows by at most learning_rate x max|x| per step against a W in the thousands: on standardised
features no check runs at all (same traffic as unchecked). With `mm1` and linear regression
the error grows with w, so public interval arithmetic cannot see that gradient descent
contracts: the bound grows geometrically and the check runs every step (measured on 10,000 x
20, batch 1,000, 10 epochs: 2.3 s instead of 1.1 s in-process, 1,866 rounds instead of 200,
traffic +0.9%). `range_checks: False` removes it, with the guarantee. Features so large that
even W = 1 does not fit fail before training with the same error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.device.api import reveal
from core.device.pyu import PYUObject
from core.device.spu import SPU, SPUObject
from core.errors import ConfigError, RangeError, ShapeError, format_bound

SIG_TYPES = {"real": "real", "mm1": "mm1", "t1": "mm1", "seg3": "seg3"}
LOSS_CLIP = 2.0**-10  # keeps log(p) inside the documented domain of the log kernel
MIN_WEIGHT_BOUND = 1.0  # below this the products leave no room for a useful model
_ERROR_SLACK = 1.5  # |link(z) - y| of a bounded link: at most 1 plus rounding, with room
# Rows per piece when the loss or predictions run over a whole table (bounded temporaries).
EVAL_BATCH = 1 << 16


@dataclass
class SSRegression:
    """Vertical SS-SGD regression on one SPU; see the module docstring."""

    spu: SPU
    weights: SPUObject | None = None
    losses: list[float] = field(default_factory=list)
    reg_type: str = "logistic"
    sig_type: str = "real"

    def fit(
        self,
        x: list[PYUObject] | PYUObject | SPUObject,
        y: PYUObject | SPUObject,
        *,
        epochs: int = 10,
        learning_rate: float = 0.1,
        batch_size: int | None = None,
        sig_type: str = "real",
        reg_type: str = "logistic",
        penalty: str | None = None,
        l2_norm: float = 0.5,
        eps: float = 0.0,
        report_loss: bool = True,
        on_epoch: Callable[[int], None] | None = None,
    ) -> SSRegression:
        """Train; returns self. Raises ConfigError for bad hyper-parameters.

        `on_epoch(epoch)` (1-based) runs after each epoch, its loss already in `losses`: a
        progress report, and a cancellation point (whatever it raises stops training).
        """
        _check(epochs, learning_rate, batch_size, sig_type, reg_type, penalty, l2_norm, eps)
        self.reg_type, self.sig_type = reg_type, SIG_TYPES[sig_type]
        l2 = float(l2_norm) if penalty == "l2" else 0.0
        features = self._features(x)
        labels = self.spu(lambda t: t.reshape(-1, 1) if t.ndim == 1 else t)(y)
        rows, cols = features.shape
        if labels.shape != (rows, 1):
            raise ShapeError(f"labels have shape {labels.shape}, features {features.shape}")
        batch = rows if batch_size is None else min(int(batch_size), rows)
        self.weights = self.spu(lambda: np.zeros((cols, 1)))()
        self.losses = []
        for epoch in range(1, epochs + 1):
            old = self.weights
            for start in range(0, rows, batch):
                self.weights = self._step(features, labels, start, batch, learning_rate, l2)
            if report_loss:
                self.losses.append(float(reveal(self._loss(features, labels, batch))))
            if on_epoch is not None:
                on_epoch(epoch)
            if eps > 0 and self._converged(old, eps):
                break
        return self

    def _features(self, x) -> SPUObject:
        parts = x if isinstance(x, list | tuple) else [x]
        return self.spu(
            lambda *cols: _with_bias(np.concatenate([_as_2d(c) for c in cols], axis=1))
        )(*parts)

    def _link(self, z):
        return z.sigmoid(self.sig_type) if self.reg_type == "logistic" else z

    def weight_bound(self, x, y, batch: int) -> float | None:
        """Largest power of two W such that |w| <= W keeps every product of a step on `batch`
        rows and of the loss on all rows below the truncation limit (with a factor 2 of
        margin), from the public bounds of features `x` and labels `y` (SecretTensors).

        None when a bound is unknown (nothing is checked then). Raises RangeError when even
        W = 1 does not fit: the features must be scaled, or the batch made smaller.
        """
        if x.bound is None or y.bound is None:
            return None
        rows, cols = x.shape
        limit = x.ctx.fxp.product_limit / 2
        bx = max(x.bound, 2.0**-10)
        top = self._weight_cap(bx, y.bound, rows, cols, batch, limit)
        if top < MIN_WEIGHT_BOUND:
            fitting = bx
            while fitting > 2.0**-10 and (
                self._weight_cap(fitting, y.bound, rows, cols, batch, limit) < MIN_WEIGHT_BOUND
            ):
                fitting /= 2
            raise RangeError(
                "SS-LR",
                fitting,
                f"features up to {format_bound(bx)} over {batch} rows per batch leave no room "
                "for weights in the fixed-point products",
                label=x.label,
                fix="scale the features (for example standardise them) or lower batch_size",
            )
        return 2.0 ** math.floor(math.log2(top))

    def _weight_cap(self, bx, by, rows, cols, batch, limit) -> float:
        """The largest |w| for which the products of a step and of the loss stay below limit."""
        caps = [limit / (cols * bx)]  # z = x @ w
        if self.reg_type == "linear" or self.sig_type == "mm1":
            slope, offset = (1.0, by) if self.reg_type == "linear" else (0.125, 0.5 + by)
            for count in (batch, rows):  # x^T @ (link(z) - y), on a batch and for the loss
                caps.append((limit / (count * bx) - offset) / (slope * cols * bx))
            if self.reg_type == "linear":  # the loss's squares, summed over all rows
                caps.append(((limit / rows) ** 0.5 - by) / (cols * bx))
        elif batch * bx * _ERROR_SLACK >= limit:  # x^T @ (sigmoid(z) - y) whatever w is
            caps.append(0.0)
        return min(caps)

    def _bounded(self, x, y, w, batch: int):
        """`w` with a public bound within `weight_bound` W (see the module docstring).

        Once the bound grown by the steps exceeds W, the weights are checked against W / 2:
        the bound then has room for many steps before the next check (each step adds at most
        learning_rate times the gradient's bound).
        """
        bound = self.weight_bound(x, y, batch)
        if bound is None or (w.bound is not None and w.bound <= bound):
            return w
        half = bound / 2
        return w.ensure_within(
            half,
            "SS-LR weights",
            f"a weight left [-{half:g}, {half:g}], near where the next step's products could "
            "overflow",
            fix="the training diverges (lower learning_rate) or the features are too large "
            "(scale them)",
        )

    def _step(self, features, labels, start, batch, lr, l2) -> SPUObject:
        def step(x, y, w):
            w = self._bounded(x, y, w, batch)
            xb, yb = x[start : start + batch], y[start : start + batch]
            err = self._link(xb @ w) - yb
            grad = xb.T @ err / xb.shape[0]
            if l2:
                grad = grad + w * np.concatenate([np.full((w.shape[0] - 1, 1), l2), [[0.0]]])
            return w - grad * lr

        return self.spu(step)(features, labels, self.weights)

    def _loss(self, features, labels, batch: int) -> SPUObject:
        """The mean loss over all rows, summed `EVAL_BATCH` rows at a time on the SPU (the
        kernels' temporaries then stay bounded whatever the row count); only the mean is
        revealed, as before. The weights are checked against their bound first (`_bounded`:
        the sums' bounds are what `_weight_cap` plans for)."""
        rows = features.shape[0]

        def partial(start):
            def loss(x, y, w):
                xb, yb = x[start : start + EVAL_BATCH], y[start : start + EVAL_BATCH]
                z = xb @ self._bounded(x, y, w, batch)
                if self.reg_type == "linear":
                    return np.sum((z - yb) * (z - yb)) * 0.5
                p = np.clip(self._link(z), LOSS_CLIP, 1 - LOSS_CLIP)
                return -np.sum(yb * np.log(p) + (1 - yb) * np.log(1 - p))

            return self.spu(loss)(features, labels, self.weights)

        total = partial(0)
        for start in range(EVAL_BATCH, rows, EVAL_BATCH):
            total = self.spu(lambda a, b: a + b)(total, partial(start))
        return self.spu(lambda t: t / rows)(total)

    def _converged(self, old: SPUObject, eps: float) -> bool:
        flag = self.spu(lambda a, b: np.max(np.abs(a - b)) < eps)(old, self.weights)
        return bool(reveal(flag))

    def predict(self, x) -> SPUObject:
        """Secret-shared predictions (probabilities for logistic regression)."""
        if self.weights is None:
            raise ConfigError("predict() before fit()")
        features = self._features(x)
        pieces = [
            self.spu(
                lambda a, w, start=start: self._link(a[start : start + EVAL_BATCH] @ w).reshape(-1)
            )(features, self.weights)
            for start in range(0, max(features.shape[0], 1), EVAL_BATCH)
        ]
        if len(pieces) == 1:
            return pieces[0]
        return self.spu(lambda *parts: np.concatenate(parts))(*pieces)


def _as_2d(t):
    return t.reshape(-1, 1) if t.ndim == 1 else t


def _with_bias(x):
    return np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)


def _check(epochs, learning_rate, batch_size, sig_type, reg_type, penalty, l2_norm, eps) -> None:
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive int, got {epochs!r}")
    if not learning_rate > 0:
        raise ConfigError(f"learning_rate must be > 0, got {learning_rate!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if sig_type not in SIG_TYPES:
        raise ConfigError(f"sig_type {sig_type!r} is not one of {sorted(SIG_TYPES)}")
    if reg_type not in ("logistic", "linear"):
        raise ConfigError(f"reg_type must be 'logistic' or 'linear', got {reg_type!r}")
    if penalty not in (None, "None", "l2"):
        raise ConfigError(f"penalty must be None or 'l2', got {penalty!r}")
    if l2_norm < 0 or eps < 0:
        raise ConfigError(f"l2_norm and eps must be >= 0, got {l2_norm!r} and {eps!r}")
