"""ABY3: 3-party replicated secret sharing over Z_2^64 or Z_2^128, honest majority, no dealer.

Scheme: x = x_0 + x_1 + x_2 mod 2^k (k = 64 for FM64, 128 for FM128) and party i holds the
pair (x_i, x_{i+1}) (indices mod 3); boolean values use the same replication with XOR.
Multiplication is local up to a 3-out-of-3 sharing, re-randomised with a zero sharing and
re-shared by sending one word to the previous party (one round, one word per element per party).
Parties: exactly 3. Threat model: semi-honest, honest majority (at most one corrupted party);
no trusted dealer. Correlated randomness comes from pairwise PRG keys: key k_j is held by
parties j and j-1, so party i holds k_i and k_{i+1}.
References: Mohassel & Rindal, "ABY3: A Mixed Protocol Framework for Machine Learning", CCS 2018
(replicated sharing, multiplication, Share Truncation I, bit injection); Araki et al., CCS 2016
(zero sharing from pairwise keys).

Truncation (`trunc_mode`, chosen in `RuntimeConfig`; "auto", the default, is "exact"): see
`core.mpc.protocols.aby3_trunc`. "exact" is exact to one unit for |x| < 2^(k-2) (two-party
resharing, its modulus wrap from one AND of two locally known bits by an oblivious transfer:
one round, 32 bytes per element in all on FM64; fused with a product's resharing in
`mul_trunc` and `matmul_trunc`: 12 bytes per element from every party), so `exact_truncation` and
`wide_truncation` hold and kernels may truncate values near 2^60 as under SEMI2K. "local"
(opt-in) is ABY3's Share Truncation I: one word per element, but off by about 2^(k - m) with
probability |x| / 2^k per element, silently; kernels then keep truncation inputs small.
"""

from __future__ import annotations

import numpy as np

from core.comm import Link
from core.errors import ConfigError
from core.mpc.prg import PRG, fresh_seed
from core.mpc.protocols.aby3_trunc import Aby3Truncation
from core.mpc.protocols.base import TRUNC_MODES, Protocol, low_bits, received, word_ring
from core.mpc.ring import RING64, Ring
from core.mpc.shares import AShare, BShare


class Aby3(Aby3Truncation, Protocol):
    """One party of ABY3."""

    name = "ABY3"
    components = 2

    def __init__(
        self,
        link: Link,
        seed: int | None = None,
        trunc_mode: str = "exact",
        ring: Ring = RING64,
    ):
        super().__init__(link, ring)
        if self.world_size != 3:
            raise ValueError(f"ABY3 needs 3 parties, got {self.world_size}")
        if trunc_mode not in TRUNC_MODES:
            raise ConfigError(
                f"unknown ABY3 trunc_mode {trunc_mode!r}; choose one of {TRUNC_MODES}"
            )
        self.trunc_mode = trunc_mode
        self.exact_truncation = self.wide_truncation = trunc_mode == "exact"
        self.next = (self.rank + 1) % 3
        self.prev = (self.rank + 2) % 3
        own = fresh_seed() if seed is None else (seed * 65537 + self.rank).to_bytes(16, "little")
        self.link.send(self.prev, np.frombuffer(own, dtype=np.uint8))
        theirs = self.link.recv_like(self.next, np.frombuffer(own, np.uint8), "a pair key")
        self._keys = {self.rank: PRG(own), self.next: PRG(bytes(theirs))}
        self._own = PRG(fresh_seed() if seed is None else seed * 7919 + 104729 + self.rank)

    @property
    def public_slots(self) -> tuple[int, ...]:
        return {0: (0,), 1: (), 2: (1,)}[self.rank]

    def _zero(self, shape: tuple, xor: bool = False, ring: Ring | None = None) -> np.ndarray:
        ring = self.ring if ring is None else ring
        first = self._keys[self.rank].ring(shape, ring)
        second = self._keys[self.next].ring(shape, ring)
        return first ^ second if xor else first - second

    def _reshare(self, z: np.ndarray) -> np.ndarray:
        """From a 3-out-of-3 share z_i to the replicated pair (z_i, z_{i+1})."""
        self.link.send(self.prev, z)
        return np.stack([z, received(self.link.recv_like(self.next, z, "a reshared share"))])

    # ----- sharing and opening ----------------------------------------------------------
    def share(self, value: np.ndarray | None, owner: int, shape: tuple[int, ...]) -> AShare:
        o1, o2 = (owner + 1) % 3, (owner + 2) % 3
        if self.rank == owner:
            s0, s1 = self._keys[owner].ring(shape, self.ring), self._keys[o1].ring(shape, self.ring)
            s2 = self.ring.asarray(value).reshape(shape) - s0 - s1
            self.link.send(o1, s2)
            self.link.send(o2, s2)
            return AShare(np.stack([s0, s1]))
        like = np.empty(shape, self.ring.dtype)
        theirs = received(self.link.recv_like(owner, like, "a share of an input"))
        if self.rank == o1:
            return AShare(np.stack([self._keys[o1].ring(shape, self.ring), theirs]))
        return AShare(np.stack([theirs, self._keys[owner].ring(shape, self.ring)]))

    def _open(self, data: np.ndarray, xor: bool) -> np.ndarray:
        self.link.send(self.prev, data[1])
        missing = received(self.link.recv_like(self.next, data[1], "an opening"))
        return data[0] ^ data[1] ^ missing if xor else data[0] + data[1] + missing

    def reveal(self, x: AShare, to: int | None = None) -> np.ndarray | None:
        if to is None:
            return self._open(x.data, xor=False)
        if self.rank == (to + 1) % 3:
            self.link.send(to, x.data[1])
        if self.rank != to:
            return None
        theirs = self.link.recv_like((to + 1) % 3, x.data[1], "a share to reveal")
        return x.data[0] + x.data[1] + received(theirs)

    def reveal_b(self, x: BShare) -> np.ndarray:
        return self._open(x.data, xor=True)

    # ----- multiplication ---------------------------------------------------------------
    def mul_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(self._reshare(self._product(x, y)))

    def matmul_ss(self, x: AShare, y: AShare) -> AShare:
        return AShare(self._reshare(self._matrix_product(x, y)))

    def mul_trunc(self, x: AShare, y: AShare, bits: int) -> AShare:
        if self.trunc_mode == "local":
            return super().mul_trunc(x, y, bits)
        return self._trunc_product(self._product(x, y), bits)

    def matmul_trunc(self, x: AShare, y: AShare, bits: int) -> AShare:
        if self.trunc_mode == "local":
            return super().matmul_trunc(x, y, bits)
        return self._trunc_product(self._matrix_product(x, y), bits)

    def _product(self, x: AShare, y: AShare) -> np.ndarray:
        """This party's 3-out-of-3 share of x * y, re-randomised by a zero sharing."""
        (x0, x1), (y0, y1) = x.data, y.data
        return x0 * y0 + x0 * y1 + x1 * y0 + self._zero(x.shape)

    def _matrix_product(self, x: AShare, y: AShare) -> np.ndarray:
        """This party's 3-out-of-3 share of x @ y, re-randomised by a zero sharing."""
        (x0, x1), (y0, y1) = x.data, y.data
        z = self.ring.matmul(x0, y0 + y1) + self.ring.matmul(x1, y0)
        return z + self._zero(z.shape)

    def and_ss(self, x: BShare, y: BShare) -> BShare:
        (x0, x1), (y0, y1) = x.data, y.data
        z = (x0 & y0) ^ (x0 & y1) ^ (x1 & y0) ^ self._zero(x.shape, True, word_ring(x))
        return BShare(self._reshare(z))

    def trunc(self, x: AShare, bits: int) -> AShare:
        """Truncation in this instance's `trunc_mode` (see `core.mpc.protocols.aby3_trunc`)."""
        if self.trunc_mode == "local":
            return self._trunc_share_i(x, bits)
        return self._trunc_exact(x, bits)

    # ----- conversions ------------------------------------------------------------------
    def b2a_bit(self, b: BShare) -> AShare:
        """Bit injection: b = b_0 xor b_1 xor b_2 evaluated arithmetically in two rounds."""
        bits = self.ring.asarray(low_bits(b.data))
        u = [AShare(self._single(bits, j)) for j in range(3)]
        t = self.sub_ss(self.add_ss(u[0], u[1]), self._double(self.mul_ss(u[0], u[1])))
        return self.sub_ss(self.add_ss(t, u[2]), self._double(self.mul_ss(t, u[2])))

    def _double(self, x: AShare) -> AShare:
        return AShare(x.data << 1)

    def _single(self, data: np.ndarray, j: int) -> np.ndarray:
        """This party's pair for the sharing whose only non-zero component is component j."""
        out = np.zeros(data.shape, data.dtype)  # calloc: untouched zero pages are free
        if j == self.rank:
            out[0] = data[0]
        if j == self.next:
            out[1] = data[1]
        return out

    def rand_a(self, shape: tuple[int, ...]) -> AShare:
        return AShare(
            np.stack(
                [
                    self._keys[self.rank].ring(shape, self.ring),
                    self._keys[self.next].ring(shape, self.ring),
                ]
            )
        )

    def bool_summands(self, x: AShare) -> list[BShare]:
        return [BShare(self._single(x.data, j)) for j in range(3)]
