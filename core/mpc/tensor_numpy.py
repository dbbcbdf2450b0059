"""numpy protocol support for `SecretTensor` (`__array_ufunc__` / `__array_function__`).

Only functions with a secure kernel are listed; anything else raises `UnsupportedOperation`
naming the numpy function, so a secret is never converted to plaintext behind the caller's back.
"""

from __future__ import annotations

import operator

import numpy as np

from core.errors import ShapeError, UnsupportedOperation
from core.mpc.bounds import Interval, join
from core.mpc.kernels import arith, compare
from core.mpc.shares import AShare
from core.mpc.tensor import SecretTensor, broadcast_shape, broadcast_share


def _first_secret(values) -> SecretTensor:
    for v in values:
        if isinstance(v, SecretTensor):
            return v
        if isinstance(v, list | tuple):
            for w in v:
                if isinstance(w, SecretTensor):
                    return w
    raise UnsupportedOperation("numpy call without a secret operand")


def _binary(op):
    def apply(a, b):
        return op(a, b)

    return apply


_UFUNCS = {
    np.add: _binary(operator.add),
    np.subtract: _binary(operator.sub),
    np.multiply: _binary(operator.mul),
    np.true_divide: _binary(operator.truediv),
    np.matmul: _binary(operator.matmul),
    np.less: _binary(operator.lt),
    np.less_equal: _binary(operator.le),
    np.greater: _binary(operator.gt),
    np.greater_equal: _binary(operator.ge),
    np.equal: _binary(operator.eq),
    np.not_equal: _binary(operator.ne),
    np.negative: operator.neg,
    np.positive: operator.pos,
    np.absolute: operator.abs,
    np.exp: lambda x: x.exp(),
    np.log: lambda x: x.log(),
    np.sqrt: lambda x: x.sqrt(),
    np.tanh: lambda x: x.tanh(),
    np.reciprocal: lambda x: x.reciprocal(),
    np.square: lambda x: x * x,
}


def _maximum(a, b, take_larger: bool = True):
    s = _first_secret((a, b))
    a, b = s.lift(a), s.lift(b)
    x, y = SecretTensor.broadcast_pair(a.share, b.share)
    kernel = compare.maximum if take_larger else compare.minimum
    kind = "int" if a.kind != "fxp" and b.kind != "fxp" else "fxp"
    pick = max if take_larger else min
    interval = join(
        a.interval, b.interval, lambda u, v: Interval(pick(u.lo, v.lo), pick(u.hi, v.hi))
    )
    return SecretTensor(kernel(s.ctx, x, y), s.ctx, kind, interval, a.labels | b.labels)


_UFUNCS[np.maximum] = _maximum
_UFUNCS[np.minimum] = lambda a, b: _maximum(a, b, take_larger=False)


def dispatch_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    if method != "__call__" or kwargs.get("out") is not None:
        raise UnsupportedOperation(f"numpy.{ufunc.__name__}.{method} on a secret")
    handler = _UFUNCS.get(ufunc)
    if handler is None:
        raise UnsupportedOperation(f"numpy.{ufunc.__name__} on a secret")
    if len(inputs) == 2 and not isinstance(inputs[0], SecretTensor):
        return _reflected(ufunc, inputs)
    return handler(*inputs)


def _reflected(ufunc, inputs):
    public, secret = inputs
    reflected = {
        np.add: "__radd__",
        np.subtract: "__rsub__",
        np.multiply: "__rmul__",
        np.true_divide: "__rtruediv__",
        np.matmul: "__rmatmul__",
        np.less: "__gt__",
        np.less_equal: "__ge__",
        np.greater: "__lt__",
        np.greater_equal: "__le__",
        np.equal: "__eq__",
        np.not_equal: "__ne__",
    }
    if ufunc in (np.maximum, np.minimum):
        return _UFUNCS[ufunc](public, secret)
    return getattr(secret, reflected[ufunc])(public)


# ----- array functions ---------------------------------------------------------------------
def _as_shares(values, like: SecretTensor) -> list[AShare]:
    return [like.lift(v).share for v in values]


def _concatenate(arrays, axis=0):
    s = _first_secret([arrays])
    shares = _as_shares(arrays, s)
    try:
        data = np.concatenate([sh.data for sh in shares], axis=axis + 1 if axis >= 0 else axis)
    except ValueError as exc:
        raise ShapeError(f"cannot concatenate shapes {[sh.shape for sh in shares]}") from exc
    return _joined(AShare(data), s, arrays)


def _stack(arrays, axis=0):
    s = _first_secret([arrays])
    shares = _as_shares(arrays, s)
    if len({sh.shape for sh in shares}) != 1:
        raise ShapeError(f"cannot stack shapes {[sh.shape for sh in shares]}")
    data = np.stack([sh.data for sh in shares], axis=axis + 1 if axis >= 0 else axis)
    return _joined(AShare(data), s, arrays)


def _joined(share: AShare, like: SecretTensor, values) -> SecretTensor:
    """A result made of the elements of `values`: the union of their intervals and labels."""
    tensors = [like.lift(v) for v in values]
    interval = tensors[0].interval
    for t in tensors[1:]:
        interval = join(interval, t.interval, Interval.union)
    culprits = tensors  # whose bounds a later refusal is about: the largest, when known
    if interval is not None:
        culprits = [t for t in tensors if t.interval.magnitude == interval.magnitude]
    labels = frozenset().union(*(t.labels for t in culprits))
    return SecretTensor(share, like.ctx, _joint_kind(values), interval, labels)


def _joint_kind(values) -> str:
    kinds = {v.kind if isinstance(v, SecretTensor) else "fxp" for v in values}
    return kinds.pop() if len(kinds) == 1 else "fxp"


def _where(cond, a, b):
    s = _first_secret((cond, a, b))
    a, b = s.lift(a), s.lift(b)
    if isinstance(cond, SecretTensor):
        bit = cond if cond.kind == "bool" else cond != 0
        shape = broadcast_shape(broadcast_shape(bit.shape, a.shape), b.shape)
        ring_bit = s.ctx.proto.trunc(broadcast_share(bit.share, shape), s.ctx.frac_bits)  # exact
        out = compare.select(
            s.ctx, ring_bit, broadcast_share(a.share, shape), broadcast_share(b.share, shape)
        )
        return _joined(out, s, (a, b))
    cond = np.asarray(cond, dtype=bool)
    shape = broadcast_shape(broadcast_shape(cond.shape, a.shape), b.shape)
    xa, xb = broadcast_share(a.share, shape), broadcast_share(b.share, shape)
    return _joined(AShare(np.where(cond, xa.data, xb.data)), s, (a, b))


def _clip(x, a_min, a_max):
    out = x
    if a_min is not None:
        out = np.maximum(out, a_min)
    if a_max is not None:
        out = np.minimum(out, a_max)
    return out


def _mean(x, axis=None, keepdims=False, **kwargs):
    _no_extra("mean", kwargs)
    return x.mean(axis=axis, keepdims=keepdims)


def _sum(x, axis=None, keepdims=False, **kwargs):
    _no_extra("sum", kwargs)
    return x.sum(axis=axis, keepdims=keepdims)


def _no_extra(name: str, kwargs: dict) -> None:
    extra = {k for k, v in kwargs.items() if v is not None}
    if extra:
        raise UnsupportedOperation(f"numpy.{name} with {sorted(extra)} on a secret")


def _dot(a, b):
    if isinstance(a, SecretTensor):
        return a @ b
    return b.__rmatmul__(a)


_FUNCTIONS = {
    np.sum: _sum,
    np.mean: _mean,
    np.where: _where,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.reshape: lambda x, shape: x.reshape(shape),
    np.transpose: lambda x, axes=None: x.transpose(axes) if axes is not None else x.transpose(),
    np.dot: _dot,
    np.max: lambda x, axis=None: x.max(axis),
    np.amax: lambda x, axis=None: x.max(axis),
    np.min: lambda x, axis=None: x.min(axis),
    np.amin: lambda x, axis=None: x.min(axis),
    np.argmax: lambda x, axis=None: x.argmax(axis),
    np.argmin: lambda x, axis=None: x.argmin(axis),
    np.clip: _clip,
    np.shape: lambda x: x.shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x: x.size,
    np.ravel: lambda x: x.ravel(),
    np.expand_dims: lambda x, axis: x.reshape(
        np.expand_dims(np.empty(x.shape, np.int8), axis).shape
    ),
    np.squeeze: lambda x, axis=None: x.reshape(np.squeeze(np.empty(x.shape, np.int8), axis).shape),
}


def dispatch_function(func, args: tuple, kwargs: dict):
    handler = _FUNCTIONS.get(func)
    if handler is None:
        raise UnsupportedOperation(f"numpy.{func.__name__} on a secret")
    return handler(*args, **kwargs)


__all__ = ["arith", "dispatch_function", "dispatch_ufunc"]
