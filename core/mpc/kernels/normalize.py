"""Normalisation of positive fixed-point secrets: x = u * 2^e with u in [0.5, 1).

From the bits of x (A2B), a log-depth prefix OR marks every bit below the leading one; XOR with
its own shift leaves a one-hot word at the leading position p. Reversing the word's k bits (a
local permutation of every XOR share; k = 64 or 128 for the ring) and shifting puts the single
bit at q = 2f-1-p. The binary digits of q (six for 2f <= 64, seven up to 2f <= 128) are
parities of masked bits of that word (local again); after bit injection,
F = 2^q = prod_j (1 + q_j (2^(2^j) - 1)) is a product of ring integers, which is the
fixed-point encoding of 2^(f-1-p), so that u = x * F lies in [0.5, 1).
Valid for x in [2^-f, 2^(f-1)) (encodings 1 .. 2^(2f-1)).
"""

from __future__ import annotations

import numpy as np

from core.mpc import circuits
from core.mpc.context import MPCContext
from core.mpc.kernels.arith import mul_many
from core.mpc.ring128 import wrap
from core.mpc.shares import AShare, BShare

_REV8 = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], dtype=np.uint8)


def position_masks(positions: int) -> list[int]:
    """Mask j has the bits whose position (below `positions`) has binary digit j set."""
    digits = (positions - 1).bit_length()
    return [sum(1 << i for i in range(positions) if (i >> j) & 1) for j in range(digits)]


def bit_reverse(words: np.ndarray) -> np.ndarray:
    """Reverse the bits of every word (64 or 128: the words' ring), locally."""
    words = wrap(words)
    size = words.dtype.itemsize  # little-endian bytes, the low limb first for FM128
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(*words.shape, size)
    flipped = np.ascontiguousarray(_REV8[as_bytes][..., ::-1])
    return wrap(flipped.view(words.dtype).reshape(words.shape))


def _or(ctx: MPCContext, a: BShare, b: BShare) -> BShare:
    proto = ctx.proto
    return proto.xor_ss(proto.xor_ss(a, b), proto.and_ss(a, b))


def normalize(ctx: MPCContext, x: AShare) -> tuple[AShare, AShare]:
    """(F, q) with F = 2^(f-1-p) in fixed point (the ring integer 2^q) and q = 2f-1-p."""
    proto = ctx.proto
    ring, positions = proto.ring, 2 * ctx.frac_bits
    y = circuits.a2b(proto, x)
    for shift in (1 << j for j in range(ring.bits.bit_length() - 1)):  # 1, 2, .., k/2
        y = _or(ctx, y, proto.rshift_b(y, shift))
    onehot = proto.xor_ss(y, proto.rshift_b(y, 1))
    spread = bit_reverse(onehot.data) >> (ring.bits - positions)  # one bit, at q
    masks = position_masks(positions)
    parities = [ring.popcount(spread & ring.const(mask)) & np.uint64(1) for mask in masks]
    q_bits = proto.b2a_bit(BShare(np.stack(parities, axis=1)))
    q_parts = [q_bits[j] for j in range(len(masks))]
    factors = [
        proto.add_sp(proto.mul_sp(bit, (1 << (1 << j)) - 1), 1) for j, bit in enumerate(q_parts)
    ]
    q = q_parts[0]
    for j, bit in enumerate(q_parts[1:], start=1):
        q = proto.add_ss(q, proto.mul_sp(bit, 1 << j))
    return product(ctx, factors), q


def product(ctx: MPCContext, factors: list[AShare]) -> AShare:
    """Product of ring integers by a balanced tree (log2(len) rounds, no truncation)."""
    while len(factors) > 1:
        pairs = [(factors[i], factors[i + 1]) for i in range(0, len(factors) - 1, 2)]
        merged = mul_many(ctx, pairs, scale=False)
        factors = merged + ([factors[-1]] if len(factors) % 2 else [])
    return factors[0]
