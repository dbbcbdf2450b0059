"""Boolean circuits on XOR-shared ring words, built only from protocol primitives.

A2B sums the parties' `bool_summands` with carry-save adders (3 -> 2 words, one AND round) and
a Kogge-Stone parallel-prefix adder (log2(k) AND rounds for the ring's k bits). MSB extraction
needs only the carry into bit k - 1, computed as a tree of (generate, propagate) pairs; after
every level half the bits are dead, so the live bits of several elements are packed into one
word before the AND, which roughly halves the traffic of every level (about 3 words per element
in total on FM64). On FM128 the first level works on 128-bit words and leaves 64 live bits per
element, compressed (locally) into one uint64 word; the rest of the tree is FM64's, on uint64
words, whatever the protocol's ring. MSB and the low-bit A2B therefore return uint64 words in
both rings; `a2b` returns ring words.
References: Kogge & Stone, IEEE Trans. Computers 1973; ABY3 (Mohassel & Rindal CCS'18) for
A2B from replicated summands.
"""

from __future__ import annotations

import numpy as np

from core.mpc.protocols.base import Protocol
from core.mpc.ring import RING_DTYPE, ring_of
from core.mpc.shares import AShare, BShare, flat_concat, flat_split

U = RING_DTYPE
_COMPRESS_MASKS = [
    (0, 0x5555555555555555),
    (1, 0x3333333333333333),
    (2, 0x0F0F0F0F0F0F0F0F),
    (4, 0x00FF00FF00FF00FF),
    (8, 0x0000FFFF0000FFFF),
    (16, 0x00000000FFFFFFFF),
]


def and_many(proto: Protocol, pairs: list[tuple[BShare, BShare]]) -> list[BShare]:
    """Several ANDs in one round (operands concatenated into one protocol call)."""
    if len(pairs) == 1:
        return [proto.and_ss(*pairs[0])]
    xs, _ = flat_concat([p[0] for p in pairs])
    ys, _ = flat_concat([p[1] for p in pairs])
    return flat_split(proto.and_ss(xs, ys), [p[0] for p in pairs])


def _csa(proto: Protocol, a: BShare, b: BShare, c: BShare) -> tuple[BShare, BShare]:
    """Carry-save adder: a + b + c = s + carry (mod 2^k), one AND."""
    s = proto.xor_ss(proto.xor_ss(a, b), c)
    ac, bc = proto.xor_ss(a, c), proto.xor_ss(b, c)
    majority = proto.xor_ss(proto.and_ss(ac, bc), c)
    return s, proto.lshift_b(majority, 1)


def reduce_to_two(proto: Protocol, summands: list[BShare]) -> list[BShare]:
    """Carry-save reduction of any number of summands to at most two."""
    while len(summands) > 2:
        a, b, c, *rest = summands
        s, carry = _csa(proto, a, b, c)
        summands = [s, carry, *rest]
    return summands


def add_bb(proto: Protocol, a: BShare, b: BShare) -> BShare:
    """Kogge-Stone adder: the XOR sharing of a + b mod 2^k (log2(k) + 1 AND rounds)."""
    g = proto.and_ss(a, b)
    p = proto.xor_ss(a, b)
    bits = ring_of(a.data).bits
    shifts = [1 << j for j in range(bits.bit_length() - 1)]  # 1, 2, .., k/2
    for shift in shifts:
        if shift < shifts[-1]:
            dg, p_next = and_many(
                proto, [(p, proto.lshift_b(g, shift)), (p, proto.lshift_b(p, shift))]
            )
            g, p = proto.xor_ss(g, dg), p_next
        else:
            g = proto.xor_ss(g, proto.and_ss(p, proto.lshift_b(g, shift)))
    return proto.xor_ss(proto.xor_ss(a, b), proto.lshift_b(g, 1))


def a2b(proto: Protocol, x: AShare) -> BShare:
    """XOR sharing of the bits of the arithmetic secret x."""
    parts = reduce_to_two(proto, proto.bool_summands(x))
    return parts[0] if len(parts) == 1 else add_bb(proto, parts[0], parts[1])


def b2a(proto: Protocol, x: BShare) -> AShare:
    """Arithmetic sharing of XOR-shared words: open x - r for a random secret r, add r back."""
    r = proto.rand_a(x.shape)
    minus_r = a2b(proto, proto.neg(r))
    masked = proto.reveal_b(add_bb(proto, x, minus_r))
    return proto.add_sp(r, masked)


# ----- MSB extraction with bit packing -----------------------------------------------------
def _compress_even(data: np.ndarray, width: int = 64) -> np.ndarray:
    """Gather the even-position bits of the low `width` bits into the low width/2 bits.

    A fixed bit selection, hence local on XOR shares; log2(width) - 1 steps suffice.
    """
    x = np.bitwise_and(data, U(_COMPRESS_MASKS[0][1]))
    scratch = np.empty_like(x)  # in-place steps: large temporaries cost page faults
    for shift, mask in _COMPRESS_MASKS[1:]:
        if 2 * shift >= width:
            break
        np.right_shift(x, U(shift), out=scratch)
        np.bitwise_or(x, scratch, out=x)
        np.bitwise_and(x, U(mask), out=x)
    return x


def _split_even_odd(g: np.ndarray, p: np.ndarray, width: int):
    """Even and odd bits of g and p (each `width` bits wide), compressed to width/2 bits.

    Below 64 bits, g and p share one word so each level needs two compressions, not four.
    """
    if width == 64:
        return (
            _compress_even(g, width),
            _compress_even(g >> U(1), width),
            _compress_even(p, width),
            _compress_even(p >> U(1), width),
        )
    both = g | (p << U(width))
    even, odd = _compress_even(both, 2 * width), _compress_even(both >> U(1), 2 * width)
    half = width // 2
    low = U((1 << half) - 1)
    return even & low, odd & low, even >> U(half), odd >> U(half)


def _pack(data: np.ndarray, width: int) -> np.ndarray:
    """Pack `width`-bit fields of the last axis, 64 // width per word."""
    per_word = 64 // width
    if per_word == 1:
        return data
    count = data.shape[-1]
    padded = -(-count // per_word) * per_word
    if padded != count:
        data = np.concatenate([data, np.zeros((*data.shape[:-1], padded - count), U)], axis=-1)
    fields = data.reshape(*data.shape[:-1], padded // per_word, per_word)
    shifts = np.arange(per_word, dtype=U) * U(width)
    return np.bitwise_or.reduce(fields << shifts, axis=-1)


def _unpack(data: np.ndarray, width: int, count: int) -> np.ndarray:
    per_word = 64 // width
    if per_word == 1:
        return data
    shifts = np.arange(per_word, dtype=U) * U(width)
    mask = U((1 << width) - 1)
    fields = (data[..., None] >> shifts) & mask
    return fields.reshape(*data.shape[:-1], -1)[..., :count]


def _packed_and(proto: Protocol, x: np.ndarray, y: np.ndarray, width: int) -> np.ndarray:
    count = x.shape[-1]
    out = proto.and_ss(BShare(_pack(x, width)), BShare(_pack(y, width)))
    return _unpack(out.data, width, count)


def _low_words(x: BShare) -> BShare:
    """Bits 0..63 of every word, as uint64 words (local)."""
    return BShare(ring_of(x.data).low_word(x.data))


def _compress_even_128(words: np.ndarray) -> np.ndarray:
    """The 64 even-position bits of 128-bit words, in one uint64 word each (local)."""
    ring = ring_of(words)
    low = _compress_even(ring.low_word(words))
    high = _compress_even(ring.low_word(words >> 64))
    return low | (high << U(32))


def _first_level_128(proto: Protocol, g: np.ndarray, p: np.ndarray):
    """(g, p) of the 64 bit pairs of 128-bit words, as uint64 words: one AND round."""
    g_lo, g_hi = _compress_even_128(g), _compress_even_128(g >> 1)
    p_lo, p_hi = _compress_even_128(p), _compress_even_128(p >> 1)
    dg, p_next = and_many(proto, [(BShare(p_hi), BShare(g_lo)), (BShare(p_hi), BShare(p_lo))])
    return g_hi ^ dg.data, p_next.data


def msb(proto: Protocol, x: AShare) -> BShare:
    """XOR sharing (in bit 0 of a uint64 word) of the most significant bit of x, i.e. [x < 0]
    for signed x."""
    parts = reduce_to_two(proto, proto.bool_summands(x))
    top_bit = ring_of(x.data).bits - 1
    if len(parts) == 1:
        return _low_words(proto.rshift_b(parts[0], top_bit))
    shape = x.shape
    a, b = (BShare(p.data.reshape(p.data.shape[0], -1)) for p in parts)
    top = _low_words(proto.rshift_b(proto.xor_ss(a, b), top_bit))
    # Shifting left by one makes the group generate of all k positions the carry into bit k-1.
    a1, b1 = proto.lshift_b(a, 1), proto.lshift_b(b, 1)
    g = proto.and_ss(a1, b1).data
    p = proto.xor_ss(a1, b1).data
    if top_bit == 127:
        g, p = _first_level_128(proto, g, p)
    width = 64
    while width > 1:
        half = width // 2
        g_lo, g_hi, p_lo, p_hi = _split_even_odd(g, p, width)
        if half > 1:
            both = _packed_and(proto, p_hi | (p_hi << U(half)), g_lo | (p_lo << U(half)), width)
            low_mask = U((1 << half) - 1)
            g, p = g_hi ^ (both & low_mask), both >> U(half)
        else:
            g = g_hi ^ _packed_and(proto, p_hi, g_lo, 1)
        width = half
    bit = proto.xor_ss(top, BShare(g))
    return BShare(bit.data.reshape(bit.data.shape[0], *shape))


# ----- A2B modulo 2^width with several elements per word -----------------------------------
def _field_mask(width: int, clear_low: int) -> np.uint64:
    """In every width-bit field of a word, the bits at positions >= clear_low."""
    per_word = 64 // width
    field = ((1 << width) - 1) ^ ((1 << clear_low) - 1)
    return U(sum(field << (i * width) for i in range(per_word)))


def a2b_low_bits(proto: Protocol, x: AShare, width: int) -> BShare:
    """XOR sharing of x mod 2^width (bits 0..width-1 of every word), for small width.

    The low bits of a sum depend only on the low bits of the summands, so 64 // width elements
    share one word and every AND moves width/64 of the bits a full-word adder would; shifts are
    masked so that carries never cross from one element's field into the next. For the same
    reason FM128 summands are cut to their low 64-bit word first: the result is uint64 words.
    """
    shape = x.shape
    low = U((1 << width) - 1)
    count = x.size
    summands = [
        BShare(_pack(_low_words(s).data.reshape(s.data.shape[0], -1) & low, width))
        for s in proto.bool_summands(x)
    ]
    while len(summands) > 2:
        a, b, c, *rest = summands
        s, carry = _csa(proto, a, b, c)
        summands = [s, proto.and_sp(carry, _field_mask(width, 1)), *rest]
    if len(summands) == 1:
        total = summands[0]
    else:
        total = _masked_adder(proto, summands[0], summands[1], width)
    data = _unpack(total.data, width, count)
    return BShare(data.reshape(data.shape[0], *shape))


def _masked_adder(proto: Protocol, a: BShare, b: BShare, width: int) -> BShare:
    """Kogge-Stone within width-bit fields."""
    g, p = proto.and_ss(a, b), proto.xor_ss(a, b)
    shift = 1
    while shift < width:
        mask = _field_mask(width, shift)
        g_shift = proto.and_sp(proto.lshift_b(g, shift), mask)
        if shift * 2 < width:
            p_shift = proto.and_sp(proto.lshift_b(p, shift), mask)
            dg, p = and_many(proto, [(p, g_shift), (p, p_shift)])
        else:
            dg = proto.and_ss(p, g_shift)
        g = proto.xor_ss(g, dg)
        shift *= 2
    carries = proto.and_sp(proto.lshift_b(g, 1), _field_mask(width, 1))
    return proto.xor_ss(proto.xor_ss(a, b), carries)
