"""ABY3's truncations: exact (the default) and ABY3's probabilistic Share Truncation I (opt-in).

Both compute y ~ x / 2^m for a replicated x = x_0 + x_1 + x_2 mod L = 2^k (k = 64 or 128),
party i holding (x_i, x_{i+1}); both output a fresh replicated sharing. Parties: the 3 ABY3
parties. Threat model: semi-honest, honest majority (at most one corrupted party), no dealer:
where a party helps as in a dealer's role, it is one of the three and colludes with neither
other party by assumption.

"exact" (`trunc_mode` "exact" or "auto"): exact to one unit, y = floor(x / 2^m) or
floor(x / 2^m) + 1, for every -2^(k-2) <= x < 2^(k-2) (the engine's truncation contract; see
`core.mpc.precision`), and exactly x / 2^m for multiples of 2^m. Roles rotate per call
(pivot a = call count mod 3, b = a + 1, helper h = a + 2), so every party does each job.
1. Two-party resharing (local): u0 = x_a + x_{a+1} at a, u1 = x_h at b (b holds x_{b+1} = x_h);
   read as unsigned integers in [0, L), u0 + u1 = x + MW L with MW in {0, 1, 2} ("modulus
   wrap": the wrap of the sum plus the sign of x).
2. MW from one AND (Guo et al.'s geometric observation, in the single-AND form of SPU's
   `TruncAPr2`): for -L/4 <= x < L/4,
   MW = [u0 >= L/4] + [(u0 - L/4) mod L >= L/2] [u1 >= L/2].
   Case analysis on u0 (x1 = u1 = x - u0 + MW L must lie in [0, L)): for u0 < L/4, MW is 0
   with u1 < L/4 or 1 with u1 > L/2, so MW = [u1 >= L/2] and the first factor is 1; for
   L/4 <= u0 < 3L/4, x - u0 lies in (-L, 0], so MW = 1 (u1 = 0 only when x - u0 = 0, which
   needs x = u0 >= L/4, excluded) and the first factor is 0; for u0 >= 3L/4, MW is 1 with
   u1 < L/2 or 2 with u1 > 3L/4, so MW = 1 + [u1 >= L/2]. Each factor is a bit its party
   computes alone (from msb of u0 - L/4, u1 and the two top bits of u0).
3. The product of a's bit p and b's bit q, shared additively mod 2^w (w = 32 for m <= 32, 64
   for m <= 64, else the ring's k), with h as the helper of Beaver's private multiplication
   (SPU's `PrivateMul`): h draws alpha, g_a from the key it shares with a and beta, g_b from
   the key it shares with b, and sends d = alpha beta - g_a - g_b to b. a sends p + alpha to
   b, b sends q + beta to a (one round, together with d); then
   t_a = p (q + beta) + g_a and t_b = g_b + d - beta (p + alpha) sum to p q.
   Only MW mod 2^m matters below (it is multiplied by 2^(k - m)), hence w >= m suffices.
4. Local truncation of the halves: with u = q 2^m + r for each half,
   y_a = (u0 >> m) - (t_a + [u0 >= L/4]) 2^(k - m),
   y_b = (u1 >> m) + [r1 != 0] - t_b 2^(k - m)     (logical shifts; a ceiling for u1).
   Then y_a + y_b = floor(x / 2^m) + [r1 != 0] - [r0 + r1 >= 2^m], which is floor or
   floor + 1 (r0 + r1 >= 2^m implies r1 != 0), and exact for multiples of 2^m (then r1 = 0 or
   r0 + r1 = 2^m).
5. Replicated output (one round): z_a drawn from the key of a and h, z_h from the key of b
   and h; a sends y_a - z_a to b, b sends y_b - z_h to a, both set z_b = the sum of the two.
   a holds (z_a, z_b), b (z_b, z_h), h (z_h, z_a).
Views: a receives q + beta and y_b - z_h, b receives p + alpha, d (masked by g_a) and
y_a - z_a, each masked by a fresh PRG word the receiver does not hold; h receives nothing.
So no single party learns anything about x. Cost per element and call, for m <= 32: a and
b send one 32-bit word and one ring word each, h one 32-bit word: 28 bytes in all on FM64
(44 on FM128; 64-bit count words for 32 < m <= 64: 40 bytes on FM64), two rounds (the
helper's word travels in the first). With the rotation each party sends 28 / 3 = 9.3 bytes
per truncated element on FM64 on average, against Share Truncation I's 8 bytes from party 0
alone and one round.

Fixed-point products (`mul_trunc`, `matmul_trunc`) fuse the multiplication with the
truncation. A product ends with a 3-out-of-3 sharing z_0 + z_1 + z_2 (masked by a zero
sharing); instead of resharing it (one ring word from every party) the helper sends z_h to b
together with its correction d, so step 1 becomes u0 = z_a, u1 = z_b + z_h. z_h is exactly
the word h would have sent b in the resharing (masked by the zero sharing's word from the key
of a and h, which b does not hold), so b's view grows by nothing. Cost per output element:
12 bytes from every party on FM64 (a and b: a count word and a ring word; h: a ring word
and a count word), 36 in all, against 24 + 28 = 52 for a product then a truncation and
16 + 8 + 8 = 32 for Share Truncation I's product; latency: three one-way message delays
(h to b, b to a, a to b), as a product then a truncation.

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
    _trunc_calls: int = 0

    # ----- "exact" --------------------------------------------------------------------
    def _trunc_exact(self, x: AShare, bits: int) -> AShare:
        """Exact to one unit for -2^(k-2) <= x < 2^(k-2); see the module docstring."""
        a, b, _h = roles = self._next_roles()
        half = {a: x.data[0] + x.data[1], b: x.data[1]}.get(self.rank)  # step 1
        return self._trunc_halves(half, x.shape, bits, roles, product=False)

    def _trunc_product(self, z: np.ndarray, bits: int) -> AShare:
        """A product's truncation from this party's 3-out-of-3 share z (zero-shared).

        Replaces the product's resharing (a word from every party) by one word from the
        helper: h sends z_h to b with its correction, so a holds u0 = z_a and b u1 = z_b + z_h
        (z_h is masked for b by the zero sharing's word from the key of a and h, as in a
        resharing). a's bit goes out at once; b's waits for h's word.
        """
        return self._trunc_halves(z, z.shape, bits, self._next_roles(), product=True)

    def _next_roles(self) -> tuple[int, int, int]:
        """(pivot a, partner b, helper h) of the next exact truncation (rotating)."""
        pivot = self._trunc_calls % 3
        self._trunc_calls += 1
        return pivot, (pivot + 1) % 3, (pivot + 2) % 3

    def _trunc_halves(self, half, shape: tuple, bits: int, roles: tuple, product: bool):
        """Steps 2-5 from this party's half (u0 at a, u1 or z_b at b, z_h or None at h)."""
        a, b, h = roles
        if self.rank == h:
            return self._exact_helper(shape, bits, a, b, half if product else None)
        if self.rank == a:
            return self._exact_pivot(half, shape, bits, b)
        return self._exact_partner(half, shape, bits, a, h, product)

    def _exact_helper(self, shape: tuple, bits: int, a: int, b: int, carry) -> AShare:
        """h: the private multiplication's correction (and z_h, for a product) to b, then its
        two output components."""
        h = self.rank
        alpha, g_a = self._count_words(a, shape, bits), self._count_words(a, shape, bits)
        beta, g_b = self._count_words(h, shape, bits), self._count_words(h, shape, bits)
        correction = alpha * beta - g_a - g_b
        self.link.send(b, correction if carry is None else [carry, correction])
        z_a = self._keys[a].ring(shape, self.ring)
        z_h = self._keys[h].ring(shape, self.ring)
        return AShare(np.stack([z_h, z_a]))

    def _exact_pivot(self, u0: np.ndarray, shape: tuple, bits: int, b: int) -> AShare:
        """a: holds u0; its output pair is (z_a, z_b)."""
        ring, a = self.ring, self.rank
        quarter = ring.low_word(u0 >> (ring.bits - 2))  # which quarter of [0, L): 0..3
        # [(u0 - L/4) mod L >= L/2] is "first or last quarter": (quarter + 1) & 2 == 0
        p = self._as_count(((quarter + 1) & 2) == 0, bits)
        alpha, g_a = self._count_words(a, shape, bits), self._count_words(a, shape, bits)
        self.link.send(b, p + alpha)
        t = p * received(self.link.recv(b)) + g_a
        t += self._as_count(quarter != 0, bits)  # [u0 >= L/4]
        y = (u0 >> bits) - self._lift(t, bits)
        z_a = self._keys[a].ring(shape, ring)
        return AShare(np.stack([z_a, self._exchange_half(b, y - z_a)]))

    def _exact_partner(self, u1, shape: tuple, bits: int, a: int, h: int, product: bool):
        """b: holds u1 (for a product, z_b until h's z_h arrives); its output pair is
        (z_b, z_h)."""
        ring = self.ring
        beta, g_b = self._count_words(h, shape, bits), self._count_words(h, shape, bits)
        if product:
            z_h, d = (received(part) for part in self.link.recv(h))
            u1 = u1 + z_h
        self.link.send(a, self._as_count(ring.msb(u1), bits) + beta)  # q = [u1 >= L/2]
        if not product:
            d = received(self.link.recv(h))
        t = g_b + d - beta * received(self.link.recv(a))
        y = (u1 >> bits) + self._low_bits_nonzero(u1, bits)  # ceil(u1 / 2^m)
        y -= self._lift(t, bits)
        z_h = self._keys[h].ring(shape, ring)
        return AShare(np.stack([self._exchange_half(a, y - z_h), z_h]))

    def _exchange_half(self, peer: int, mine: np.ndarray) -> np.ndarray:
        """z_b = (y_a - z_a) + (y_b - z_h), from one word each way between a and b."""
        self.link.send(peer, mine)
        return mine + received(self.link.recv(peer))

    # words of Z_2^w for the wrap count (w >= m: see step 3)
    def _count_words(self, key: int, shape: tuple, bits: int):
        """Uniform words of the wrap count's ring, from the pair key `key`."""
        if bits <= 32:
            return self._keys[key].words32(shape)
        return self._keys[key].ring(shape, RING64 if bits <= 64 else self.ring)

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
            return AShare(np.stack([received(self.link.recv(0)), y2]))
        return AShare(np.stack([y2, self._keys[0].ring(x.shape, ring)]))
