"""ABY3's truncations: exact (the default) and ABY3's probabilistic Share Truncation I (opt-in).

Both compute y ~ x / 2^m for a replicated x = x_0 + x_1 + x_2 mod L = 2^k (k = 64 or 128),
party i holding (x_i, x_{i+1}); both output a replicated sharing of y whose two components at
each party, like everything it receives, are uniform or functions of its own shares and of
uniform values it learns, so independent of x. Parties: the 3 ABY3 parties. Threat model:
semi-honest, honest majority (at most one corrupted party), no dealer: where a party helps as
in a dealer's role, it is one of the three and colludes with neither other party by assumption.

"exact" (`trunc_mode` "exact" or "auto"): exact to one unit, y = floor(x / 2^m) or
floor(x / 2^m) + 1, for every -2^(k-2) <= x < 2^(k-2) (the engine's truncation contract; see
`core.mpc.precision`), and exactly x / 2^m for multiples of 2^m. Roles rotate per call
(pivot a = call count mod 3, b = a + 1, h = a + 2), so every party does each job.
1. Two-party resharing (local): u0 = x_a + x_{a+1} at a, u1 = x_h at b and h (b holds
   (x_b, x_h), h holds (x_h, x_a)); read as unsigned integers in [0, L),
   u0 + u1 = x + MW L with MW in {0, 1, 2} ("modulus wrap": the wrap of the sum plus the sign
   of x).
2. MW from one AND (Guo et al.'s geometric observation, in the single-AND form of SPU's
   `TruncAPr2`): for -L/4 <= x < L/4,
   MW = [u0 >= L/4] + p q,   p = [(u0 - L/4) mod L >= L/2],   q = [u1 >= L/2].
   Case analysis on u0 (u1 = x - u0 + MW L must lie in [0, L)): for u0 < L/4, MW is 0 with
   u1 < L/4 or 1 with u1 > L/2, so MW = [u1 >= L/2] and p = 1; for L/4 <= u0 < 3L/4,
   x - u0 lies in (-L, 0], so MW = 1 (u1 = 0 only when x - u0 = 0, which needs x = u0 >= L/4,
   excluded) and p = 0; for u0 >= 3L/4, MW is 1 with u1 < L/2 or 2 with u1 > 3L/4, so
   MW = 1 + [u1 >= L/2] and p = 1. p and [u0 >= L/4] come from u0's top two bits (p: the first
   or last quarter), q from u1's top bit.
3. p q shared additively mod 2^w (w = 32 for m <= 32, 64 for m <= 64, else the ring's k; only
   MW mod 2^m matters, since it is multiplied by 2^(k - m)), by an oblivious transfer that b
   and h, who both know q, receive at once (ABY3's three-party OT, doubled): a draws a private
   rho and offers M_j = j p - rho for j = 0, 1. To b it sends M_j + w_j (pads w from the key
   of a and h), to h M_j + w'_j (pads w' from the key of a and b); h sends b the pad w_q, b
   sends h the pad w'_q. All four messages depend on nothing received: one round. b and h
   both get t = M_q = p q - rho; a keeps rho + [u0 >= L/4], so the shares sum to MW.
4. Local truncation of the halves: with u = q 2^m + r for each half,
   y_a = (u0 >> m) - (rho + [u0 >= L/4]) 2^(k - m)   at a,
   y_bh = (u1 >> m) + [r1 != 0] - t 2^(k - m)       at b and h (logical shifts; a ceiling).
   Then y_a + y_bh = floor(x / 2^m) + [r1 != 0] - [r0 + r1 >= 2^m], which is floor or
   floor + 1 (r0 + r1 >= 2^m implies r1 != 0), and exact for multiples of 2^m (then r1 = 0 or
   r0 + r1 = 2^m).
5. Replicated output, in the same round: z_a = sigma drawn from the key of a and h,
   z_b = y_a - sigma (a sends it to b with its transfer), z_h = y_bh. a holds (z_a, z_b),
   b (z_b, z_h), h (z_h, z_a).
Views: b receives M_0 + w_0, M_1 + w_1, w_q and y_a - sigma; h receives M_0 + w'_0,
M_1 + w'_1 and w'_q; a receives nothing. The other offer stays masked by a pad the receiver
lacks, the chosen one by rho (private to a), y_a - sigma by sigma: no single party learns
anything about x (and b's and h's pairs are functions of what they hold and t, uniform for
them). Cost per element and call, for m <= 32: a sends four 32-bit words and one ring word,
b and h one 32-bit word each: 32 bytes in all on FM64 (48 on FM128; 64-bit count words for
32 < m <= 64: 56 bytes on FM64), one round. With the rotation each party sends 32 / 3 = 10.7
bytes per truncated element on FM64 on average, against Share Truncation I's 8 bytes from
party 0 alone, also one round.

Fixed-point products (`mul_trunc`, `matmul_trunc`) fuse the multiplication with the
truncation. A product ends with a 3-out-of-3 sharing z_0 + z_1 + z_2 (masked by a zero
sharing). Instead of resharing it (one ring word from every party), h sends z_h to b, so
u0 = z_a at a and u1 = z_b + z_h at b only; z_h is exactly the word h would have sent b in the
resharing (masked by the zero sharing's word from the key of a and h, which b lacks). With q
at b alone, p q comes from Beaver's private multiplication with h as helper (SPU's
`PrivateMul`): h draws alpha, g_a from the key of a and h and beta, g_b from the key of b and
h, and sends d = alpha beta - g_a - g_b to b with z_h; a sends p + alpha to b, b sends
q + beta to a; t_a = p (q + beta) + g_a and t_b = g_b + d - beta (p + alpha) sum to p q. Step
4 gives y_a and y_b, and the output is reshared: z_a from the key of a and h, z_h from the key
of b and h, a sends y_a - z_a to b, b sends y_b - z_h to a, both set z_b to their sum. Views:
a receives q + beta and y_b - z_h, b receives z_h, p + alpha, d (masked by g_a) and y_a - z_a,
each masked by a word the receiver lacks; h receives nothing. Cost per output element: 12
bytes from every party on FM64 (a and b: a count word and a ring word; h: a ring word and a
count word), 36 in all, against 24 + 32 = 56 for a product then a truncation and
16 + 8 + 8 = 32 for Share Truncation I's product; latency: three one-way message delays
(h to b, b to a, a to b), one more than a product then a one-round truncation, for a third
less traffic.

"local" (`trunc_mode="local"`, explicit opt-in): ABY3's Share Truncation I. x becomes a
two-party sharing (x_0 + x_1 at party 0, x_2 at parties 1 and 2), both halves are shifted
locally (party 0 floors its half, parties 1 and 2 take the ceiling of theirs) and party 0
re-shares its half with one message: one ring word from party 0 per element, one round. As
SecureML's local truncation (see `core.mpc.protocols.semi2k`, whose derivation applies with
x_2 as the uniform share) it fails, off by 2^(k - m) units (+-1), when x_0 + x_1 = x - x_2
leaves the signed range: with probability |x| / 2^k per element, 2^-28 for a product of two
values near 1 with f = 18 on FM64 (measured by tests/core/mpc/test_mpc_aby3_truncation.py).
Failures are silent, hence "exact" by default.

References: Mohassel & Rindal, "ABY3: A Mixed Protocol Framework for Machine Learning",
CCS 2018 (Share Truncation I); Guo, Peng, Xue, Peng, Liu, Liu & Hu, "Improved Secure Two-party
Computation from a Geometric Perspective", USENIX Security 2025 (MW from two local tests and an
AND); SecretFlow SPU, libspu/mpc/aby3/arithmetic.cc (`TruncAPr2`, `PrivateMul`: the L/4
single-AND variant with the third party as helper, and SPU's default ABY3 truncation).
"""

from __future__ import annotations

import numpy as np

from core.comm import Link
from core.mpc.prg import PRG
from core.mpc.protocols.base import received
from core.mpc.ring import RING64, Ring
from core.mpc.shares import AShare

_WORD32 = np.uint32


class Aby3Truncation:
    """ABY3's truncations as a mixin of `Aby3` (uses its link, ring, rank and pair keys)."""

    link: Link
    ring: Ring
    rank: int
    _keys: dict[int, PRG]
    _own: PRG  # this party's private randomness
    _trunc_calls: int = 0

    # ----- "exact" --------------------------------------------------------------------
    def _trunc_exact(self, x: AShare, bits: int) -> AShare:
        """Exact to one unit for -2^(k-2) <= x < 2^(k-2), one round; see the module docstring."""
        a, b, h = self._next_roles()
        if self.rank == a:
            return self._transfer_pivot(x.data[0] + x.data[1], x.shape, bits, b, h)
        u1 = x.data[1] if self.rank == b else x.data[0]  # x_h: b holds (x_b, x_h), h (x_h, x_a)
        return self._transfer_receiver(u1, x.shape, bits, a, b, h)

    def _transfer_pivot(self, u0: np.ndarray, shape: tuple, bits: int, b: int, h: int) -> AShare:
        """a: offers M_j = j p - rho to b and h under two pairs of pads; keeps rho."""
        ring, a = self.ring, self.rank
        quarter = ring.low_word(u0 >> (ring.bits - 2))  # which quarter of [0, L): 0..3
        p = self._as_count(((quarter + 1) & 2) == 0, bits)  # first or last quarter
        rho = self._count_words(self._own, shape, bits)
        offers = (-rho, p - rho)
        pads_h = [self._count_words(self._keys[a], shape, bits) for _ in offers]  # a and h
        pads_b = [self._count_words(self._keys[b], shape, bits) for _ in offers]  # a and b
        sigma = self._keys[a].ring(shape, ring)
        y = (u0 >> bits) - self._lift(rho + self._as_count(quarter != 0, bits), bits)
        self.link.send(b, [offers[0] + pads_h[0], offers[1] + pads_h[1], y - sigma])
        self.link.send(h, [offers[0] + pads_b[0], offers[1] + pads_b[1]])
        return AShare(np.stack([sigma, y - sigma]))

    def _transfer_receiver(self, u1, shape: tuple, bits: int, a: int, b: int, h: int) -> AShare:
        """b or h: hands the other receiver its pad for q, receives M_q, truncates u1."""
        ring = self.ring
        q = ring.msb(u1).astype(bool)
        # this party holds the pads of the other receiver's offers: b those from the key of
        # a and b (for h), h those from the key of a and h (for b)
        other, key = (h, self._keys[b]) if self.rank == b else (b, self._keys[a])
        pads = [self._count_words(key, shape, bits) for _ in range(2)]
        sigma = self._keys[a].ring(shape, ring) if self.rank == h else None  # after the pads
        self.link.send(other, np.where(q, pads[1], pads[0]))
        like = pads + ([u1] if self.rank == b else [])  # b also receives its output word
        offers = [received(part) for part in self.link.recv_like(a, like, "truncation offers")]
        pad = self.link.recv_like(other, pads[0], "a truncation pad")
        t = np.where(q, offers[1], offers[0]) - received(pad)
        y = (u1 >> bits) + self._low_bits_nonzero(u1, bits) - self._lift(t, bits)
        if self.rank == b:
            return AShare(np.stack([offers[2], y]))
        return AShare(np.stack([y, sigma]))

    def _trunc_product(self, z: np.ndarray, bits: int) -> AShare:
        """A product's truncation from this party's 3-out-of-3 share z (zero-shared), with
        Beaver's private multiplication for p q (see the module docstring)."""
        a, b, h = self._next_roles()
        if self.rank == h:
            return self._product_helper(z, bits, a, b)
        if self.rank == a:
            return self._product_pivot(z, bits, b)
        return self._product_partner(z, bits, a, h)

    def _next_roles(self) -> tuple[int, int, int]:
        """(pivot a, b, h) of the next exact truncation (rotating)."""
        pivot = self._trunc_calls % 3
        self._trunc_calls += 1
        return pivot, (pivot + 1) % 3, (pivot + 2) % 3

    def _product_helper(self, z_h: np.ndarray, bits: int, a: int, b: int) -> AShare:
        """h: z_h and the private multiplication's correction to b; its pair (z_h', z_a')."""
        h, shape = self.rank, z_h.shape
        alpha, g_a = (self._count_words(self._keys[a], shape, bits) for _ in "ag")
        beta, g_b = (self._count_words(self._keys[h], shape, bits) for _ in "bg")
        self.link.send(b, [z_h, alpha * beta - g_a - g_b])
        z_a = self._keys[a].ring(shape, self.ring)
        return AShare(np.stack([self._keys[h].ring(shape, self.ring), z_a]))

    def _product_pivot(self, u0: np.ndarray, bits: int, b: int) -> AShare:
        """a: u0 = z_a; its output pair is (z_a', z_b')."""
        ring, a, shape = self.ring, self.rank, u0.shape
        quarter = ring.low_word(u0 >> (ring.bits - 2))  # which quarter of [0, L): 0..3
        p = self._as_count(((quarter + 1) & 2) == 0, bits)  # first or last quarter
        alpha, g_a = (self._count_words(self._keys[a], shape, bits) for _ in "ag")
        self.link.send(b, p + alpha)
        t = p * received(self.link.recv_like(b, alpha, "a masked wrap bit")) + g_a
        t += self._as_count(quarter != 0, bits)  # [u0 >= L/4]
        y = (u0 >> bits) - self._lift(t, bits)
        z_a = self._keys[a].ring(shape, ring)
        return AShare(np.stack([z_a, self._exchange_half(b, y - z_a)]))

    def _product_partner(self, z_b: np.ndarray, bits: int, a: int, h: int) -> AShare:
        """b: u1 = z_b + z_h once h's word arrives; its output pair is (z_b', z_h')."""
        ring, shape = self.ring, z_b.shape
        beta, g_b = (self._count_words(self._keys[h], shape, bits) for _ in "bg")
        parts = self.link.recv_like(h, [z_b, beta], "a product's truncation words")
        z_h, d = (received(part) for part in parts)
        u1 = z_b + z_h
        self.link.send(a, self._as_count(ring.msb(u1), bits) + beta)  # q = [u1 >= L/2]
        t = g_b + d - beta * received(self.link.recv_like(a, beta, "a masked wrap bit"))
        y = (u1 >> bits) + self._low_bits_nonzero(u1, bits)  # ceil(u1 / 2^m)
        y -= self._lift(t, bits)
        z_h = self._keys[h].ring(shape, ring)
        return AShare(np.stack([self._exchange_half(a, y - z_h), z_h]))

    def _exchange_half(self, peer: int, mine: np.ndarray) -> np.ndarray:
        """z_b = (y_a - z_a) + (y_b - z_h), from one word each way between a and b."""
        self.link.send(peer, mine)
        return mine + received(self.link.recv_like(peer, mine, "a truncated share"))

    # words of Z_2^w for the wrap count (w >= m: see step 3)
    def _count_words(self, prg: PRG, shape: tuple, bits: int):
        """Uniform words of the wrap count's ring from `prg` (a pair key or a private one)."""
        if bits <= 32:
            return prg.words32(shape)
        return prg.ring(shape, RING64 if bits <= 64 else self.ring)

    def _as_count(self, bit: np.ndarray, bits: int):
        """0/1 values (bool or uint64) as elements of the wrap count's ring."""
        if bits <= 32:
            return bit.astype(_WORD32)
        return bit.astype(np.uint64) if bits <= 64 else self.ring.asarray(bit.astype(np.uint64))

    def _lift(self, t, bits: int) -> np.ndarray:
        """t 2^(k - m) in the ring for a wrap-count share t (only t mod 2^m matters)."""
        if t.dtype != self.ring.dtype:
            t = self.ring.asarray(t.astype(np.uint64))
        return t << (self.ring.bits - bits)

    def _low_bits_nonzero(self, u: np.ndarray, bits: int) -> np.ndarray:
        """[u mod 2^m != 0] as ring elements."""
        ring = self.ring
        if bits <= 64:
            low = ring.low_word(u) & np.uint64((1 << bits) - 1)
            return ring.asarray((low != 0).astype(np.uint64))
        low = u << (ring.bits - bits)  # r 2^(k - m): zero iff r is, and then so is -low
        return ring.asarray(ring.msb(low | -low))

    # ----- "local" --------------------------------------------------------------------
    def _trunc_share_i(self, x: AShare, bits: int) -> AShare:
        """Share Truncation I: (x_0 + x_1) >> m at party 0, -((-x_2) >> m) at 1 and 2."""
        ring = self.ring
        if self.rank == 0:
            y0 = self._keys[0].ring(x.shape, ring)  # k_0 is shared by parties 0 and 2
            y1 = ring.arshift(x.data[0] + x.data[1], bits) - y0
            self.link.send(1, y1)
            return AShare(np.stack([y0, y1]))
        s2 = x.data[1] if self.rank == 1 else x.data[0]
        y2 = -ring.arshift(-s2, bits)
        if self.rank == 1:
            return AShare(np.stack([received(self.link.recv_like(0, y2, "a truncated share")), y2]))
        return AShare(np.stack([y2, self._keys[0].ring(x.shape, ring)]))
