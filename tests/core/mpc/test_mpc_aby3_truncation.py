"""ABY3's truncations: exact by default, Share Truncation I only when asked for.

"exact" (`trunc_mode` "auto" or "exact") must give floor(x / 2^m) or floor(x / 2^m) + 1 for
every -2^(k-2) <= x < 2^(k-2), exactly x / 2^m for multiples, on FM64 and FM128 and for every
width of its wrap-count words (32-bit, 64-bit, ring); "local" fails with probability about
|x| / 2^k per element, which these tests also measure, so that a test that sees no failure
under "exact" is known to be able to see one. Traffic is counted per party and round.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_mpc_privacy import KS_CRITICAL, _ks_two_sample, _ks_uniform, _recorded, _unit

from core.comm import LocalLinkHub, run_spmd
from core.comm.expect import check_like
from core.errors import ConfigError, PartyFailure
from core.mpc import ring128
from core.mpc.config import RuntimeConfig
from core.mpc.context import MPCContext
from core.mpc.kernels import arith
from core.mpc.precision import plan_precision, truncation_margin_bits
from core.mpc.prg import PRG
from core.mpc.protocols import Aby3
from core.mpc.ring import arshift, to_signed

RING = np.uint64
LIMIT = 1 << 62  # truncation inputs lie in [-2^62, 2^62) on FM64


def _off_by(runner, x: np.ndarray, bits: int, calls: int = 1) -> list[np.ndarray]:
    """trunc(x) - floor(x / 2^bits) per element, for `calls` truncations of the same x."""

    def body(p, s):
        return [p.reveal(p.trunc(s, bits)) for _ in range(calls)]

    outs = runner.run_ring(body, x)[0]
    return [to_signed(got - arshift(x, bits)) for got in outs]


def _edges_and_random(seed: int, count: int) -> np.ndarray:
    """Uniform values over the whole domain plus its edges and small values."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-LIMIT, LIMIT, count)
    edges = [0, 1, -1, 2**18, -(2**18), -LIMIT, LIMIT - 1, LIMIT - 2**18, -LIMIT + 1]
    return np.concatenate([x, np.array(edges)]).view(RING)


@pytest.mark.parametrize("bits", [1, 18, 32, 33, 40, 63])
def test_exact_truncation_is_right_to_one_unit_on_the_whole_domain(bits, make_runner):
    """Every role assignment (three calls rotate the pivot), both count-word widths."""
    x = _edges_and_random(bits, 6000)
    multiple = (x & RING((1 << bits) - 1)) == 0
    for call, diff in enumerate(_off_by(make_runner("ABY3", 3, seed=bits), x, bits, calls=3)):
        bad = ~np.isin(diff, (0, 1))
        assert not bad.any(), f"call {call}: x={to_signed(x)[bad][:3]} off by {diff[bad][:3]}"
        assert not diff[multiple].any(), f"call {call}: multiples of 2^{bits} must be exact"


@pytest.mark.parametrize("bits", [18, 40, 70, 100])
def test_exact_truncation_on_fm128_for_every_count_word_width(bits, make_runner):
    rng = np.random.default_rng(bits)
    values = [int(v) << 64 | int(w) for v, w in rng.integers(-(2**62), 2**62, (1500, 2))]
    values += [0, -(2**126), 2**126 - 1, 5 << 70, -(5 << 70)]
    runner = make_runner("ABY3", 3, field="FM128", fraction_bits=26, seed=bits)
    got = runner.run_ring(lambda p, s: p.reveal(p.trunc(s, bits)), ring128.from_ints(values))[0]
    for value, out in zip(values, ring128.to_ints(got), strict=True):
        out = int(out) - (1 << 128) if int(out) >= 1 << 127 else int(out)
        diff = out - (value >> bits)
        assert diff in (0, 1), f"x={value}: off by {diff}"
        assert value % (1 << bits) or not diff, f"x={value} is a multiple of 2^{bits}"


@pytest.mark.parametrize("magnitude", [2**60, -(2**60), 2**62 - 1, -(2**62)])
def test_large_values_that_share_truncation_i_gets_wrong_are_right_when_exact(
    magnitude, make_runner
):
    """Local fails |x| / 2^64 of the time (1/16 at 2^60, ~1/4 near 2^62), exact never."""
    count, bits = 4000, 18
    x = np.full(count, magnitude, dtype=np.int64).view(RING)
    (local,) = _off_by(make_runner("ABY3", 3, trunc_mode="local", seed=3), x, bits)
    failed = ~np.isin(local, (0, 1))
    p = abs(magnitude) / 2.0**64
    sigma = np.sqrt(count * p * (1 - p))
    assert abs(failed.sum() - count * p) < 5 * sigma, (
        f"local: {failed.sum()} failures of {count}, expected about {count * p:.0f}"
    )
    wrap = 1 << (64 - bits)
    assert np.isin(np.abs(local[failed]), (wrap - 1, wrap, wrap + 1)).all()
    for diff in _off_by(make_runner("ABY3", 3, seed=3), x, bits, calls=3):
        assert np.isin(diff, (0, 1)).all(), f"exact: x={magnitude} off by {diff[diff > 1][:3]}"


def test_products_at_the_planned_range_limit_never_fail(make_runner):
    """Inputs at the precision planner's bound for ABY3, 400k products: none is wrong.

    The plan keeps a product's 2f-bit intermediate below 2^(62 - margin); near that bound
    Share Truncation I fails with probability |x y| 2^(2f) / 2^64 per element (~2^-13 here):
    the local run must show about that many failures (so the exact run could have), the
    exact run none.
    """
    count, max_abs = 400_000, 200.0
    f = plan_precision(max_abs, products=1, protocol="ABY3").fxp_fraction_bits
    rng = np.random.default_rng(11)
    x, y = (rng.choice([-1.0, 1.0], count) * rng.uniform(0.9, 1, count) * max_abs for _ in "xy")
    assert np.max(np.abs(x * y)) * 2.0 ** (2 * f) < 2.0 ** (62 - truncation_margin_bits("ABY3"))
    tolerance = 2.0 ** (1 - f) * (1 + max_abs)  # the inputs' rounding times the other, + 1 ulp
    wrong = {}
    for mode in ("local", "auto"):
        runner = make_runner("ABY3", 3, trunc_mode=mode, fraction_bits=f, seed=21)
        got = runner.run(arith.mul_ss, x, y)
        wrong[mode] = int(np.sum(np.abs(got - x * y) > tolerance))
    expected_local = float(np.sum(np.abs(x * y))) * 2.0 ** (2 * f - 64)
    assert abs(wrong["local"] - expected_local) < 5 * np.sqrt(expected_local), (
        f"local: {wrong['local']} failures, expected about {expected_local:.0f}"
    )
    assert wrong["local"] >= 10, f"too few failures to show anything: {wrong}"
    assert wrong["auto"] == 0, f"exact truncation got {wrong['auto']} of {count} products wrong"


# ----- traffic -----------------------------------------------------------------------------
def _sent(runner, body, *inputs) -> tuple[dict, dict, dict]:
    """(bytes sent, rounds, bytes received) per party of `body` alone (minus input sharing).

    Both runs open their first input before `body`, so that every party has received since
    its last send and `body`'s first message starts a round in the count.
    """

    def counts(fn):
        runner.run_ring(lambda p, *s: (p.reveal(s[0]), fn(p, *s)), *inputs)
        stats = runner.last_stats
        parties = [f"P{r}" for r in range(runner.parties)]
        received = {
            p: sum(v["bytes"] for k, v in stats["pairs"].items() if k.endswith(f"->{p}"))
            for p in parties
        }
        return (
            {p: stats["sent_bytes"].get(p, 0) for p in parties},
            {p: stats["rounds"].get(p, 0) for p in parties},
            received,
        )

    base, full = counts(lambda p, *s: None), counts(body)
    return tuple({p: f[p] - b[p] for p in f} for b, f in zip(base, full, strict=True))


@pytest.mark.parametrize(
    ("field", "bits", "count", "ring"),
    [("FM64", 18, 4, 8), ("FM64", 40, 8, 8), ("FM128", 26, 4, 16)],
)
def test_exact_truncation_traffic_per_role(field, bits, count, ring, make_runner):
    """One round. The pivot (P0 first) sends two offers to each receiver and one ring word to
    P1, and receives nothing; each receiver sends the other one pad. Roles rotate, so three
    calls cost every party alike."""
    n = 500
    runner = make_runner("ABY3", 3, field=field, fraction_bits=min(bits, 26))
    x = runner.ring.asarray(np.arange(n, dtype=RING) << RING(20))
    sent, rounds, received = _sent(runner, lambda p, s: p.trunc(s, bits), x)
    assert sent == {"P0": (4 * count + ring) * n, "P1": count * n, "P2": count * n}, sent
    assert rounds == {"P0": 1, "P1": 1, "P2": 1}, rounds
    assert received == {"P0": 0, "P1": (3 * count + ring) * n, "P2": 3 * count * n}, received
    sent, _, _ = _sent(runner, lambda p, s: [p.trunc(s, bits) for _ in range(3)], x)
    each = (6 * count + ring) * n
    assert sent == {"P0": each, "P1": each, "P2": each}, f"rotation: {sent}"


def test_fixed_point_multiply_and_matmul_traffic(make_runner):
    """Exact: the product's resharing is fused into the truncation's, 12 bytes per element and
    party in every role (the helper sends z_h and its correction, the others a count word and
    a ring word), and the helper still receives nothing. Local: the resharing word from every
    party plus one word from P0."""
    n = 400
    x = np.arange(n, dtype=RING) << RING(18)
    mul = {}
    for mode in ("auto", "local"):
        runner = make_runner("ABY3", 3, trunc_mode=mode)
        fxp = runner.fxp
        mul[mode] = _sent(
            runner, lambda p, a, b, fxp=fxp: arith.mul_ss(MPCContext(p, fxp), a, b), x, x
        )
    sent, rounds, received = mul["auto"]
    assert sent == {"P0": 12 * n, "P1": 12 * n, "P2": 12 * n}, sent
    assert rounds == {"P0": 2, "P1": 2, "P2": 1}, rounds
    assert received["P2"] == 0, "the helper must receive nothing"
    sent, rounds, _ = mul["local"]
    assert sent == {"P0": 16 * n, "P1": 8 * n, "P2": 8 * n}, sent
    assert rounds == {"P0": 2, "P1": 1, "P2": 1}, rounds
    runner = make_runner("ABY3", 3)
    m, k, cols = 6, 5, 4
    a = np.arange(m * k, dtype=RING).reshape(m, k) << RING(18)
    b = np.arange(k * cols, dtype=RING).reshape(k, cols) << RING(18)
    sent, _, _ = _sent(
        runner, lambda p, u, v: arith.matmul_ss(MPCContext(p, runner.fxp), u, v), a, b
    )
    out = m * cols
    assert sent == {"P0": 12 * out, "P1": 12 * out, "P2": 12 * out}, sent


@pytest.mark.parametrize(
    ("field", "bits"), [("FM64", 18), ("FM64", 40), ("FM128", 18), ("FM128", 50)]
)
def test_fused_products_match_numpy_near_the_truncation_limit(field, bits, make_runner):
    """mul_trunc and matmul_trunc (every role: four calls) on products up to 2^60 in the ring,
    with 32-bit and 64-bit count words."""
    runner = make_runner("ABY3", 3, field=field, fraction_bits=18, seed=4)
    ring = runner.ring
    rng = np.random.default_rng(4)
    x = rng.integers(-(2**30), 2**30, (4, 30, 30))
    y = rng.integers(-(2**30), 2**30, (4, 30, 30)) // 30  # 30 terms of 2^60 / 30 in a matmul
    xs, ys = ring.asarray(x), ring.asarray(y)

    def body(p, u, v):
        return [
            [p.reveal(p.mul_trunc(u[i], u[i], bits)), p.reveal(p.matmul_trunc(u[i], v[i], bits))]
            for i in range(4)
        ]

    want = {"mul": (x * x) >> bits, "matmul": (x @ y) >> bits}  # |terms| <= 2^60: int64 exact
    for i, (square, product) in enumerate(runner.run_ring(body, xs, ys)[0]):
        for name, got in (("mul", square), ("matmul", product)):
            diff = _signed(ring, got) - want[name][i]
            assert np.isin(diff, (0, 1)).all(), f"{field} {name} call {i}: off by {diff.max()}"


def _signed(ring, values) -> np.ndarray:
    """Ring elements (FM64 or FM128) as int64, for values known to fit."""
    if ring.bits == 64:
        return to_signed(values)
    ints = [
        int(v) - (1 << 128) if int(v) >= 1 << 127 else int(v) for v in ring.to_ints(values).ravel()
    ]
    return np.array(ints, dtype=np.int64).reshape(values.shape)


# ----- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "resolved"), [("auto", "exact"), ("exact", "exact"), ("local", "local")]
)
def test_aby3_trunc_modes(mode, resolved, make_runner):
    assert RuntimeConfig(protocol="ABY3", trunc_mode=mode).resolved_trunc_mode() == resolved
    runner = make_runner("ABY3", 3, trunc_mode=mode)
    flags = runner.run_ring(lambda p: (p.trunc_mode, p.exact_truncation, p.wide_truncation))
    assert flags == [(resolved, resolved == "exact", resolved == "exact")] * 3


def test_aby3_refuses_an_unknown_trunc_mode():
    with pytest.raises(ConfigError, match="'fast'"):
        RuntimeConfig(protocol="ABY3", trunc_mode="fast")
    hub = LocalLinkHub(["P0", "P1", "P2"])
    with pytest.raises(PartyFailure, match="unknown ABY3 trunc_mode 'auto'"):
        run_spmd(hub, [lambda link: Aby3(link, seed=1, trunc_mode="auto")] * 3)


# ----- privacy -----------------------------------------------------------------------------
PRIVACY_KERNELS = {
    # three calls each, so that every party plays pivot, partner and helper once
    "trunc": lambda c, mine, secret: [
        c.proto.trunc(c.proto.mul_sp(secret, 1 << 30), 18) for _ in range(3)
    ],
    "mul": lambda c, mine, secret: [arith.mul_ss(c, mine, secret) for _ in range(3)],
    "matmul": lambda c, mine, secret: [arith.matmul_ss(c, mine, secret) for _ in range(3)],
}


@pytest.mark.parametrize("rank", [0, 1, 2])
@pytest.mark.parametrize("kernel", list(PRIVACY_KERNELS))
def test_every_role_receives_uniform_words_that_do_not_depend_on_the_secret(
    kernel, rank, make_runner
):
    """Words (ring and 32-bit count words) received by each party over all three roles: uniform,
    and alike for a secret of 0.5 and one of 3000.25 (truncation inputs near 2^60 for "trunc")."""
    runner = make_runner("ABY3", 3)
    mine = np.linspace(1, 2, 16).reshape(4, 4)
    samples = {}
    for label, secret in (("small", np.full((4, 4), 0.5)), ("large", np.full((4, 4), 3000.25))):
        words = []
        for run in range(10):
            runner.seed = run  # the same seeds for both secrets
            words.append(_recorded(runner, PRIVACY_KERNELS[kernel], secret, mine, rank))
        samples[label] = _unit(np.concatenate(words))
    a, b = samples["small"], samples["large"]
    assert len(a) == len(b) >= 400, f"transcript lengths: {len(a)} vs {len(b)}"
    for label, u in samples.items():
        stat = _ks_uniform(u) * np.sqrt(len(u))
        assert stat < KS_CRITICAL, f"{kernel}, party {rank}: {label} secret, KS {stat:.2f}"
    stat = _ks_two_sample(a, b) * np.sqrt(len(a) * len(b) / (len(a) + len(b)))
    assert stat < KS_CRITICAL, f"{kernel}, party {rank}: transcripts depend on the secret"


class _PayloadLog:
    """Wraps a link and keeps the uint32 words of every message it receives, message by
    message (the receivers' views of the transfer: offers and pads)."""

    def __init__(self, link, log: list):
        self._link, self.log = link, log
        self.rank, self.world_size = link.rank, link.world_size
        self.parties, self.party, self.simulation = link.parties, link.party, link.simulation

    def send(self, to, obj):
        self._link.send(to, obj)

    def send_all(self, obj):
        self._link.send_all(obj)

    def recv(self, frm):
        obj = self._link.recv(frm)
        for part in obj if isinstance(obj, list | tuple) else [obj]:
            if isinstance(part, np.ndarray) and part.dtype == np.uint32:
                self.log.append(part.ravel().copy())
        return obj

    def recv_like(self, frm, like, what):
        return check_like(self._link, frm, self.recv(frm), like, what)


@pytest.mark.parametrize("rank", [1, 2])
def test_no_combination_of_a_receivers_count_words_is_biased(rank, make_runner):
    """b and h each receive two padded offers and one pad per element: every +-1 combination
    of them (what a receiver could compute) must be uniform on Z_2^32, e.g. the chosen offer
    minus its pad (p q - rho) and the difference of the offers (p plus the other pad)."""
    n = 6000
    logs: dict[int, list] = {}

    def wrap(link):
        logs[link.rank] = []
        return _PayloadLog(link, logs[link.rank])

    def body(p, s):
        logs[p.rank].clear()  # the truncation's messages only
        p.trunc(p.mul_sp(s, 1 << 20), 18)

    rng = np.random.default_rng(rank)
    x = (rng.integers(-(2**40), 2**40, n)).view(RING)
    make_runner("ABY3", 3, seed=rank).run_ring(body, x, hub_wrapper=wrap)
    words = logs[rank]
    assert len(words) == 3, f"expected two offers and a pad, got {len(words)} arrays"
    assert all(w.size == n for w in words), [w.size for w in words]
    for coefficients in itertools.product((-1, 0, 1), repeat=3):
        if not any(coefficients):
            continue
        combined = sum(c * w.astype(np.int64) for c, w in zip(coefficients, words, strict=True))
        unit = (combined % 2**32) / 2.0**32
        stat = _ks_uniform(unit) * np.sqrt(n)
        assert stat < KS_CRITICAL, f"party {rank}: combination {coefficients} is biased"


@pytest.mark.parametrize("shape", [(7,), (3, 5), ()])
def test_prg_words32_are_shared_by_equal_seeds_and_uniform(shape):
    """The count words two key holders draw: equal streams from equal seeds, any shape (odd
    sizes use half a raw word), and uniform over 32 bits."""
    first, second = PRG(1234), PRG(1234)
    a, b = first.words32(shape), second.words32(shape)
    assert a.dtype == np.uint32
    assert a.shape == shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.words32(shape), second.words32(shape))
    many = PRG(99).words32(200_001) / 2.0**32
    assert _ks_uniform(many) * np.sqrt(many.size) < KS_CRITICAL
