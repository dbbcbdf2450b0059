"""SEMI2K's truncation modes: traffic, correctness across sign and magnitude, privacy, config.

"local" (2 parties, opt-in) truncates without a message and fails with probability |x| / 2^64
per element; "exact" (the default, "auto") opens one word per element and never fails for
|x| < 2^62.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_mpc_privacy import KS_CRITICAL, _ks_two_sample, _ks_uniform, _recorded, _unit

from core.comm import LocalLinkHub, run_spmd
from core.errors import ConfigError, PartyFailure
from core.mpc.config import RuntimeConfig
from core.mpc.context import MPCContext
from core.mpc.correlated import DEALER, TripleProvider, TrustedDealer
from core.mpc.kernels import arith, nonlinear
from core.mpc.protocols import Semi2k
from core.mpc.ring import arshift, to_signed

RING = np.uint64
# (parties, trunc_mode) -> bytes each party sends for one element of a multiplication
MUL_BYTES_PER_ELEMENT = {(2, "auto"): 24, (2, "local"): 16, (2, "exact"): 24, (3, "auto"): 48}


def _party_bytes(runner, body, *inputs) -> dict[str, int]:
    """Bytes each party sent to other parties (not the dealer) while running `body`."""
    runner.run_ring(body, *inputs)
    pairs = runner.last_stats["pairs"]
    return {
        f"P{rank}": sum(
            v["bytes"]
            for k, v in pairs.items()
            if k.startswith(f"P{rank}->") and not k.endswith(DEALER)
        )
        for rank in range(runner.parties)
    }


def _kernel_bytes(runner, kernel, *inputs) -> dict[str, int]:
    """Party-to-party bytes of `kernel` alone: a run with it minus a run without it."""
    base = _party_bytes(runner, lambda p, *s: None, *inputs)
    full = _party_bytes(runner, kernel, *inputs)
    return {party: full[party] - base[party] for party in full}


@pytest.mark.parametrize(("parties", "mode"), list(MUL_BYTES_PER_ELEMENT))
def test_multiply_sends_the_expected_bytes_per_element(parties, mode, make_runner):
    runner = make_runner("SEMI2K", parties, trunc_mode=mode)
    count = 1000
    x = np.arange(count, dtype=RING) << RING(18)

    def kernel(p, a, b):
        arith.mul_ss(MPCContext(p, runner.fxp), a, b)

    sent = _kernel_bytes(runner, kernel, x, x)
    want = MUL_BYTES_PER_ELEMENT[(parties, mode)] * count
    assert sent == {f"P{r}": want for r in range(parties)}, f"{parties} parties, {mode}: {sent}"


@pytest.mark.parametrize(("mode", "words"), [("local", 0), ("exact", 1)])
def test_matmul_sends_both_masked_operands_and_one_word_per_output_if_exact(
    mode, words, make_runner
):
    runner = make_runner("SEMI2K", 2, trunc_mode=mode)
    m, k, n = 6, 5, 4
    a = np.arange(m * k, dtype=RING).reshape(m, k) << RING(18)
    b = np.arange(k * n, dtype=RING).reshape(k, n) << RING(18)

    def kernel(p, x, y):
        arith.matmul_ss(MPCContext(p, runner.fxp), x, y)

    sent = _kernel_bytes(runner, kernel, a, b)
    want = 8 * (m * k + k * n + words * m * n)
    assert sent == {"P0": want, "P1": want}, f"{mode}: {sent}, expected {want} each"


def test_local_truncation_sends_nothing(make_runner):
    runner = make_runner("SEMI2K", 2, trunc_mode="local")
    x = np.arange(100, dtype=RING) << RING(20)
    sent = _kernel_bytes(runner, lambda p, s: p.trunc(s, 18), x)
    assert sent == {"P0": 0, "P1": 0}, f"local truncation sent {sent}"


def _off_by(runner, x: np.ndarray, bits: int, wide: bool = False) -> np.ndarray:
    """trunc(x) - floor(x / 2^bits) per element, as signed integers."""

    def body(p, s):
        return p.reveal(p.trunc_wide(s, bits) if wide else p.trunc(s, bits))

    got = runner.run_ring(body, x)[0]
    return to_signed(got - arshift(x, bits))


@pytest.mark.parametrize("bits", [1, 18, 36])
@pytest.mark.parametrize("sign", [1, -1])
def test_local_truncation_is_off_by_at_most_one_across_magnitudes(bits, sign, make_runner):
    """Magnitudes 2^0 .. 2^44 (failure probability <= 2^-20 each): every result is right."""
    rng = np.random.default_rng(40 + bits + (sign > 0))
    mags = np.repeat(np.arange(45), 40)
    low = np.left_shift(np.int64(1), mags)
    x = (sign * (low + rng.integers(0, low))).view(RING)  # |x| in [2^m, 2^(m + 1))
    x = np.concatenate([x, np.array([0, 2**bits, -(2**bits)]).view(RING)])
    diff = _off_by(make_runner("SEMI2K", 2, trunc_mode="local", seed=bits), x, bits)
    bad = ~np.isin(diff, (0, 1))
    assert not bad.any(), f"x={to_signed(x)[bad][:3]} off by {diff[bad][:3]}"
    multiple = to_signed(x) % (1 << bits) == 0
    assert not diff[multiple].any(), "multiples of 2^bits must truncate exactly"


@pytest.mark.parametrize("magnitude", [2**60, -(2**60), 2**62 - 1])
def test_local_truncation_fails_as_often_as_documented(magnitude, make_runner):
    """|x| / 2^64 per element (1/16 for 2^60, ~1/4 near 2^62), off by exactly 2^(64 - d)."""
    count, bits = 4000, 18
    x = np.full(count, magnitude, dtype=np.int64).view(RING)
    diff = _off_by(make_runner("SEMI2K", 2, trunc_mode="local", seed=5), x, bits)
    failed = ~np.isin(diff, (0, 1))
    p = abs(magnitude) / 2.0**64
    sigma = np.sqrt(count * p * (1 - p))
    assert abs(failed.sum() - count * p) < 5 * sigma, (
        f"x={magnitude}: {failed.sum()} failures of {count}, expected {count * p:.0f}"
    )
    # floor(x / 2^d) + carry - 2^(64-d) for x > 0, + 2^(64-d) for x < 0 (carry 0 or 1)
    wrap = 1 << (64 - bits)
    off = np.abs(diff[failed])
    assert np.all(np.isin(off, (wrap - 1, wrap, wrap + 1))), f"failures are off by {off[:3]}"


@pytest.mark.parametrize(("mode", "wide"), [("exact", False), ("local", True)])
def test_exact_and_wide_truncations_never_fail_below_2_62(mode, wide, make_runner):
    rng = np.random.default_rng(9)
    x = rng.integers(-(2**62) + 1, 2**62, 3000).view(RING)
    diff = _off_by(make_runner("SEMI2K", 2, trunc_mode=mode), x, 18, wide=wide)
    bad = ~np.isin(diff, (0, 1))
    assert not bad.any(), f"{mode}: x={to_signed(x)[bad][:3]} off by {diff[bad][:3]}"


def test_local_truncation_rerandomises_the_output_shares(make_runner):
    """After a local truncation, rank 1's share is uniform whatever the truncated value is."""
    runner = make_runner("SEMI2K", 2, trunc_mode="local")
    shares = {}
    for label, value in (("zero", 0), ("large", 2**50)):
        x = np.full(4000, value, dtype=np.int64).view(RING)
        outs = runner.run_ring(lambda p, s: p.trunc(s, 18).data[0].copy(), x)
        shares[label] = _unit(outs[1])
    for label, u in shares.items():
        stat = _ks_uniform(u) * np.sqrt(len(u))
        assert stat < KS_CRITICAL, f"rank 1's share after truncating {label} is not uniform"


@pytest.mark.parametrize("mode", ["local", "exact"])
@pytest.mark.parametrize("kernel", ["mul", "matmul", "exp"])
def test_received_words_do_not_depend_on_the_other_input(mode, kernel, make_runner):
    """Party 0's received words: uniform, same distribution for two secrets of party 1.

    exp covers `trunc_powers` and `trunc_square` (the openings of the fused truncations).
    """
    runner = make_runner("SEMI2K", 2, trunc_mode=mode)
    mine = np.linspace(1, 2, 16).reshape(4, 4)
    ops = {
        "mul": arith.mul_ss,
        "matmul": arith.matmul_ss,
        "exp": lambda c, _mine, secret: nonlinear.exp(c, secret),
    }
    top = 10.25 if kernel == "exp" else 3000.25
    samples = {}
    for label, secret in (("small", np.full((4, 4), 0.5)), ("large", np.full((4, 4), top))):
        words = []
        for run in range(16):
            runner.seed = run  # the same seeds for both secrets
            words.append(_recorded(runner, ops[kernel], secret, mine))
        samples[label] = _unit(np.concatenate(words))
    a, b = samples["small"], samples["large"]
    assert len(a) == len(b) >= 400, f"transcript lengths differ: {len(a)} vs {len(b)}"
    for label, u in samples.items():
        stat = _ks_uniform(u) * np.sqrt(len(u))
        assert stat < KS_CRITICAL, f"{kernel}/{mode}: {label} secret gives non-uniform words"
    stat = _ks_two_sample(a, b) * np.sqrt(len(a) * len(b) / (len(a) + len(b)))
    assert stat < KS_CRITICAL, f"{kernel}/{mode}: transcripts depend on the secret (KS {stat})"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trunc_mode": "fast"}, "'fast'"),
        ({"trunc_mode": 1}, "1"),
        ({"trunc_mode": None}, "None"),
        ({"protocol": "REF2K", "trunc_mode": "local"}, "SEMI2K and ABY3 only"),
        ({"protocol": "REF2K", "trunc_mode": "exact"}, "REF2K has a single truncation"),
    ],
)
def test_bad_trunc_modes_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RuntimeConfig(**kwargs)


def test_local_truncation_needs_two_parties():
    cfg = RuntimeConfig(trunc_mode="local")
    cfg.check_world_size(2)
    with pytest.raises(ConfigError, match="exactly 2 SEMI2K parties, got 3"):
        cfg.check_world_size(3)
    assert RuntimeConfig().resolved_trunc_mode() == "exact", "never silently wrong by default"
    assert RuntimeConfig.from_dict({"trunc_mode": "exact"}).resolved_trunc_mode() == "exact"
    assert RuntimeConfig(trunc_mode="local").resolved_trunc_mode() == "local"


@pytest.mark.parametrize(
    ("parties", "mode", "message"), [(3, "local", "exactly 2"), (2, "x", "'x'")]
)
def test_semi2k_refuses_a_bad_mode_when_built_directly(parties, mode, message):
    names = [f"P{i}" for i in range(parties)]
    hub = LocalLinkHub(names)
    dealer = TrustedDealer(names, hub.stats, seed=1)

    def program(link):
        triples = TripleProvider(link.rank, dealer.seed_for(link.rank), dealer)
        return Semi2k(link, triples, seed=1, trunc_mode=mode)

    try:
        with pytest.raises(PartyFailure, match=message):
            run_spmd(hub, [program] * parties)
    finally:
        dealer.close()


def test_trunc_powers_gives_exact_powers_of_each_truncation(mpc):
    """v^k for several truncations v of one input (one opening under SEMI2K), exact in the ring."""
    rng = np.random.default_rng(77)
    x = rng.integers(-(2**61), 2**61, 600).view(RING)
    x = np.concatenate([x, np.array([0, 2**40, -(2**40)]).view(RING)])
    # ABY3's opt-in local truncation has no wide truncation: small inputs there
    narrow = (mpc.protocol, mpc.trunc_mode) == ("ABY3", "local")
    x = (to_signed(x) >> (20 if narrow else 0)).view(RING)
    plan = ((40, 1), (45, 3), (50, 4), (44, 2))

    def body(p, s):
        return [p.reveal(v) for v in p.trunc_powers(s, plan)] + [p.reveal(p.trunc_wide(s, 50))]

    *powers, v50 = mpc.run_ring(body, x)[0]
    for (bits, degree), power in zip(plan, powers, strict=True):
        roots = arshift(x, bits) + np.array([[0], [1]], dtype=RING)  # floor or floor + 1
        ok = (power == roots[0] ** RING(degree)) | (power == roots[1] ** RING(degree))
        assert ok.all(), f"shift {bits}, power {degree} wrong at x={to_signed(x)[~ok][:3]}"
    diff = to_signed(v50 - arshift(x, 50))
    assert np.isin(diff, (0, 1)).all(), f"trunc_wide off by {diff[~np.isin(diff, (0, 1))][:3]}"
