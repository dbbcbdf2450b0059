"""`SecretTensor`: one party's view of a secret-shared array that behaves like a numpy array.

Inside `spu(fn)`, every party runs its own copy of `fn` on its own shares; the tensors it sees
support operators (+ - * / @, comparisons, unary -), indexing, reshape/transpose, reductions and
the numpy functions listed in `core.mpc.tensor_numpy`. Every operation dispatches to a kernel;
nothing is ever opened implicitly. What has no secure kernel (`bool(t)`, `np.asarray(t)`,
`np.sort(t)`, ...) raises `UnsupportedOperation` naming the operation.

`kind` tracks a numpy-like dtype: "bool" (comparison results), "int" (integer inputs and their
sums/products, exact) and "fxp" (fixed point). Reveal decodes accordingly.

`interval` is the public interval every element lies in (None if unknown) and `labels` the
names of the inputs the value derives from; operations propagate both and refuse, before
computing, what the interval shows could overflow (`core.mpc.bounds`). Kernels with limited
domains go through `core.mpc.kernels.domains`, which refuses, clamps or detects. Every such
refusal is a `RangeError` naming the operation, the bound and the labels.
"""

from __future__ import annotations

import numpy as np

from core.errors import DEFAULT_RANGE_FIX, ConfigError, ShapeError, UnsupportedOperation
from core.mpc import bounds
from core.mpc.bounds import UNIT, Interval, check_magnitude, label_text
from core.mpc.context import MPCContext
from core.mpc.kernels import arith, compare, domains
from core.mpc.kernels.activations import SIGMOID_MODES
from core.mpc.shares import AShare

INT_KINDS = ("bool", "int")


def _int_like(value) -> bool:
    arr = np.asarray(value)
    return arr.dtype.kind in "biu" or (
        arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr) & (arr == np.round(arr))))
    )


def _result_kind(a, b) -> str:
    kinds = [
        v.kind if isinstance(v, SecretTensor) else ("int" if _int_like(v) else "fxp")
        for v in (a, b)
    ]
    return "int" if all(k in INT_KINDS for k in kinds) else "fxp"


class SecretTensor:
    """A secret-shared array on one party (share + protocol context); see the module doc."""

    __array_priority__ = 1000

    def __init__(
        self,
        share: AShare,
        ctx: MPCContext,
        kind: str = "fxp",
        interval: Interval | None = None,
        labels: frozenset[str] = frozenset(),
    ):
        self.share = share
        self.ctx = ctx
        self.kind = kind
        self.interval = interval
        self.labels = labels

    @property
    def bound(self) -> float | None:
        """Public B with |x| <= B for every element, or None when unknown."""
        return None if self.interval is None else self.interval.magnitude

    @property
    def label(self) -> str | None:
        """The names of the inputs this value derives from (for error messages)."""
        return label_text(self.labels)

    # ----- array-like metadata ----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.share.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return self.share.size

    def __len__(self) -> int:
        if not self.shape:
            raise UnsupportedOperation("len() of a 0-d secret")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"SecretTensor(shape={self.shape}, kind={self.kind}, protocol={self.ctx.proto.name})"

    def _new(
        self,
        share: AShare,
        kind: str | None = None,
        interval: Interval | None = None,
        labels: frozenset[str] | None = None,
    ) -> SecretTensor:
        """A result on the same context; `interval` None means unknown (no later checks)."""
        return SecretTensor(
            share,
            self.ctx,
            self.kind if kind is None else kind,
            interval,
            self.labels if labels is None else labels,
        )

    def _same_bounds(self, share: AShare, kind: str | None = None) -> SecretTensor:
        """A structural result (same elements, rearranged): same interval and labels."""
        return self._new(share, kind, self.interval)

    def ensure_within(
        self, bound: float, operation: str, problem: str, fix: str | None = None
    ) -> SecretTensor:
        """This value with the public interval [-bound, bound], verified, for iterations
        whose bounds would otherwise grow without end (e.g. weights updated each step).

        Free when the interval already lies inside. Otherwise, with `range_checks`, one secure
        comparison opens ONE public bit (is some |x| > bound?) and RangeError(operation,
        bound, problem, fix) follows if it is set; without `range_checks`, nothing is checked
        and the interval becomes unknown (later operations are then unchecked).
        """
        if self.interval is not None and self.interval.within(-bound, bound):
            return self
        if not self.ctx.range_checks:
            return self._new(self.share, None, None)
        checks = [(self.share, -bound, bound)]
        fix = DEFAULT_RANGE_FIX if fix is None else fix
        domains.refuse_outside(self.ctx, operation, checks, self.label, problem, bound, fix)
        return self._new(self.share, None, Interval.symmetric(bound))

    # ----- refusals ---------------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise UnsupportedOperation("conversion of a secret to a plain array (use reveal)")

    def __bool__(self):
        raise UnsupportedOperation("truth value of a secret (branch with np.where instead)")

    def __float__(self):
        raise UnsupportedOperation("float() of a secret (use reveal)")

    def __int__(self):
        raise UnsupportedOperation("int() of a secret (use reveal)")

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __setitem__(self, key, value):
        raise UnsupportedOperation("item assignment on a secret (build a new array instead)")

    # ----- operand handling -------------------------------------------------------------
    def lift(self, value) -> SecretTensor:
        """A public value as a (trivially shared) secret of this context."""
        if isinstance(value, SecretTensor):
            return value
        enc = self.ctx.encode(value)
        return SecretTensor(
            self.ctx.proto.public_a(enc),
            self.ctx,
            "int" if _int_like(value) else "fxp",
            Interval.of_values(value),
        )

    def _check_public(self, value):
        if hasattr(value, "__array_function__") and not isinstance(value, np.ndarray | np.generic):
            raise UnsupportedOperation(f"operand of type {type(value).__name__}")
        return value

    @staticmethod
    def broadcast_pair(a: AShare, b: AShare) -> tuple[AShare, AShare]:
        shape = broadcast_shape(a.shape, b.shape)
        return broadcast_share(a, shape), broadcast_share(b, shape)

    def _binary(self, other, ss, sp, ps=None, reflected=False, kind=None, bound=None):
        """Broadcast and dispatch. `bound` is a rule of `core.mpc.bounds`: the result's interval
        from the operands' (raising RangeError before anything is computed), None if unknown."""
        ctx = self.ctx
        if isinstance(other, SecretTensor):
            a, b = (other, self) if reflected else (self, other)
            labels = a.labels | b.labels
            interval = None
            if bound is not None:
                interval = bound(a.interval, b.interval, None, label_text(labels), ctx.fxp)
            x, y = self.broadcast_pair(a.share, b.share)
            return self._new(ss(ctx, x, y), kind or _result_kind(a, b), interval, labels)
        other = np.asarray(self._check_public(other))
        shape = broadcast_shape(self.shape, other.shape)
        x = broadcast_share(self.share, shape)
        p = np.broadcast_to(other, shape)
        out_kind = kind or _result_kind(self, other)
        interval = None
        if bound is not None:
            public = Interval.of_values(other) if other.dtype.kind in "biuf" else None
            pair = (public, self.interval) if reflected else (self.interval, public)
            interval = bound(*pair, other, self.label, ctx.fxp)
        if reflected and ps is not None:
            return self._new(ps(ctx, p, x), out_kind, interval)
        return self._new(sp(ctx, x, p), out_kind, interval)

    # ----- arithmetic -------------------------------------------------------------------
    def __add__(self, other):
        return self._binary(
            other,
            lambda c, x, y: c.proto.add_ss(x, y),
            arith.add_sp,
            bound=bounds.sum_rule("add", Interval.__add__),
        )

    __radd__ = __add__

    def __sub__(self, other):
        return self._binary(
            other,
            lambda c, x, y: c.proto.sub_ss(x, y),
            lambda c, x, p: arith.add_sp(c, x, -p),
            bound=bounds.sum_rule("subtract", Interval.__sub__),
        )

    def __rsub__(self, other):
        return self._binary(
            other,
            lambda c, x, y: c.proto.sub_ss(x, y),
            None,
            arith.sub_ps,
            reflected=True,
            bound=bounds.sum_rule("subtract", Interval.__sub__),
        )

    def __mul__(self, other):
        rule = bounds.square_rule if other is self else bounds.product_rule
        return self._binary(other, arith.mul_ss, arith.mul_sp, bound=rule)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, SecretTensor):
            return self._divide_secret(other)
        return self._binary(
            other, None, self._div_public, kind="fxp", bound=bounds.public_division_rule
        )

    def _divide_secret(self, other: SecretTensor) -> SecretTensor:
        labels = self.labels | other.labels
        x, y = self.broadcast_pair(self.share, other.share)
        out, interval = domains.div_ss(
            self.ctx, x, self.interval, y, other.interval, label_text(labels)
        )
        return self._new(out, "fxp", interval, labels)

    def _div_public(self, ctx, x, p):
        p = np.asarray(p)
        if np.any(p == 0):
            raise ZeroDivisionError("division of a secret by a public zero")
        scalar = np.unique(p) if p.size else p
        if self.kind in INT_KINDS and scalar.size == 1 and _int_like(scalar):
            return arith.div_sp_rounded(ctx, x, int(scalar[0]))
        return arith.div_sp(ctx, x, p)

    def __rtruediv__(self, other):
        return self.reciprocal() * other

    def __neg__(self):
        kind = "int" if self.kind == "bool" else None
        interval = None if self.interval is None else -self.interval
        return self._new(self.ctx.proto.neg(self.share), kind, interval)

    def __pos__(self):
        return self

    def __abs__(self):
        interval = None
        if self.interval is not None:
            low = domains.min_abs(self.interval)
            interval = Interval(low, self.interval.magnitude)
        return self._new(compare.abs_(self.ctx, self.share), None, interval)

    def __matmul__(self, other):
        if isinstance(other, SecretTensor):
            labels = self.labels | other.labels
            inner = self.shape[-1] if self.shape else 1
            interval = bounds.matmul_interval(
                self.interval, other.interval, inner, label_text(labels), self.ctx.fxp
            )
            out = arith.matmul_ss(self.ctx, self.share, other.share)
            return self._new(out, _result_kind(self, other), interval, labels)
        other = np.asarray(self._check_public(other))
        interval = self._public_matmul_bound(other, axis=0 if other.ndim == 1 else -2)
        out = arith.matmul_sp(self.ctx, self.share, other)
        return self._new(out, _result_kind(self, other), interval)

    def __rmatmul__(self, other):
        other = np.asarray(self._check_public(other))
        interval = self._public_matmul_bound(other, axis=-1)
        out = arith.matmul_ps(self.ctx, other, self.share)
        return self._new(out, _result_kind(self, other), interval)

    def _public_matmul_bound(self, public: np.ndarray, axis: int) -> Interval | None:
        weight = bounds.public_matmul_weight(public, axis)
        if weight is None:
            return None
        return bounds.matmul_interval(
            self.interval, Interval.symmetric(weight), 1, self.label, self.ctx.fxp
        )

    # ----- comparisons (results are secret 0/1 of kind "bool") --------------------------
    def _compare(self, other, flip: bool):
        def ss(ctx, x, y):
            return compare.less_ss(ctx, y, x) if flip else compare.less_ss(ctx, x, y)

        def sp(ctx, x, p):
            return compare.less_ps(ctx, p, x) if flip else compare.less_sp(ctx, x, p)

        bits = self._binary(other, ss, sp, kind="bool")
        return bits._new(arith.lift_bits(self.ctx, bits.share), interval=UNIT)

    def __lt__(self, other):
        return self._compare(other, flip=False)

    def __gt__(self, other):
        return self._compare(other, flip=True)

    def __le__(self, other):
        return _as_bool(1 - self._compare(other, flip=True))

    def __ge__(self, other):
        return _as_bool(1 - self._compare(other, flip=False))

    def __eq__(self, other):
        other_t = self.lift(other) if not isinstance(other, SecretTensor) else other
        x, y = self.broadcast_pair(self.share, other_t.share)
        bits = arith.lift_bits(self.ctx, compare.equal_ss(self.ctx, x, y))
        return self._new(bits, "bool", UNIT, self.labels | other_t.labels)

    def __ne__(self, other):
        return _as_bool(1 - (self == other))

    __hash__ = None

    # ----- structure --------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, SecretTensor) or (
            isinstance(index, tuple) and any(isinstance(i, SecretTensor) for i in index)
        ):
            raise UnsupportedOperation("indexing with a secret index")
        return self._same_bounds(self.share[index])

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        try:
            return self._same_bounds(self.share.map(lambda part: part.reshape(shape)))
        except ValueError as exc:
            raise ShapeError(f"cannot reshape {self.shape} into {tuple(shape)}") from exc

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
        return self._same_bounds(
            self.share.map(lambda part: part.transpose(*axes) if axes else part.T)
        )

    @property
    def T(self):  # noqa: N802 - numpy's name
        return self.transpose()

    def flatten(self):
        return self.reshape(-1)

    ravel = flatten

    # ----- reductions -------------------------------------------------------------------
    def _count(self, axis) -> int:
        if axis is None:
            return self.size
        return int(np.prod([self.shape[a] for a in np.atleast_1d(axis)]))

    def sum(self, axis=None, keepdims=False):
        interval = None
        if self.interval is not None:
            interval = self.interval.scaled(self._count(axis))
            check_magnitude("sum", interval, self.ctx.fxp, self.label)
        kind = "int" if self.kind == "bool" else None
        return self._new(arith.sum_(self.share, axis, keepdims), kind, interval)

    def mean(self, axis=None, keepdims=False):
        return self.sum(axis, keepdims) / self._count(axis)

    def _last_axis(self, axis):
        if axis is None:
            return self.share.map(np.ravel)
        return self.share.map(lambda part: np.moveaxis(part, axis, -1))

    def max(self, axis=None):
        return self._new(
            compare.max_last_axis(self.ctx, self._last_axis(axis)), None, self.interval
        )

    def min(self, axis=None):
        return -((-self).max(axis))

    def argmax(self, axis=None):
        _, idx = compare.max_last_axis(self.ctx, self._last_axis(axis), with_index=True)
        count = self.size if axis is None else self.shape[axis]
        return self._new(idx, "int", Interval(0.0, float(max(count - 1, 0))))

    def argmin(self, axis=None):
        return (-self).argmax(axis)

    def dot(self, other):
        return self @ other

    # ----- element-wise non-linear functions --------------------------------------------
    # Each goes through `core.mpc.kernels.domains`, whose table gives its domain and rule.
    def _guarded(self, kernel, *args) -> SecretTensor:
        out, interval = kernel(self.ctx, self.share, self.interval, self.label, *args)
        return self._new(out, "fxp", interval)

    def exp(self):
        return self._guarded(domains.exp)

    def log(self):
        return self._guarded(domains.log)

    def sqrt(self):
        return self._guarded(domains.sqrt)

    def rsqrt(self):
        return self._guarded(domains.rsqrt)

    def reciprocal(self):
        return self._guarded(domains.reciprocal)

    def sigmoid(self, mode: str = "real"):
        if mode not in SIGMOID_MODES:
            raise ConfigError(f"unknown sigmoid mode {mode!r}; choose one of {SIGMOID_MODES}")
        return self._guarded(domains.sigmoid, mode)

    def tanh(self):
        return self._guarded(domains.tanh)

    def relu(self):
        interval = None
        if self.interval is not None:
            interval = Interval(max(self.interval.lo, 0.0), max(self.interval.hi, 0.0))
        return self._new(compare.relu(self.ctx, self.share), None, interval)

    # numpy dispatch lives in its own module to keep this one readable
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from core.mpc.tensor_numpy import dispatch_ufunc

        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from core.mpc.tensor_numpy import dispatch_function

        return dispatch_function(func, args, kwargs)


def _as_bool(t: SecretTensor) -> SecretTensor:
    t.kind = "bool"
    return t


def broadcast_shape(a: tuple, b: tuple) -> tuple:
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ShapeError(f"shapes {tuple(a)} and {tuple(b)} cannot be broadcast together") from None


def broadcast_share(share: AShare, shape: tuple) -> AShare:
    if share.shape == tuple(shape):
        return share
    lead = (1,) * (len(shape) - len(share.shape))
    data = share.data.reshape(share.data.shape[0], *lead, *share.shape)
    data = np.broadcast_to(data, (share.data.shape[0], *shape))
    return AShare(np.ascontiguousarray(data))
