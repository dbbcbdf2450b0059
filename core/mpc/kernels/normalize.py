"""Normalisation of positive fixed-point secrets: x = u * 2^e with u in [0.5, 1).

From the bits of x (A2B), a log-depth prefix OR marks every bit below the leading one; XOR with
its own shift leaves a one-hot word at the leading position p. Reversing the word's bits (a
local permutation of every XOR share) and shifting puts a single bit at 2f-1-p, whose B2A is
the fixed-point factor F = 2^(f-1-p), so that u = x * F lies in [0.5, 1). The one-hot word also
yields p's binary digits as parities of masked bits, again locally.
Valid for x in [2^-f, 2^(f-1)) (encodings 1 .. 2^(2f-1)).
"""

from __future__ import annotations

import numpy as np

from core.mpc import circuits
from core.mpc.context import MPCContext
from core.mpc.ring import RING_DTYPE
from core.mpc.shares import AShare, BShare, flat_concat, flat_split

_REV8 = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], dtype=np.uint8)
_POSITION_MASKS = [
    sum(1 << i for i in range(64) if (i >> j) & 1) for j in range(6)
]  # bit j of the position


def bit_reverse(words: np.ndarray) -> np.ndarray:
    """Reverse the 64 bits of every word."""
    as_bytes = np.ascontiguousarray(words, dtype=RING_DTYPE).view(np.uint8)
    flipped = _REV8[as_bytes.reshape(*words.shape, 8)][..., ::-1]
    return np.ascontiguousarray(flipped).view(RING_DTYPE).reshape(words.shape)


def _or(ctx: MPCContext, a: BShare, b: BShare) -> BShare:
    proto = ctx.proto
    return proto.xor_ss(proto.xor_ss(a, b), proto.and_ss(a, b))


def normalize(ctx: MPCContext, x: AShare) -> tuple[AShare, BShare]:
    """(F, onehot) with F = 2^(f-1-p) in fixed point and onehot the XOR-shared 2^p word."""
    proto = ctx.proto
    r = proto.rand_a(x.shape)
    both, _ = flat_concat([x, proto.neg(r)])
    bits, minus_r = flat_split(circuits.a2b(proto, both), [x, r])
    y = bits
    for shift in (1, 2, 4, 8, 16, 32):
        y = _or(ctx, y, proto.rshift_b(y, shift))
    onehot = proto.xor_ss(y, proto.rshift_b(y, 1))
    spread = BShare(bit_reverse(onehot.data) >> RING_DTYPE(64 - 2 * ctx.frac_bits))
    masked = proto.reveal_b(circuits.add_bb(proto, spread, minus_r))
    return proto.add_sp(r, masked), onehot


def leading_position(ctx: MPCContext, onehot: BShare) -> AShare:
    """p (a ring integer) from the one-hot word 2^p, via six local parities and bit injection."""
    parities = [
        np.bitwise_count(onehot.data & RING_DTYPE(mask)).astype(RING_DTYPE) & RING_DTYPE(1)
        for mask in _POSITION_MASKS
    ]
    bits = ctx.proto.b2a_bit(BShare(np.stack(parities, axis=1)))
    weights = (np.uint64(1) << np.arange(6, dtype=np.uint64)).reshape(6, *([1] * len(onehot.shape)))
    weighted = ctx.proto.mul_sp(bits, weights)
    return AShare(np.sum(weighted.data, axis=1, dtype=RING_DTYPE))
