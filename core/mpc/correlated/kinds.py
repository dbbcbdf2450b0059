"""Correlations a trusted dealer hands out, defined once for the dealer and the parties.

Every party i shares a PRG seed with the dealer. For each correlation, every party draws its
"free" parts from that PRG in a fixed order (`draw`); one party (rank 0, or the trusted first
party that is itself the dealer) alone receives the remaining "fixed" parts, which the dealer
computes so the shares satisfy the correlation (`fix`, given that party's draws first). Only
those fixed parts travel, dealer -> that party (Beaver 1991's triples with the PRG-seed compression
used by SPU's SEMI2K and CrypTen's trusted third party).

Every request's params start with the ring's name ("FM64" or "FM128", `core.mpc.ring.RINGS`):
draws and fixes happen in that ring, so FM128 triples satisfy c = a b mod 2^128. Random bits
("bit") are uint64 0/1 words in both rings, with their additive shares in the ring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

import numpy as np

from core.mpc.prg import PRG
from core.mpc.ring import Ring, ring_for
from core.mpc.ring128 import wrap

Parts = dict[str, np.ndarray]


@dataclass(frozen=True)
class Correlation:
    """How parties draw their parts and how the dealer fixes rank 0's parts."""

    draw: Callable[[PRG, bool, tuple], Parts]  # (prg, is_rank0, params) -> free parts
    fix: Callable[[list[Parts], tuple], Parts]  # (free parts of every rank, params) -> rank 0 fix


def _sum(parts: list[Parts], key: str) -> np.ndarray:
    return reduce(np.add, (p[key] for p in parts if key in p))


def _xor(parts: list[Parts], key: str) -> np.ndarray:
    return reduce(np.bitwise_xor, (p[key] for p in parts if key in p))


def ring_of_params(params: tuple) -> Ring:
    """The ring a request names first (ConfigError for an unknown name)."""
    name = params[0] if params and isinstance(params[0], str) else repr(params[:1])
    return ring_for(name)


def _draw_triple(shapes: Callable[[tuple], tuple[tuple, tuple, tuple]]):
    def draw(prg: PRG, rank0: bool, params: tuple) -> Parts:
        ring = ring_of_params(params)
        sa, sb, sc = shapes(params[1:])
        parts = {"a": prg.ring(sa, ring), "b": prg.ring(sb, ring)}
        if not rank0:
            parts["c"] = prg.ring(sc, ring)
        return parts

    return draw


def _fix_beaver(parts: list[Parts], params: tuple) -> Parts:
    return {"c": wrap(_sum(parts, "a") * _sum(parts, "b") - _others(parts, "c"))}


def _fix_matmul(parts: list[Parts], params: tuple) -> Parts:
    product = ring_of_params(params).matmul(_sum(parts, "a"), _sum(parts, "b"))
    return {"c": product - _others(parts, "c")}


def _fix_and(parts: list[Parts], params: tuple) -> Parts:
    correct = _xor(parts, "a") & _xor(parts, "b")
    return {"c": correct ^ _others(parts, "c", xor=True)}


def _others(parts: list[Parts], key: str, xor: bool = False) -> np.ndarray:
    rest = parts[1:]
    if not rest:
        return 0
    return _xor(rest, key) if xor else _sum(rest, key)


def _draw_trunc(prg: PRG, rank0: bool, params: tuple) -> Parts:
    ring, (shape, _bits) = ring_of_params(params), params[1:]
    parts = {"r": prg.ring(shape, ring)}
    if not rank0:
        parts["r_hi"] = prg.ring(shape, ring)
        parts["r_msb"] = prg.ring(shape, ring)
    return parts


def _fix_trunc(parts: list[Parts], params: tuple) -> Parts:
    ring, (_shape, bits) = ring_of_params(params), params[1:]
    r = _sum(parts, "r")
    return {
        "r_hi": wrap((r >> bits) - _others(parts, "r_hi")),
        "r_msb": wrap((r >> (ring.bits - 1)) - _others(parts, "r_msb")),
    }


def _draw_trunc_square(prg: PRG, rank0: bool, params: tuple) -> Parts:
    parts = _draw_trunc(prg, rank0, params)
    if not rank0:
        ring, shape = ring_of_params(params), params[1]
        parts["sq0"] = prg.ring(shape, ring)
        parts["sq1"] = prg.ring(shape, ring)
    return parts


def _fix_trunc_square(parts: list[Parts], params: tuple) -> Parts:
    """Truncation pair plus s_0^2 and s_1^2, the squares of both possible masks of the output."""
    ring, (_shape, bits) = ring_of_params(params), params[1:]
    r = _sum(parts, "r")
    r_hi = wrap(r >> bits)  # arrays even for 0-d shapes
    r_msb = wrap(r >> (ring.bits - 1))
    s1 = -r_hi
    s0 = (r_msb << (ring.bits - bits)) + s1
    fixed = {"r_hi": r_hi, "r_msb": r_msb, "sq0": s0 * s0, "sq1": s1 * s1}
    return {key: wrap(value - _others(parts, key)) for key, value in fixed.items()}


def _draw_trunc_powers(prg: PRG, rank0: bool, params: tuple) -> Parts:
    ring, (shape, _shifts, degrees) = ring_of_params(params), params[1:]
    parts = {"r": prg.ring(shape, ring)}
    if not rank0:
        for key in _trunc_powers_keys(degrees):
            parts[key] = prg.ring(shape, ring)
    return parts


def _trunc_powers_keys(degrees: tuple[int, ...]) -> list[str]:
    """r_msb, then per shift i: hi<i> and pow<i>_<j>_<b> (j = 2..degree, b = 0, 1)."""
    keys = ["r_msb"]
    for i, degree in enumerate(degrees):
        keys.append(f"hi{i}")
        keys.extend(f"pow{i}_{j}_{b}" for j in range(2, degree + 1) for b in (0, 1))
    return keys


def _fix_trunc_powers(parts: list[Parts], params: tuple) -> Parts:
    """One mask r for several truncations: r >> d_i, msb(r), and powers of both output masks.

    For shift d_i the output mask is s_0 = msb(r) 2^(k - d_i) - (r >> d_i) (no wrap) or
    s_1 = -(r >> d_i); the dealer shares s_b^j for j = 2..degree_i so that (P + s_b)^j is local.
    """
    ring, (_shape, shifts, degrees) = ring_of_params(params), params[1:]
    r = _sum(parts, "r")
    r_msb = wrap(r >> (ring.bits - 1))
    fixed = {"r_msb": r_msb}
    for i, (bits, degree) in enumerate(zip(shifts, degrees, strict=True)):
        hi = wrap(r >> bits)
        fixed[f"hi{i}"] = hi
        s1 = -hi
        for b, mask in ((0, (r_msb << (ring.bits - bits)) + s1), (1, s1)):
            power = mask
            for j in range(2, degree + 1):
                power = wrap(power * mask)
                fixed[f"pow{i}_{j}_{b}"] = power
    return {key: wrap(value - _others(parts, key)) for key, value in fixed.items()}


def _draw_bit(prg: PRG, rank0: bool, params: tuple) -> Parts:
    ring, (shape,) = ring_of_params(params), params[1:]
    parts = {"rb": prg.bits(shape)}
    if not rank0:
        parts["ra"] = prg.ring(shape, ring)
    return parts


def _fix_bit(parts: list[Parts], params: tuple) -> Parts:
    ring = ring_of_params(params)
    return {"ra": wrap(ring.asarray(_xor(parts, "rb")) - _others(parts, "ra"))}


CORRELATIONS: dict[str, Correlation] = {
    # Beaver triple c = a * b (element-wise); params: (ring, shape)
    "beaver": Correlation(_draw_triple(lambda p: (p[0], p[0], p[0])), _fix_beaver),
    # matrix triple C = A @ B; params: (ring, shape_a, shape_b, shape_c)
    "matmul": Correlation(_draw_triple(lambda p: p), _fix_matmul),
    # boolean triple c = a & b on the ring's words; params: (ring, shape)
    "and": Correlation(_draw_triple(lambda p: (p[0], p[0], p[0])), _fix_and),
    # truncation pair: r, r >> bits, msb(r) (Escudero et al. CRYPTO 2020);
    # params: (ring, shape, bits)
    "trunc": Correlation(_draw_trunc, _fix_trunc),
    # truncation pair and the squares of both possible output masks; params: (ring, shape, bits)
    "trunc_square": Correlation(_draw_trunc_square, _fix_trunc_square),
    # one mask, several truncations, powers of their masks; params: (ring, shape, shifts, degrees)
    "trunc_powers": Correlation(_draw_trunc_powers, _fix_trunc_powers),
    # random bit shared both ways: rb (XOR) and ra (additive); params: (ring, shape)
    "bit": Correlation(_draw_bit, _fix_bit),
}
