"""SecretTensor behaves like a numpy array and refuses what it cannot do securely."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.comm import LocalLinkHub
from core.errors import ShapeError, UnsupportedOperation
from core.mpc.context import MPCContext
from core.mpc.fixedpoint import FixedPoint
from core.mpc.protocols import Ref2k
from core.mpc.tensor import SecretTensor


def _run_tensors(mpc, fn, *inputs):
    """fn(*SecretTensors) -> SecretTensor, revealed and decoded."""

    def kernel(ctx, *shares):
        return fn(*[SecretTensor(s, ctx) for s in shares]).share

    return mpc.run(kernel, *inputs)


def _close(got, want, tol):
    assert np.allclose(got, want, rtol=tol, atol=tol), (
        f"got {np.ravel(got)[:4]}, want {np.ravel(want)[:4]}"
    )


def test_operators_and_numpy_functions(mpc):
    rng = np.random.default_rng(11)
    x, y = mpc.quantize(rng.uniform(0.5, 4, (3, 4))), mpc.quantize(rng.uniform(0.5, 4, (3, 4)))
    cases = [
        (lambda a, b: a + b * 2 - 1.5, lambda a, b: a + b * 2 - 1.5, 1e-5),
        (lambda a, b: -a * b, lambda a, b: -a * b, 1e-5),
        (lambda a, b: a / b, lambda a, b: a / b, 1e-3),
        (lambda a, b: 1.0 / a, lambda a, b: 1.0 / a, 1e-3),
        (lambda a, b: 10 - a, lambda a, b: 10 - a, 1e-5),
        (lambda a, b: a @ b.T, lambda a, b: a @ b.T, 1e-4),
        (
            lambda a, b: np.exp(a) + np.log(b) + np.sqrt(b),
            lambda a, b: np.exp(a) + np.log(b) + np.sqrt(b),
            2e-3,
        ),
        (lambda a, b: np.where(a < b, a, b), lambda a, b: np.where(a < b, a, b), 1e-6),
        (
            lambda a, b: np.maximum(a, b) - np.minimum(a, 2.0),
            lambda a, b: np.maximum(a, b) - np.minimum(a, 2.0),
            1e-6,
        ),
        (
            lambda a, b: np.sum(a, axis=0) + np.mean(b),
            lambda a, b: np.sum(a, axis=0) + np.mean(b),
            1e-4,
        ),
        (lambda a, b: np.abs(a - b), lambda a, b: np.abs(a - b), 1e-6),
        (
            lambda a, b: np.concatenate([a, b], axis=1)[1:, ::2],
            lambda a, b: np.concatenate([a, b], axis=1)[1:, ::2],
            0,
        ),
        (
            lambda a, b: np.dot(a.reshape(12), b.reshape(12)),
            lambda a, b: np.dot(a.reshape(12), b.reshape(12)),
            1e-4,
        ),
        (
            lambda a, b: (a <= b) + (a >= b) * 2 + (a == a) * 4 + (a != b) * 8,
            lambda a, b: (a <= b) + (a >= b) * 2 + 4 + (a != b) * 8,
            0,
        ),
        (
            lambda a, b: a.T.max(axis=1) + a.argmax(axis=0),
            lambda a, b: a.T.max(axis=1) + a.argmax(axis=0),
            0,
        ),
        (
            lambda a, b: np.stack([a, b]).sum(axis=(0, 2)),
            lambda a, b: np.stack([a, b]).sum(axis=(0, 2)),
            1e-5,
        ),
    ]
    for i, (secure, plain, tol) in enumerate(cases):
        got = _run_tensors(mpc, secure, x, y)
        want = plain(x, y)
        assert np.allclose(got, want, rtol=tol, atol=max(tol, 4 * mpc.fxp.ulp)), (
            f"case {i}: x={x[0]}, y={y[0]}: got {np.ravel(got)[:4]}, want {np.ravel(want)[:4]}"
        )


def test_sigmoid_tanh_relu_methods(mpc):
    x = mpc.quantize(np.linspace(-6, 6, 25))
    got = _run_tensors(mpc, lambda a: a.sigmoid("real") + a.tanh() + a.relu(), x)
    _close(got, 1 / (1 + np.exp(-x)) + np.tanh(x) + np.maximum(x, 0), 3e-4)


@pytest.mark.parametrize(
    ("operation", "name"),
    [
        (lambda a: np.sort(a), "numpy.sort"),
        (lambda a: np.sin(a), "numpy.sin"),
        (lambda a: np.asarray(a), "conversion of a secret"),
        (lambda a: bool(a), "truth value"),
        (lambda a: float(a[0]), "float()"),
        (lambda a: a[a], "secret index"),
        (lambda a: np.add.reduce(a), "numpy.add.reduce"),
        (lambda a: np.sum(a, dtype=np.float32), "numpy.sum with ['dtype']"),
        (lambda a: a.__setitem__(0, 1.0), "item assignment"),
    ],
)
def test_unsupported_operations_are_refused_by_name(operation, name):
    with pytest.raises(UnsupportedOperation, match=re.escape(name)):
        operation(_local_tensor())


def _local_tensor() -> SecretTensor:
    """A one-party REF2K tensor: enough to exercise refusals, which happen before any message."""
    hub = LocalLinkHub(["solo"])
    ctx = MPCContext(Ref2k(hub.link(0), seed=1), FixedPoint(18))
    return SecretTensor(ctx.proto.public_a(ctx.encode(np.array([1.0, 2.0, 3.0]))), ctx)


def test_shape_errors_name_the_shapes(mpc):
    x, y = np.ones((2, 3)), np.ones((4,))
    with pytest.raises(Exception) as info:
        _run_tensors(mpc, lambda a, b: a + b, x, y)
    error = info.value.error if hasattr(info.value, "error") else info.value
    assert isinstance(error, ShapeError)
    assert "(2, 3)" in str(error)
    assert "(4,)" in str(error)


def test_more_numpy_functions(mpc):
    x = mpc.quantize(np.array([[-2.5, 0.0, 1.25], [3.0, -0.5, 0.0]]))
    cases = [
        (lambda a: np.clip(a, -1.0, 2.0), lambda a: np.clip(a, -1.0, 2.0)),
        (lambda a: np.where(a, 1.0, -1.0), lambda a: np.where(a != 0, 1.0, -1.0)),
        (lambda a: a.min(axis=1) + a.argmin(axis=1), lambda a: a.min(axis=1) + a.argmin(axis=1)),
        (lambda a: np.max(a) - np.min(a), lambda a: np.max(a) - np.min(a)),
        (lambda a: np.squeeze(np.expand_dims(a, 0), 0).ravel(), lambda a: a.ravel()),
        (lambda a: np.transpose(a) @ np.ones((2, 1)), lambda a: a.T @ np.ones((2, 1))),
        (lambda a: np.square(a) - np.negative(a), lambda a: a * a + a),
    ]
    for i, (secure, plain) in enumerate(cases):
        got = _run_tensors(mpc, secure, x)
        want = plain(x)
        assert np.allclose(got, want, atol=4 * mpc.fxp.ulp), f"case {i}: got {got}, want {want}"
