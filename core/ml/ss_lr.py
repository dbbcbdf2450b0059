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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.device.api import reveal
from core.device.pyu import PYUObject
from core.device.spu import SPU, SPUObject
from core.errors import ConfigError, ShapeError

SIG_TYPES = {"real": "real", "mm1": "mm1", "t1": "mm1", "seg3": "seg3"}
LOSS_CLIP = 2.0**-10  # keeps log(p) inside the documented domain of the log kernel
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
                self.losses.append(float(reveal(self._loss(features, labels))))
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

    def _step(self, features, labels, start, batch, lr, l2) -> SPUObject:
        def step(x, y, w):
            xb, yb = x[start : start + batch], y[start : start + batch]
            err = self._link(xb @ w) - yb
            grad = xb.T @ err / xb.shape[0]
            if l2:
                grad = grad + w * np.concatenate([np.full((w.shape[0] - 1, 1), l2), [[0.0]]])
            return w - grad * lr

        return self.spu(step)(features, labels, self.weights)

    def _loss(self, features, labels) -> SPUObject:
        """The mean loss over all rows, summed `EVAL_BATCH` rows at a time on the SPU (the
        kernels' temporaries then stay bounded whatever the row count); only the mean is
        revealed, as before."""
        rows = features.shape[0]

        def partial(start):
            def loss(x, y, w):
                xb, yb = x[start : start + EVAL_BATCH], y[start : start + EVAL_BATCH]
                z = xb @ w
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
