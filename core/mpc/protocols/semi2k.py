"""SEMI2K: n-party additive secret sharing over Z_2^64 or Z_2^128 with a trusted dealer.

Scheme: x = sum_i x_i mod 2^k, party i holds x_i (one component); k = 64 for FM64, 128 for
FM128 (the protocol's `ring`; every formula below holds with 64 read as k, 62 as k - 2 and 63
as k - 1). Boolean values are XOR shared the same way on words (ring words, or the uint64
words the comparison circuits compress them to; AND triples follow the words' ring).
Parties: n >= 2, plus a trusted dealer that only produces correlated randomness.
Threat model: semi-honest (honest-but-curious) parties, any n-1 of which may collude; the dealer
is semi-honest and must not collude with any party. No security against malicious behaviour.
Where the dealer lives decides whom it trusts (`core.device.spu_config`, SPU's `beaver_type`):
- a simulation's dealer thread (`core.mpc.correlated.dealer`): every party is a thread of one
  process, so all of them trust that process's operator anyway;
- a dealer process, `TrustedThirdParty` (`core.mpc.correlated.remote`): a separate node that
  sees only requested shapes, never inputs, shares or opened values; it must collude with no
  party (with one, it could open that party's peers' secrets);
- a trusted first party, `TrustedFirstParty` (`core.mpc.correlated.first_party`, SecretFlow
  SPU's default; here a deployment asks for a source explicitly): one SPU party generates every
  correlation, so it *could* recover every value that is multiplied or truncated; the other
  parties must trust it not to look. Coalitions without it keep the guarantee above.
A pipeline node computing on SEMI2K shares states which of these it trusts in its log (its
threat-model line).
References: Beaver, "Efficient multiparty protocols using circuit randomization", CRYPTO 1991
(multiplication triples); Mohassel & Zhang, "SecureML", S&P 2017 (matrix triples, fixed point);
Escudero, Ghosh, Keller, Rachuri & Scholl, "Improved primitives for MPC over mixed
arithmetic-binary circuits", CRYPTO 2020 (probabilistic truncation with a wrap bit).

Truncation (`trunc_mode`, chosen in `RuntimeConfig`; "auto", the default, is "exact": the
failure rate of "local" below is far too high for pipelines over millions of elements, and a
wrong element would be silent):
- "local" (2 parties only, explicit opt-in; SecureML's Theorem 1, SPU's 2-party SEMI2K
  default): no message.
  Rank 0 shifts its share arithmetically, rank 1 computes -((-x_1) >> d). Write w = -x_1 read
  as a signed 64-bit integer; x_1 is uniform (a PRG draw or a Beaver output masked by the
  dealer's c), so w is uniform on [-2^63, 2^63) and independent of x, and x_0 = x + w mod 2^64.
  If x + w does not leave [-2^63, 2^63), x_0 read as signed is exactly x + w and
  floor((x + w) / 2^d) - floor(w / 2^d) is floor(x / 2^d) or floor(x / 2^d) + 1: error below
  one unit, as for "exact". Otherwise the result is off by 2^(64 - d). For x >= 0 that happens
  iff w >= 2^63 - x, for x < 0 iff w < -2^63 - x: |x| values of w out of 2^64, so the failure
  probability is exactly |x| / 2^64 per element (2^-28 for a product of two values near 1 with
  f = 18; SecureML bounds it by 2^(l_x + 1 - 64) for |x| < 2^l_x), independently per element.
  Both output shares are re-masked with a fresh word from the pair's PRG, so rank 1's share is
  uniform for the next truncation even after local operations on a truncated value (without
  it, a share shrunk by the shift would change the probability). A trivial sharing of a
  public value has w = 0 and never fails. `exact_truncation` is then False. The argument does
  not extend to n > 2 shares (each share's shift loses its own wrap, and the wraps of n - 1
  uniform shares are likely), so n > 2 parties always use "exact".
- "exact" (any n): Escudero et al.'s truncation, exact to one unit for |x| < 2^62, one opened
  ring word per element and party. `trunc_wide`, `trunc_square` and `trunc_powers` always use
  it, so kernels that deliberately truncate values near 2^60 (exp, polynomials with extra
  fraction bits) stay exact in both modes. `trunc_square` and `trunc_powers` also return
  powers of the truncated value without further messages: with c = x + 2^62 + r opened, the
  output is P + s with P public and s one of two masks the dealer knows, so it shares the
  masks' powers and (P + s)^k expands locally.
Party-to-party traffic per element with 2 parties: multiply 16 bytes ("local") or 24
("exact"); an m x k by k x n matmul 8 (mk + kn) or 8 (mk + kn + mn) bytes per party. FM128
doubles every ring word (16 bytes); comparison circuits after their first level run on 64-bit
words in both rings, so a comparison costs about twice FM64's, not four times.

Inputs are shared without interaction: every pair of parties holds a PRG seed, the non-owners'
shares are drawn from the seed they share with the owner, and the owner keeps the difference.
"""

from __future__ import annotations

import math

import numpy as np

from core.comm import Link
from core.errors import ConfigError
from core.mpc.correlated import TripleProvider
from core.mpc.correlated.provider import prepare
from core.mpc.prg import PRG, SEED_BYTES, fresh_seed, seed_key
from core.mpc.protocols.base import (
    TRUNC_MODES,
    Protocol,
    low_bits,
    pack_bits,
    received,
    unpack_bits,
    word_ring,
)
from core.mpc.ring import RING64, Ring, matmul_shape
from core.mpc.shares import AShare, BShare


class Semi2k(Protocol):
    """One party of SEMI2K."""

    name = "SEMI2K"
    components = 1

    def __init__(
        self,
        link: Link,
        triples: TripleProvider,
        seed: int | None = None,
        trunc_mode: str = "exact",
        ring: Ring = RING64,
    ):
        super().__init__(link, ring)
        self._check_trunc_mode(trunc_mode)
        self.trunc_mode = trunc_mode
        self.exact_truncation = trunc_mode == "exact"
        self.triples = triples
        self._pair = self._agree_pair_seeds(seed)
        self._own = PRG(fresh_seed() if seed is None else seed * 7919 + self.rank)

    def _check_trunc_mode(self, mode: str) -> None:
        if mode not in TRUNC_MODES:
            raise ConfigError(f"unknown SEMI2K trunc_mode {mode!r}; choose one of {TRUNC_MODES}")
        if mode == "local" and self.world_size != 2:
            raise ConfigError(
                f"SEMI2K trunc_mode 'local' needs exactly 2 parties, got {self.world_size}"
            )

    def _agree_pair_seeds(self, seed: int | None) -> dict[int, PRG]:
        """Lower rank of every pair draws a seed and sends it to the higher rank."""
        prgs = {}
        for peer in range(self.world_size):
            if peer == self.rank:
                continue
            if self.rank < peer:
                pair_seed = (
                    fresh_seed() if seed is None else (seed * 104729 + self.rank * 31 + peer)
                )
                self.link.send(peer, np.frombuffer(seed_key(pair_seed), dtype=np.uint8))
            else:
                seed_like = np.empty(SEED_BYTES, np.uint8)
                pair_seed = bytes(self.link.recv_like(peer, seed_like, "a pair seed"))
            prgs[peer] = PRG(pair_seed)
        return prgs

    @property
    def public_slots(self) -> tuple[int, ...]:
        return (0,) if self.rank == 0 else ()

    # ----- sharing and opening ----------------------------------------------------------
    def share(self, value: np.ndarray | None, owner: int, shape: tuple[int, ...]) -> AShare:
        if self.rank != owner:
            return AShare(self._pair[owner].ring(shape, self.ring)[None])
        mine = self.ring.asarray(value).reshape(shape)
        for peer in range(self.world_size):
            if peer != owner:
                mine = mine - self._pair[peer].ring(shape, self.ring)
        return AShare(mine[None])

    def _open(self, arrays: list[np.ndarray], xor: bool = False, later=None) -> list[np.ndarray]:
        """Open several share arrays to everyone in one round (one message per peer).

        `later`: the correlation whose fixed parts this party uses after the opening; they are
        computed between sending and receiving, while the messages travel (with a trusted
        first party, its replay of every party's draws is most of a multiplication's work).
        """
        arrays = [received(a) for a in arrays]
        self.link.send_all(arrays)
        prepare(later)
        totals = None
        for peer in range(self.world_size):
            if peer == self.rank:
                continue
            theirs = [received(t) for t in self.link.recv_like(peer, arrays, "an opening")]
            combine = np.bitwise_xor if xor else np.add
            base = arrays if totals is None else totals
            totals = [received(combine(t, b)) for t, b in zip(base, theirs, strict=True)]
        return totals

    def reveal(self, x: AShare, to: int | None = None) -> np.ndarray | None:
        if to is None:
            return self._open([x.data[0]])[0]
        if self.rank != to:
            self.link.send(to, x.data[0])
            return None
        total = x.data[0].copy()
        for peer in range(self.world_size):
            if peer != to:
                total = total + received(self.link.recv_like(peer, total, "a share to reveal"))
        return total

    def reveal_b(self, x: BShare) -> np.ndarray:
        return self._open([x.data[0]], xor=True)[0]

    # ----- multiplication ---------------------------------------------------------------
    def mul_ss(self, x: AShare, y: AShare) -> AShare:
        a, b, later = self.triples.beaver(x.shape, self.ring)
        e, f = self._open([x.data[0] - a, y.data[0] - b], later=later)
        z = e * (b + f if self.rank == 0 else b) + f * a
        return AShare((z + later["c"])[None])

    def matmul_ss(self, x: AShare, y: AShare) -> AShare:
        out_shape = matmul_shape(x.shape, y.shape)
        a, b, later = self.triples.matmul(x.shape, y.shape, out_shape, self.ring)
        e, f = self._open([x.data[0] - a, y.data[0] - b], later=later)
        # z = c + e b + a f (+ e f at rank 0, folded into one product: e (b + f)); c comes last
        # so that rank 0 computes while the dealer is still multiplying.
        z = self.ring.matmul(e, b + f if self.rank == 0 else b) + self.ring.matmul(a, f)
        return AShare((z + later["c"])[None])

    def and_ss(self, x: BShare, y: BShare) -> BShare:
        a, b, later = self.triples.and_triple(x.shape, word_ring(x))
        e, f = self._open([x.data[0] ^ a, y.data[0] ^ b], xor=True, later=later)
        z = (e & (b ^ f if self.rank == 0 else b)) ^ (f & a)
        return BShare((z ^ later["c"])[None])

    def trunc(self, x: AShare, bits: int) -> AShare:
        """Truncation in this instance's `trunc_mode` (see the module docstring)."""
        if self.trunc_mode == "local":
            return self._trunc_local(x, bits)
        return self.trunc_wide(x, bits)

    def _trunc_local(self, x: AShare, bits: int) -> AShare:
        """SecureML's 2-party local truncation: x_0 >> d at rank 0, -((-x_1) >> d) at rank 1.

        Both shares are then re-masked with a word drawn from the pair's PRG, so rank 1's
        share is uniform again and the next local truncation fails with exactly |x| / 2^k.
        """
        ring = self.ring
        mask = self._pair[1 - self.rank].ring(x.shape, ring)
        if self.rank == 0:
            out = ring.arshift(x.data[0], bits) + mask
        else:
            out = -ring.arshift(-x.data[0], bits) - mask
        return AShare(out[None])

    def trunc_wide(self, x: AShare, bits: int) -> AShare:
        """Escudero et al.'s truncation: open c = x + 2^(k-2) + r, correct the wrap with msb(r)."""
        r, later = self.triples.trunc_pair(x.shape, bits, self.ring)
        out, _no_wrap, _public = self._trunc_open(x, bits, r, later)
        return AShare(out[None])

    def _trunc_open(self, x: AShare, bits: int, r: np.ndarray, later) -> tuple:
        """Open c = x + 2^62 + r; return (this party's share of x >> bits, not msb(c), public).

        The result is P + s with P = (c >> bits) - 2^(62 - bits) public (added by rank 0) and
        s = -(r >> bits) + [not msb(c)] msb(r) 2^(64 - bits) shared.
        """
        c, no_wrap = self._open_masked(x, r, later)
        out = (later["r_msb"] * no_wrap) << (self.ring.bits - bits)  # [msb(r) and not msb(c)]
        out -= later["r_hi"]
        public = (c >> bits) - (1 << (self.ring.trunc_limit_bits - bits))
        if self.rank == 0:
            out += public
        return out, no_wrap, public

    def _open_masked(self, x: AShare, r: np.ndarray, later) -> tuple[np.ndarray, np.ndarray]:
        """Open c = x + 2^(k-2) + r; return c and [msb(c) == 0] (no wrap); `later` as in
        `_open`."""
        shifted = x.data[0] + r
        if self.rank == 0:
            shifted += 1 << self.ring.trunc_limit_bits
        (c,) = self._open([shifted], later=later)
        return c, self.ring.msb(c) == 0

    def trunc_square(self, x: AShare, bits: int) -> tuple[AShare, AShare]:
        """Truncation whose output is also squared, for the price of the truncation alone.

        v = P + s (see `_trunc_open`), where s is s_0 = -(r >> bits) + msb(r) 2^(64 - bits) or
        s_1 = -(r >> bits) as msb(c) is 0 or 1. The dealer knows both and also shares s_0^2 and
        s_1^2, so v^2 = P^2 + 2 P s + s^2 = 2 P v - P^2 + s^2 needs no further opening.
        """
        r, later = self.triples.trunc_square(x.shape, bits, self.ring)
        out, no_wrap, public = self._trunc_open(x, bits, r, later)
        square = public << 1
        square *= out
        square += np.where(no_wrap, later["sq0"], later["sq1"])
        if self.rank == 0:
            square -= public * public
        return AShare(out[None]), AShare(square[None])

    def trunc_powers(self, x: AShare, plan: tuple[tuple[int, int], ...]) -> list[AShare]:
        """Several truncations of x raised to powers, from one opening of c = x + 2^62 + r.

        Truncation i is v = P_i + s with P_i public (see `_trunc_open`) and s one of two masks
        the dealer knows; it shares s^m for both, so v^k = sum_m C(k, m) P_i^(k - m) s^m is
        local (rank 0 holds the P_i^k term). Exact to one unit for |x| < 2^62, as `trunc_wide`.
        """
        shifts, degrees = tuple(b for b, _ in plan), tuple(k for _, k in plan)
        r, later = self.triples.trunc_powers(x.shape, shifts, degrees, self.ring)
        c, no_wrap = self._open_masked(x, r, later)
        wrap_term = later["r_msb"] * no_wrap
        out = []
        for i, (bits, degree) in enumerate(plan):
            public = (c >> bits) - (1 << (self.ring.trunc_limit_bits - bits))
            mask = (wrap_term << (self.ring.bits - bits)) - later[f"hi{i}"]
            # Horner in P: acc <- acc P + C(k, m) s^m, starting from the leading 1 (rank 0)
            acc = mask * degree
            if self.rank == 0:
                acc += public
            for m in range(2, degree + 1):
                acc *= public
                power = np.where(no_wrap, later[f"pow{i}_{m}_0"], later[f"pow{i}_{m}_1"])
                acc += power * math.comb(degree, m)
            out.append(AShare(acc[None]))
        return out

    # ----- conversions ------------------------------------------------------------------
    def b2a_bit(self, b: BShare) -> AShare:
        rb, later = self.triples.random_bit(b.shape, self.ring)
        masked = pack_bits(low_bits(b.data[0]) ^ rb)
        opened = masked.copy()
        for peer, payload in enumerate(self._broadcast_open(masked)):
            if peer != self.rank:
                opened ^= payload
        c = self.ring.asarray(unpack_bits(opened, b.shape))
        out = (1 - (c << 1)) * later["ra"]  # b = c xor r = c + r - 2cr
        if self.rank == 0:
            out = out + c
        return AShare(out[None])

    def rand_a(self, shape: tuple[int, ...]) -> AShare:
        return AShare(self._own.ring(shape, self.ring)[None])

    def bool_summands(self, x: AShare) -> list[BShare]:
        zeros = np.zeros(x.data.shape, x.data.dtype)
        return [BShare(x.data if peer == self.rank else zeros) for peer in range(self.world_size)]


__all__ = ["Semi2k"]
