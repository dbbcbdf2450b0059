"""The one interface every MPC protocol implements, from one party's point of view.

A protocol instance belongs to one party: it owns that party's `Link`, PRG states and correlated
randomness, and only ever touches that party's shares. Kernels (`core.mpc.kernels`) are written
once against this interface, so REF2K, SEMI2K and ABY3 run the same kernel code.

Operands are ring tensors of the protocol's `ring` (`core.mpc.ring.Ring`: FM64 or FM128):
secret ones are `AShare` / `BShare`, public ones plain ring arrays. Protocol code is written
once for both rings: element-wise arithmetic uses numpy operators (which wrap in either ring),
constants are Python ints, and the ring supplies what operators cannot (arithmetic shift, most
significant bit, matrix product, random draws). Boolean shares may also hold uint64 words under
FM128 (the comparison circuits compress 128-bit words to 64-bit ones): AND triples and zero
sharings follow the words' ring (`word_ring`). Method names state operand visibility
(`mul_ss`: secret x secret, `mul_sp`: secret x public). Secret operands of `*_ss` methods must
have equal shapes (callers broadcast first);
public operands must broadcast to the secret's shape.

Linear operations are local and implemented here once: shares are stacked components and a
public constant is absorbed by the components listed in `public_slots`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from core.comm import Link
from core.mpc.ring import RING64, RING_DTYPE, Ring, ring_of
from core.mpc.ring128 import wrap
from core.mpc.shares import AShare, BShare

# The truncations a protocol instance runs (`RuntimeConfig.trunc_mode` resolves "auto" first):
# "exact" to one unit for |x| < 2^(k-2), or "local", probabilistic (SEMI2K, ABY3; opt-in).
TRUNC_MODES = ("local", "exact")


class Protocol(ABC):
    """Abstract protocol; see the module docstring."""

    name: str = "?"
    components: int = 1
    # False when `trunc` can fail with a large error, with probability ~|x| / 2^k (SEMI2K and
    # ABY3 with their opt-in local truncation): ordinary products are fine, large inputs are not.
    exact_truncation: bool = True
    # True when `trunc_wide` and `trunc_square` are exact to one unit for every |x| < 2^(k-2)
    # whatever `trunc` does (REF2K, SEMI2K, ABY3 by default). Kernels that buy precision with
    # extra fraction bits (inputs near 2^60) use `trunc_wide` when this holds and stay small
    # otherwise (ABY3 with local truncation).
    wide_truncation: bool = True

    def __init__(self, link: Link, ring: Ring = RING64):
        self.ring = ring
        self.link = link
        self.rank = link.rank
        self.world_size = link.world_size

    # ----- placement of public values (local) -------------------------------------------
    @property
    @abstractmethod
    def public_slots(self) -> tuple[int, ...]:
        """Components of this party that absorb a public constant (so the sum counts it once)."""

    def _place(self, value: np.ndarray) -> np.ndarray:
        value = self.ring.asarray(value)
        data = self.ring.zeros((self.components, *value.shape))
        for slot in self.public_slots:
            data[slot] = value
        return data

    def public_a(self, value: np.ndarray) -> AShare:
        """A trivial arithmetic sharing of a public value."""
        return AShare(self._place(value))

    def public_b(self, value: np.ndarray) -> BShare:
        """A trivial XOR sharing of public words."""
        return BShare(self._place(value))

    # ----- local arithmetic -------------------------------------------------------------
    def add_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(x.data + y.data)

    def sub_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(x.data - y.data)

    def neg(self, x: AShare) -> AShare:
        return AShare(-x.data)

    def add_sp(self, x: AShare, p: np.ndarray) -> AShare:
        p = np.broadcast_to(self.ring.asarray(p), x.shape)
        data = x.data.copy()
        for slot in self.public_slots:
            data[slot] += p
        return AShare(data)

    def mul_sp(self, x: AShare, p: np.ndarray) -> AShare:
        return AShare(x.data * self.ring.asarray(p))

    def matmul_sp(self, x: AShare, p: np.ndarray) -> AShare:
        return AShare(np.stack([self.ring.matmul(part, p) for part in x.data]))

    def matmul_ps(self, p: np.ndarray, x: AShare) -> AShare:
        return AShare(np.stack([self.ring.matmul(p, part) for part in x.data]))

    # ----- local boolean ----------------------------------------------------------------
    def xor_ss(self, x: BShare, y: BShare) -> BShare:
        return BShare(x.data ^ y.data)

    def xor_sp(self, x: BShare, p: np.ndarray) -> BShare:
        p = np.broadcast_to(word_ring(x).asarray(p), x.shape)
        data = x.data.copy()
        for slot in self.public_slots:
            data[slot] ^= p
        return BShare(data)

    def and_sp(self, x: BShare, p: np.ndarray) -> BShare:
        return BShare(x.data & word_ring(x).asarray(p))

    def lshift_b(self, x: BShare, bits: int) -> BShare:
        return BShare(x.data << word_ring(x).asarray(bits))

    def rshift_b(self, x: BShare, bits: int) -> BShare:
        return BShare(x.data >> word_ring(x).asarray(bits))

    # ----- interactive primitives -------------------------------------------------------
    @abstractmethod
    def share(self, value: np.ndarray | None, owner: int, shape: tuple[int, ...]) -> AShare:
        """Secret-share `value` (ring elements, only given at rank `owner`) of known shape."""

    @abstractmethod
    def reveal(self, x: AShare, to: int | None = None) -> np.ndarray | None:
        """Open `x` to every party (to=None) or only to rank `to` (others get None)."""

    @abstractmethod
    def reveal_b(self, x: BShare) -> np.ndarray:
        """Open XOR-shared words to every party."""

    @abstractmethod
    def mul_ss(self, x: AShare, y: AShare) -> AShare:
        """Element-wise ring product of two secrets (no truncation)."""

    @abstractmethod
    def matmul_ss(self, x: AShare, y: AShare) -> AShare:
        """Ring matrix product of two secrets (no truncation)."""

    @abstractmethod
    def and_ss(self, x: BShare, y: BShare) -> BShare:
        """Bitwise AND of two XOR-shared word tensors."""

    @abstractmethod
    def trunc(self, x: AShare, bits: int) -> AShare:
        """Signed x / 2^bits, probabilistically rounded (error at most one unit); |x| < 2^(bits-2)
        of the ring (2^62 on FM64, 2^126 on FM128).

        Unless `exact_truncation` holds, it may fail (a huge error) with probability about
        |x| / 2^k per element (k = 64 or 128); see the protocol's module docstring.
        """

    def mul_trunc(self, x: AShare, y: AShare, bits: int) -> AShare:
        """trunc(mul_ss(x, y), bits), the fixed-point product; ABY3 fuses the two (its
        product's resharing is replaced by the truncation's two-party resharing)."""
        return self.trunc(self.mul_ss(x, y), bits)

    def matmul_trunc(self, x: AShare, y: AShare, bits: int) -> AShare:
        """trunc(matmul_ss(x, y), bits), the fixed-point matrix product (fused under ABY3)."""
        return self.trunc(self.matmul_ss(x, y), bits)

    def trunc_wide(self, x: AShare, bits: int) -> AShare:
        """Like `trunc`, exact to one unit for every |x| < 2^(k-2) (2^62 on FM64, 2^126 on FM128)
        when `wide_truncation` holds.

        Costs what an exact truncation costs (one opened word per element under SEMI2K), so
        kernels call it only for inputs far above a product of two ordinary values.
        """
        return self.trunc(x, bits)

    def trunc_square(self, x: AShare, bits: int) -> tuple[AShare, AShare]:
        """(v, v * v) with v = trunc_wide(x, bits) and v * v its exact ring square (not truncated).

        Generic version: a truncation then a multiplication. SEMI2K overrides it with a fused
        protocol whose square costs no extra communication.
        """
        v = self.trunc_wide(x, bits)
        return v, self.mul_ss(v, v)

    def trunc_powers(self, x: AShare, plan: tuple[tuple[int, int], ...]) -> list[AShare]:
        """For each (bits, k) of `plan`: v^k (exact ring power) with v = trunc_wide(x, bits).

        Generic version: truncations then multiplications. SEMI2K overrides it with one opening
        for the whole plan (the dealer shares the powers of the masks).
        """
        out = []
        for bits, degree in plan:
            v = self.trunc_wide(x, bits)
            power = v
            for _ in range(degree - 1):
                power = self.mul_ss(power, v)
            out.append(power)
        return out

    @abstractmethod
    def b2a_bit(self, b: BShare) -> AShare:
        """Arithmetic sharing (0 or 1) of bit 0 of XOR-shared words."""

    @abstractmethod
    def rand_a(self, shape: tuple[int, ...]) -> AShare:
        """A fresh uniformly random secret nobody knows."""

    @abstractmethod
    def bool_summands(self, x: AShare) -> list[BShare]:
        """XOR sharings of words whose ring sum is x (local; input to the A2B adder)."""

    # ----- helpers for subclasses -------------------------------------------------------
    def _broadcast_open(self, payload: np.ndarray) -> list[np.ndarray]:
        """Send `payload` to every other party; return every party's payload by rank."""
        self.link.send_all(payload)
        out = []
        for peer in range(self.world_size):
            out.append(
                payload if peer == self.rank else self.link.recv_like(peer, payload, "an opening")
            )
        return out


def word_ring(x: BShare) -> Ring:
    """The ring of a boolean share's words (uint64 words are FM64's, whatever the protocol)."""
    return ring_of(x.data)


def low_bits(words: np.ndarray) -> np.ndarray:
    """Bit 0 of each word (of either ring) as uint64 0/1."""
    return ring_of(words).low_word(words) & RING_DTYPE(1)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Bit 0 of each word, packed 8 per byte for the wire."""
    return np.packbits(np.ravel(low_bits(bits)).astype(np.uint8))


def unpack_bits(packed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """uint64 0/1 words from `pack_bits`' bytes."""
    count = int(np.prod(shape, dtype=np.int64))
    return np.unpackbits(packed, count=count).astype(RING_DTYPE).reshape(shape)


def received(value) -> np.ndarray:
    """An array from a link as a ring array (FM128 records regain their operators)."""
    return wrap(value)
