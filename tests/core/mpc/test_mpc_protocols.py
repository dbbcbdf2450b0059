"""Protocol primitives on ring elements: exact equality with numpy uint64 arithmetic."""

import numpy as np
import pytest

from core.mpc import circuits
from core.mpc.ring import RING_DTYPE, arshift, ring_matmul, to_signed

RNG_SEED = 20240611


def _ring(rng, shape):
    return rng.integers(0, 2**64, shape, dtype=np.uint64, endpoint=False)


def _small(rng, shape, bits=50):
    return rng.integers(-(2**bits), 2**bits, shape).view(np.uint64)


def test_share_and_reveal_round_trip_from_every_owner(mpc):
    rng = np.random.default_rng(RNG_SEED)
    inputs = [_ring(rng, (3, 4)) for _ in range(mpc.parties)]
    outs = mpc.run_ring(lambda p, *xs: [p.reveal(x) for x in xs], *inputs)
    for rank, out in enumerate(outs):
        for i, (got, want) in enumerate(zip(out, inputs, strict=True)):
            assert np.array_equal(got, want), f"party {rank}, input {i} owned by party {i}"


def test_reveal_to_one_party_only(mpc):
    x = _ring(np.random.default_rng(RNG_SEED), (5,))
    target = mpc.parties - 1
    outs = mpc.run_ring(lambda p, s: p.reveal(s, to=target), x)
    assert np.array_equal(outs[target], x)
    if mpc.protocol != "REF2K":
        assert all(out is None for rank, out in enumerate(outs) if rank != target)


def test_linear_operations_are_exact(mpc):
    rng = np.random.default_rng(RNG_SEED + 1)
    x, y, c = _ring(rng, (20,)), _ring(rng, (20,)), _ring(rng, (20,))

    def body(p, sx, sy):
        return [
            p.reveal(p.add_ss(sx, sy)),
            p.reveal(p.sub_ss(sx, sy)),
            p.reveal(p.neg(sx)),
            p.reveal(p.add_sp(sx, c)),
            p.reveal(p.mul_sp(sx, c)),
        ]

    got = mpc.run_ring(body, x, y)[0]
    want = [x + y, x - y, np.uint64(0) - x, x + c, x * c]
    for name, g, w in zip(["add_ss", "sub_ss", "neg", "add_sp", "mul_sp"], got, want, strict=True):
        assert np.array_equal(g, w), f"{name} on x={x[:3]}..., y={y[:3]}..."


def test_mul_and_matmul_are_exact(mpc):
    rng = np.random.default_rng(RNG_SEED + 2)
    x, y = _ring(rng, (4, 6)), _ring(rng, (4, 6))
    a, b, pub = _ring(rng, (4, 6)), _ring(rng, (6, 3)), _ring(rng, (6, 2))

    def body(p, sx, sy, sa, sb):
        return [
            p.reveal(p.mul_ss(sx, sy)),
            p.reveal(p.matmul_ss(sa, sb)),
            p.reveal(p.matmul_sp(sa, pub)),
            p.reveal(p.matmul_ps(pub.T, sb)),
        ]

    got = mpc.run_ring(body, x, y, a, b)[0]
    assert np.array_equal(got[0], x * y), f"mul_ss x={x[0]}, y={y[0]}"
    assert np.array_equal(got[1], ring_matmul(a, b))
    assert np.array_equal(got[2], ring_matmul(a, pub))
    assert np.array_equal(got[3], ring_matmul(pub.T, b))


def test_boolean_and_conversions_are_exact(mpc):
    rng = np.random.default_rng(RNG_SEED + 3)
    x, y = _ring(rng, (33,)), _ring(rng, (33,))

    def body(p, sx, sy):
        bx, by = circuits.a2b(p, sx), circuits.a2b(p, sy)
        return [
            p.reveal_b(bx),
            p.reveal_b(p.and_ss(bx, by)),
            p.reveal_b(circuits.add_bb(p, bx, by)),
            p.reveal(circuits.b2a(p, bx)),
            p.reveal(p.b2a_bit(p.rshift_b(bx, 7))),
            p.reveal_b(circuits.a2b_low_bits(p, sx, 6)),
            p.reveal_b(circuits.a2b_low_bits(p, sy, 13)),
        ]

    got = mpc.run_ring(body, x, y)[0]
    assert np.array_equal(got[0], x), "a2b"
    assert np.array_equal(got[1], x & y), "and_ss"
    assert np.array_equal(got[2], x + y), "Kogge-Stone adder"
    assert np.array_equal(got[3], x), "b2a"
    assert np.array_equal(got[4], (x >> RING_DTYPE(7)) & RING_DTYPE(1)), "b2a_bit"
    assert np.array_equal(got[5], x & RING_DTYPE(63)), "a2b modulo 2^6, packed"
    assert np.array_equal(got[6], y & RING_DTYPE(2**13 - 1)), "a2b modulo 2^13, packed"


def test_msb_is_exact_including_edge_values(mpc):
    rng = np.random.default_rng(RNG_SEED + 4)
    edges = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1, 2**62], dtype=np.uint64)
    x = np.concatenate([edges, _ring(rng, (200,))])
    bits = mpc.run_ring(lambda p, s: p.reveal(p.b2a_bit(circuits.msb(p, s))), x)[0]
    assert np.array_equal(bits, x >> RING_DTYPE(63)), (
        f"first mismatch at x={x[np.argmax(bits != x >> RING_DTYPE(63))]}"
    )


@pytest.mark.parametrize("bits", [1, 18, 36])
def test_truncation_is_off_by_at_most_one(mpc, bits):
    rng = np.random.default_rng(RNG_SEED + bits)
    x = np.concatenate(
        [_small(rng, (500,), bits=48), np.array([0, 2**bits, -(2**bits)]).view(np.uint64)]
    )
    got = to_signed(mpc.run_ring(lambda p, s: p.reveal(p.trunc(s, bits)), x)[0])
    want = to_signed(arshift(x, bits))
    diff = got - want
    assert np.all((diff == 0) | (diff == 1)), f"x={to_signed(x)[np.argmax(np.abs(diff) > 1)]}"
    exact = (to_signed(x) % (1 << bits)) == 0
    assert np.array_equal(got[exact], want[exact]), "multiples of 2^bits must truncate exactly"


@pytest.mark.parametrize("bits", [1, 18, 30])
def test_trunc_square_returns_the_exact_square_of_the_truncation(mpc, bits):
    """v = trunc(x, bits) up to one unit, and the second output is exactly v * v mod 2^64."""
    rng = np.random.default_rng(RNG_SEED + 100 + bits)
    # ABY3's truncation fails with probability ~|x| / 2^63, so it gets smaller inputs
    top = 40 if mpc.protocol == "ABY3" else 61
    edges = np.array([0, 2**bits, -(2**bits), 2**top]).view(np.uint64)
    x = np.concatenate([_small(rng, (400,), bits=top), edges])

    def body(p, s):
        v, sq = p.trunc_square(s, bits)
        return p.reveal(v), p.reveal(sq)

    v, sq = mpc.run_ring(body, x)[0]
    diff = to_signed(v) - to_signed(arshift(x, bits))
    assert np.all((diff == 0) | (diff == 1)), f"x={to_signed(x)[np.argmax(np.abs(diff) > 1)]}"
    assert np.array_equal(sq, v * v), f"square differs at v={to_signed(v)[np.argmax(sq != v * v)]}"


def test_random_secrets_differ_between_calls(mpc):
    outs = mpc.run_ring(lambda p: [p.reveal(p.rand_a((64,))) for _ in range(2)])
    first, second = outs[0]
    assert not np.array_equal(first, second)
    assert len(np.unique(first)) == 64
