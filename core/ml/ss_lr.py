"""SS-LR: vertical logistic / linear regression trained on an SPU (SecretFlow's SS-SGD).

Features are split by columns across parties (each party holds a `PYUObject` with its columns
for the same rows, e.g. after PSI); the label lives at one party. Everything is secret-shared
into the SPU, and mini-batch gradient descent runs there:

    pred = link(X_b @ w);  grad = X_b^T (pred - y_b) / |b| + l2_norm * w (no penalty on bias)
    w <- w - learning_rate * grad

with `sig_type` choosing the SPU sigmoid (`real`, `mm1`/`t1`, `seg3`) for logistic regression.
The weights stay secret-shared (an `SPUObject`) unless the caller reveals them; `predict`
returns secret-shared predictions.

Inputs in blocks of rows (`SSRegression.share_rows`, `SharedRows`): a caller that reads its
features from files slice by slice shares each slice as it is read, so no party ever holds its
whole plaintext matrix next to the shares; training then runs batch by batch inside the
blocks (blocks holding a multiple of `batch_size` rows give the batches of a whole-table run),
and the loss and predictions run block by block. Each owner should declare the same public
bound for all its blocks (`core.mpc.bounds.Bounded`, measured over its whole table first):
otherwise every block would publish its own magnitude.

What is revealed during training, by design and documented here: the loss of each epoch (one
scalar, for monitoring: to every party, or with `fit(loss_to=PYU(party))` to that party alone,
as a PYUObject per epoch; a party choosing its own feature columns can read the labels of rows
it singles out from the loss, so the label holder is the one to receive it), when `eps > 0`
one bit per epoch saying whether the largest weight change fell below `eps` (early stop, as in
SecretFlow), and for logistic regression with the
labels at one party (a `PYUObject`) one bit from that party saying whether every label is 0 or
1 (as classification labels are). With 0/1 labels the loss takes one logarithm per row instead
of two: y log p + (1 - y) log(1 - p) is log q for q = sigmoid((2y - 1) z), the probability
given to the true class (sigmoid(-z) = 1 - sigmoid(z)), which halves the logarithms, the
costliest kernel of an epoch's loss.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from core.device.api import reveal
from core.device.pyu import PYU, PYUObject
from core.device.spu import SPU, SPUObject
from core.errors import ConfigError, RangeError, ShapeError, format_bound
from core.mpc.bounds import Bounded
from core.range_problems import RangeProblem

SIG_TYPES = {"real": "real", "mm1": "mm1", "t1": "mm1", "seg3": "seg3"}
LOSS_CLIP = 2.0**-10  # keeps log(p) inside the documented domain of the log kernel
MIN_WEIGHT_BOUND = 1.0  # below this the products leave no room for a useful model
_ERROR_SLACK = 1.5  # |link(z) - y| of a bounded link: at most 1 plus rounding, with room
# Rows per piece when the loss or predictions run over a whole table (bounded temporaries).
EVAL_BATCH = 1 << 16


@dataclass
class SharedRows:
    """Features (bias column appended) and labels on the SPU as consecutive blocks of rows.

    `label_flags`: per block, at the label holder, whether the block's labels are all 0 or 1
    (PYU objects, not revealed unless the loss needs them); empty when the labels came
    secret-shared."""

    features: list[SPUObject]
    labels: list[SPUObject]
    label_flags: list[PYUObject] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(block.shape[0] for block in self.features)

    @property
    def columns(self) -> int:
        return self.features[0].shape[1]

    def all_zero_or_one(self) -> bool:
        """One public bit from the label holder: every label is 0 or 1."""
        if not self.label_flags or len(self.label_flags) != len(self.labels):
            return False
        holder = self.label_flags[0].device
        return bool(reveal(holder(lambda *flags: all(flags))(*self.label_flags)))


@dataclass
class SSRegression:
    """Vertical SS-SGD regression on one SPU; see the module docstring."""

    spu: SPU
    weights: SPUObject | None = None
    losses: list[float | PYUObject] = field(default_factory=list)  # PYU: opened to one party
    reg_type: str = "logistic"
    sig_type: str = "real"
    binary_labels: bool = False
    rows_trained: int = 0  # all blocks' rows: the loss's sums cover them (`weight_bound`)

    def share_rows(self, blocks: Iterable[tuple[list, PYUObject | SPUObject | None]]):
        """Share consecutive blocks of rows, each `(feature parts, labels)` with the parts
        and labels as `fit` takes them (labels None to share features only, for `predict`).
        Each block goes into the SPU as it comes, so the caller can read it just in time.
        Raises ShapeError for blocks whose parts or labels disagree on their rows."""
        rows = SharedRows([], [])
        for parts, labels in blocks:
            features = self._features(parts)
            rows.features.append(features)
            if labels is None:
                continue
            shared = self.spu(lambda t: t.reshape(-1, 1) if t.ndim == 1 else t)(labels)
            if shared.shape != (features.shape[0], 1):
                raise ShapeError(f"labels have shape {shared.shape}, features {features.shape}")
            rows.labels.append(shared)
            if isinstance(labels, PYUObject):
                rows.label_flags.append(labels.device(_zero_or_one)(labels))
        if not rows.features:
            raise ShapeError("no rows to share")
        if len({block.shape[1] for block in rows.features}) > 1:
            raise ShapeError("the blocks have different numbers of feature columns")
        return rows

    def fit(
        self,
        x: list[PYUObject] | PYUObject | SPUObject | SharedRows,
        y: PYUObject | SPUObject | None = None,
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
        loss_to: PYU | None = None,
    ) -> SSRegression:
        """Train on features `x` and labels `y`, or on `SharedRows` (y None); returns self.
        Raises ConfigError for bad hyper-parameters, ShapeError for mismatched inputs.

        `on_epoch(epoch)` (1-based) runs after each epoch, its loss already in `losses`: a
        progress report, and a cancellation point (whatever it raises stops training). Each
        epoch's loss is revealed to every party (a float), or with `loss_to` opened to that
        party alone (a PYUObject).
        """
        _check(epochs, learning_rate, batch_size, sig_type, reg_type, penalty, l2_norm, eps)
        self.reg_type, self.sig_type = reg_type, SIG_TYPES[sig_type]
        data = x if isinstance(x, SharedRows) else self.share_rows([(x, y)])
        if len(data.labels) != len(data.features):
            raise ShapeError("training needs the labels of every block of rows")
        self.binary_labels = reg_type == "logistic" and report_loss and data.all_zero_or_one()
        l2 = float(l2_norm) if penalty == "l2" else 0.0
        self.rows_trained = rows = data.rows
        batch = rows if batch_size is None else min(int(batch_size), rows)
        self.weights = self.spu(lambda: np.zeros((data.columns, 1)))()
        self.losses = []
        for epoch in range(1, epochs + 1):
            old = self.weights
            for features, labels in zip(data.features, data.labels, strict=True):
                for start in range(0, features.shape[0], batch):
                    self.weights = self._step(features, labels, start, batch, learning_rate, l2)
            if report_loss:
                loss = self._loss(data, batch)
                self.losses.append(float(reveal(loss)) if loss_to is None else loss.to(loss_to))
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
        rows and of the loss on all rows (of every block) below the truncation limit (with a
        factor 2 of margin), from the public bounds of features `x` and labels `y` (SecretTensors).

        None when a bound is unknown (nothing is checked then). Raises RangeError when even
        W = 1 does not fit: the features must be scaled, or the batch made smaller.
        """
        if x.bound is None or y.bound is None:
            return None
        rows, cols = self.rows_trained or x.shape[0], x.shape[1]
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
                RangeProblem("features_no_room", bound=format_bound(bx), batch=batch),
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
            RangeProblem("weight_left", half=f"{half:g}"),
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

    def _loss(self, data: SharedRows, batch: int) -> SPUObject:
        """The mean loss over all rows, summed `EVAL_BATCH` rows at a time (within each block)
        on the SPU (the kernels' temporaries then stay bounded whatever the row count); only
        the mean is revealed, as before. The weights are checked against their bound first
        (`_bounded`: the sums' bounds are what `_weight_cap` plans for)."""

        def partial(features, labels, start):
            def loss(x, y, w):
                xb, yb = x[start : start + EVAL_BATCH], y[start : start + EVAL_BATCH]
                z = xb @ self._bounded(x, y, w, batch)
                if self.reg_type == "linear":
                    return np.sum((z - yb) * (z - yb)) * 0.5
                if self.binary_labels:  # the true class's probability (module docstring)
                    q = np.clip(self._link(z * (2 * yb - 1)), LOSS_CLIP, 1 - LOSS_CLIP)
                    return -np.sum(np.log(q))
                p = np.clip(self._link(z), LOSS_CLIP, 1 - LOSS_CLIP)
                return -np.sum(yb * np.log(p) + (1 - yb) * np.log(1 - p))

            return self.spu(loss)(features, labels, self.weights)

        total = None
        for features, labels in zip(data.features, data.labels, strict=True):
            for start in range(0, features.shape[0], EVAL_BATCH):
                piece = partial(features, labels, start)
                total = piece if total is None else self.spu(lambda a, b: a + b)(total, piece)
        return self.spu(lambda t: t / data.rows)(total)

    def _converged(self, old: SPUObject, eps: float) -> bool:
        """The one revealed bit max|w - old| < eps, computed as "every d and -d is below eps"
        (d = w - old): one comparison circuit over 2n values and one on their count, instead
        of |d| and a tree of maxima (about a third of the rounds)."""

        def below(a, b):
            d = (a - b).reshape(-1)
            inside = np.concatenate([d, -d]) < eps
            return np.sum(inside) > inside.shape[0] - 0.5

        return bool(reveal(self.spu(below)(old, self.weights)))

    def predict(self, x) -> SPUObject:
        """Secret-shared predictions (probabilities for logistic regression) for feature
        parts as `fit` takes them or `SharedRows`, computed block by block."""
        if self.weights is None:
            raise ConfigError("predict() before fit()")
        data = x if isinstance(x, SharedRows) else self.share_rows([(x, None)])
        pieces = [
            self.spu(
                lambda a, w, start=start: self._link(a[start : start + EVAL_BATCH] @ w).reshape(-1)
            )(features, self.weights)
            for features in data.features
            for start in range(0, max(features.shape[0], 1), EVAL_BATCH)
        ]
        if len(pieces) == 1:
            return pieces[0]
        return self.spu(lambda *parts: np.concatenate(parts))(*pieces)


def _zero_or_one(labels) -> bool:
    """At the label holder: whether its labels are all 0 or 1 (kept there until revealed)."""
    values = labels.value if isinstance(labels, Bounded) else labels
    return bool(np.isin(np.asarray(values, dtype=np.float64), (0.0, 1.0)).all())


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
