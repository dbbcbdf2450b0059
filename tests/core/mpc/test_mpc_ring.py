"""Ring Z_2^64 helpers: exact limb matmul, signed views, shifts."""

import numpy as np
import pytest

from core.errors import EncodingError, ShapeError
from core.mpc.ring import (
    arshift,
    limb_bits_for,
    matmul_shape,
    ring_matmul,
    to_ring,
    to_signed,
)


def _naive_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Python big ints reduced mod 2^64: the obviously-correct oracle."""
    a_obj, b_obj = a.astype(object), b.astype(object)
    return (a_obj @ b_obj % (1 << 64)).astype(np.uint64)


@pytest.mark.parametrize(
    ("m", "k", "n"), [(1, 1, 1), (3, 5, 4), (7, 129, 2), (2, 3000, 3), (16, 64, 16)]
)
def test_ring_matmul_is_exact(m, k, n):
    rng = np.random.default_rng(m * 1000 + k + n)
    a = rng.integers(0, 2**64, (m, k), dtype=np.uint64, endpoint=False)
    b = rng.integers(0, 2**64, (k, n), dtype=np.uint64, endpoint=False)
    assert np.array_equal(ring_matmul(a, b), _naive_matmul(a, b)), f"shapes {(m, k, n)}"


@pytest.mark.parametrize("k", [2, 512, 513])
@pytest.mark.parametrize(
    "fill", [2**64 - 1, 2**63, 2**63 + 2**62 + 2**22, (1 << 46) - 1, (1 << 22) | (1 << 45)]
)
def test_ring_matmul_exact_at_limb_extremes(k, fill):
    """Operands whose balanced digits all sit at the ends of their range (worst partial sums)."""
    a = np.full((2, k), fill, dtype=np.uint64)
    b = np.full((k, 3), (fill * 3 + 2**63) % 2**64, dtype=np.uint64)
    assert np.array_equal(ring_matmul(a, b), _naive_matmul(a, b)), f"k={k} fill={fill:#x}"


@pytest.mark.parametrize(
    ("sa", "sb"), [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (1, 4, 5))]
)
def test_matmul_shape_follows_numpy(sa, sb):
    assert matmul_shape(sa, sb) == np.matmul(np.empty(sa), np.empty(sb)).shape


def test_matmul_shape_rejects_bad_shapes():
    with pytest.raises(ShapeError, match=r"\(3, 4\) @ \(5, 2\)"):
        matmul_shape((3, 4), (5, 2))
    with pytest.raises(ShapeError, match="at least one dimension"):
        matmul_shape((), (4,))


def test_ring_matmul_vector_and_batched_operands():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 2**64, 6, dtype=np.uint64, endpoint=False)
    m = rng.integers(0, 2**64, (6, 3), dtype=np.uint64, endpoint=False)
    assert np.array_equal(ring_matmul(v, m), _naive_matmul(v[None], m)[0])
    batch = rng.integers(0, 2**64, (2, 4, 6), dtype=np.uint64, endpoint=False)
    expected = np.stack([_naive_matmul(batch[i], m) for i in range(2)])
    assert np.array_equal(ring_matmul(batch, m), expected)


def test_ring_matmul_rejects_mismatched_shapes():
    with pytest.raises(ShapeError, match=r"\(2, 3\) @ \(4, 2\)"):
        ring_matmul(np.zeros((2, 3), np.uint64), np.zeros((4, 2), np.uint64))


@pytest.mark.parametrize("k", [1, 512, 20000, 10**6])
def test_limb_width_keeps_partial_sums_below_2_53(k):
    width = limb_bits_for(k)
    assert k * 4 ** (width - 1) <= 2**53


def test_signed_view_and_arithmetic_shift():
    x = to_ring(np.array([-5, 7, -(2**40)]))
    assert to_signed(x).tolist() == [-5, 7, -(2**40)]
    assert to_signed(arshift(x, 1)).tolist() == [-3, 3, -(2**39)]


def test_to_ring_rejects_floats():
    with pytest.raises(EncodingError, match="float64"):
        to_ring(np.array([1.5]))
