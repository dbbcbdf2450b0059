"""`SecretTensor`: one party's view of a secret-shared array that behaves like a numpy array.

Inside `spu(fn)`, every party runs its own copy of `fn` on its own shares; the tensors it sees
support operators (+ - * / @, comparisons, unary -), indexing, reshape/transpose, reductions and
the numpy functions listed in `core.mpc.tensor_numpy`. Every operation dispatches to a kernel;
nothing is ever opened implicitly. What has no secure kernel (`bool(t)`, `np.asarray(t)`,
`np.sort(t)`, ...) raises `UnsupportedOperation` naming the operation.

`kind` tracks a numpy-like dtype: "bool" (comparison results), "int" (integer inputs and their
sums/products, exact) and "fxp" (fixed point). Reveal decodes accordingly.
"""

from __future__ import annotations

import numpy as np

from core.errors import ShapeError, UnsupportedOperation
from core.mpc.context import MPCContext
from core.mpc.kernels import activations, arith, compare, nonlinear
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

    def __init__(self, share: AShare, ctx: MPCContext, kind: str = "fxp"):
        self.share = share
        self.ctx = ctx
        self.kind = kind

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

    def _new(self, share: AShare, kind: str | None = None) -> SecretTensor:
        return SecretTensor(share, self.ctx, self.kind if kind is None else kind)

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
            self.ctx.proto.public_a(enc), self.ctx, "int" if _int_like(value) else "fxp"
        )

    def _check_public(self, value):
        if hasattr(value, "__array_function__") and not isinstance(value, np.ndarray | np.generic):
            raise UnsupportedOperation(f"operand of type {type(value).__name__}")
        return value

    @staticmethod
    def broadcast_pair(a: AShare, b: AShare) -> tuple[AShare, AShare]:
        shape = broadcast_shape(a.shape, b.shape)
        return broadcast_share(a, shape), broadcast_share(b, shape)

    def _binary(self, other, ss, sp, ps=None, reflected=False, kind=None):
        ctx = self.ctx
        if isinstance(other, SecretTensor):
            a, b = (other, self) if reflected else (self, other)
            x, y = self.broadcast_pair(a.share, b.share)
            return self._new(ss(ctx, x, y), kind or _result_kind(a, b))
        other = np.asarray(self._check_public(other))
        shape = broadcast_shape(self.shape, other.shape)
        x = broadcast_share(self.share, shape)
        p = np.broadcast_to(other, shape)
        out_kind = kind or _result_kind(self, other)
        if reflected and ps is not None:
            return self._new(ps(ctx, p, x), out_kind)
        return self._new(sp(ctx, x, p), out_kind)

    # ----- arithmetic -------------------------------------------------------------------
    def __add__(self, other):
        return self._binary(other, lambda c, x, y: c.proto.add_ss(x, y), arith.add_sp)

    __radd__ = __add__

    def __sub__(self, other):
        return self._binary(
            other, lambda c, x, y: c.proto.sub_ss(x, y), lambda c, x, p: arith.add_sp(c, x, -p)
        )

    def __rsub__(self, other):
        return self._binary(
            other, lambda c, x, y: c.proto.sub_ss(x, y), None, arith.sub_ps, reflected=True
        )

    def __mul__(self, other):
        return self._binary(other, arith.mul_ss, arith.mul_sp)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, SecretTensor):
            return self._binary(other, nonlinear.div_ss, None, kind="fxp")
        return self._binary(other, None, self._div_public, kind="fxp")

    def _div_public(self, ctx, x, p):
        p = np.asarray(p)
        if np.any(p == 0):
            raise ZeroDivisionError("division of a secret by a public zero")
        scalar = np.unique(p) if p.size else p
        if self.kind in INT_KINDS and scalar.size == 1 and _int_like(scalar):
            return arith.div_sp_rounded(ctx, x, int(scalar[0]))
        return arith.div_sp(ctx, x, p)

    def __rtruediv__(self, other):
        recip = self._new(nonlinear.reciprocal(self.ctx, self.share), "fxp")
        return recip * other

    def __neg__(self):
        return self._new(self.ctx.proto.neg(self.share), "int" if self.kind == "bool" else None)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._new(compare.abs_(self.ctx, self.share))

    def __matmul__(self, other):
        if isinstance(other, SecretTensor):
            return self._new(
                arith.matmul_ss(self.ctx, self.share, other.share), _result_kind(self, other)
            )
        other = np.asarray(self._check_public(other))
        return self._new(arith.matmul_sp(self.ctx, self.share, other), _result_kind(self, other))

    def __rmatmul__(self, other):
        other = np.asarray(self._check_public(other))
        return self._new(arith.matmul_ps(self.ctx, other, self.share), _result_kind(self, other))

    # ----- comparisons (results are secret 0/1 of kind "bool") --------------------------
    def _compare(self, other, flip: bool):
        def ss(ctx, x, y):
            return compare.less_ss(ctx, y, x) if flip else compare.less_ss(ctx, x, y)

        def sp(ctx, x, p):
            return compare.less_ps(ctx, p, x) if flip else compare.less_sp(ctx, x, p)

        bits = self._binary(other, ss, sp, kind="bool")
        return bits._new(arith.lift_bits(self.ctx, bits.share))

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
        return self._new(arith.lift_bits(self.ctx, compare.equal_ss(self.ctx, x, y)), "bool")

    def __ne__(self, other):
        return _as_bool(1 - (self == other))

    __hash__ = None

    # ----- structure --------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, SecretTensor) or (
            isinstance(index, tuple) and any(isinstance(i, SecretTensor) for i in index)
        ):
            raise UnsupportedOperation("indexing with a secret index")
        return self._new(self.share[index])

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        try:
            return self._new(self.share.map(lambda part: part.reshape(shape)))
        except ValueError as exc:
            raise ShapeError(f"cannot reshape {self.shape} into {tuple(shape)}") from exc

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
        return self._new(self.share.map(lambda part: part.transpose(*axes) if axes else part.T))

    @property
    def T(self):  # noqa: N802 - numpy's name
        return self.transpose()

    def flatten(self):
        return self.reshape(-1)

    ravel = flatten

    # ----- reductions -------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return self._new(
            arith.sum_(self.share, axis, keepdims), "int" if self.kind == "bool" else None
        )

    def mean(self, axis=None, keepdims=False):
        total = self.sum(axis, keepdims)
        count = (
            self.size
            if axis is None
            else int(np.prod([self.shape[a] for a in np.atleast_1d(axis)]))
        )
        return total / count

    def _last_axis(self, axis):
        if axis is None:
            return self.share.map(np.ravel)
        return self.share.map(lambda part: np.moveaxis(part, axis, -1))

    def max(self, axis=None):
        return self._new(compare.max_last_axis(self.ctx, self._last_axis(axis)))

    def min(self, axis=None):
        return -((-self).max(axis))

    def argmax(self, axis=None):
        _, idx = compare.max_last_axis(self.ctx, self._last_axis(axis), with_index=True)
        return self._new(idx, "int")

    def argmin(self, axis=None):
        return (-self).argmax(axis)

    def dot(self, other):
        return self @ other

    # ----- element-wise non-linear functions --------------------------------------------
    def exp(self):
        return self._new(nonlinear.exp(self.ctx, self.share), "fxp")

    def log(self):
        return self._new(nonlinear.log(self.ctx, self.share), "fxp")

    def sqrt(self):
        return self._new(nonlinear.sqrt(self.ctx, self.share), "fxp")

    def rsqrt(self):
        return self._new(nonlinear.rsqrt(self.ctx, self.share), "fxp")

    def reciprocal(self):
        return self._new(nonlinear.reciprocal(self.ctx, self.share), "fxp")

    def sigmoid(self, mode: str = "real"):
        return self._new(activations.sigmoid(self.ctx, self.share, mode), "fxp")

    def tanh(self):
        return self._new(activations.tanh(self.ctx, self.share), "fxp")

    def relu(self):
        return self._new(compare.relu(self.ctx, self.share))

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
