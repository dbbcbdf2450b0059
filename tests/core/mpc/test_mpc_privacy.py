"""What a party receives during SEMI2K and ABY3 kernels reveals nothing about others' inputs.

1. Independence: party 0 records every word it receives while computing on a secret of the
   other parties. Over many runs (fresh randomness each), the received words are uniform on
   Z_2^64 and their distribution is the same for two very different secrets (two-sample KS).
   On FM128 both 64-bit limbs of every received ring element are tested the same way.
2. Nothing is opened except by reveal: no word received before `reveal` equals an encoding of
   an input or of an intermediate result.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.comm.expect import check_like
from core.mpc.kernels import arith, compare, nonlinear
from core.mpc.ring128 import DTYPE128

KS_CRITICAL = 1.95  # Kolmogorov distribution quantile for alpha = 0.001


class RecordingLink:
    """Wraps one party's link and keeps every ring-word payload it receives.

    uint32 words (ABY3's wrap-count shares) are kept as the top halves of uint64 words, so
    the same uniformity tests apply to them.
    """

    def __init__(self, link, log: list):
        self._link = link
        self.log = log
        self.rank, self.world_size = link.rank, link.world_size
        self.parties, self.party = link.parties, link.party
        self.simulation = link.simulation

    def send(self, to, obj):
        self._link.send(to, obj)

    def send_all(self, obj):
        for peer in range(self.world_size):
            if peer != self.rank:
                self.send(peer, obj)

    def recv(self, frm):
        obj = self._link.recv(frm)
        for part in obj if isinstance(obj, list | tuple) else [obj]:
            if isinstance(part, np.ndarray) and part.dtype == np.uint64:
                self.log.append(np.array(part).ravel())
            elif isinstance(part, np.ndarray) and part.dtype == DTYPE128:  # FM128: both limbs
                plain = np.asarray(part)
                self.log.extend([plain["lo"].ravel().copy(), plain["hi"].ravel().copy()])
            elif isinstance(part, np.ndarray) and part.dtype == np.uint32:
                self.log.append(part.ravel().astype(np.uint64) << np.uint64(32))
        return obj

    def recv_like(self, frm, like, what):
        return check_like(self._link, frm, self.recv(frm), like, what)


def _recorded(mpc, kernel, secret: np.ndarray, mine: np.ndarray, record_rank: int = 0):
    """Words received by `record_rank`; input 0 (mine) belongs to party 0, input 1 to party 1."""
    logs: dict[int, list] = {}

    def wrap(link):
        logs[link.rank] = []
        return RecordingLink(link, logs[link.rank])

    fxp = mpc.fxp

    def body(proto, mine_s, secret_s):
        from core.mpc.context import MPCContext

        if proto.rank in logs:
            logs[proto.rank].clear()  # ignore setup and input sharing; record the kernel only
        kernel(MPCContext(proto, fxp), mine_s, secret_s)

    mpc.run_ring(body, fxp.encode(mine), fxp.encode(secret), hub_wrapper=wrap)
    return np.concatenate(logs[record_rank]) if logs[record_rank] else np.zeros(0, np.uint64)


def _ks_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    both = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), both, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), both, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _ks_uniform(u: np.ndarray) -> float:
    u = np.sort(u)
    n = len(u)
    grid = np.arange(1, n + 1) / n
    return float(max(np.max(grid - u), np.max(u - (grid - 1 / n))))


def _unit(words: np.ndarray) -> np.ndarray:
    return (words >> np.uint64(11)).astype(np.float64) / 2.0**53


KERNELS = {
    "mul": lambda c, x, y: arith.mul_ss(c, x, y),
    "less": lambda c, x, y: compare.less_ss(c, x, y),
    "div": lambda c, x, y: nonlinear.div_ss(c, x, y),
}


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_received_words_are_independent_of_the_secret(secure_mpc, kernel):
    mine = np.linspace(1, 2, 16)
    samples = {}
    for label, secret in (("small", np.full(16, 0.5)), ("large", np.full(16, 3000.25))):
        words = []
        for run in range(12):
            secure_mpc.seed = 1000 * (label == "large") + run
            words.append(_recorded(secure_mpc, KERNELS[kernel], secret, mine))
        samples[label] = _unit(np.concatenate(words))
    a, b = samples["small"], samples["large"]
    assert len(a) == len(b) >= 150, f"expected the same transcript length, got {len(a)} vs {len(b)}"
    for label, u in samples.items():
        stat = _ks_uniform(u) * np.sqrt(len(u))
        assert stat < KS_CRITICAL, (
            f"{kernel}: words received with the {label} secret are not uniform (KS {stat:.2f})"
        )
    stat = _ks_two_sample(a, b) * np.sqrt(len(a) * len(b) / (len(a) + len(b)))
    assert stat < KS_CRITICAL, (
        f"{kernel}: transcripts differ between secrets 0.5 and 3000.25 (KS {stat:.2f})"
    )


def test_nothing_is_opened_before_reveal(secure_mpc):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(1, 5, 64), rng.uniform(1, 5, 64)
    fxp = secure_mpc.fxp
    plain = [fxp.encode(v) for v in (x, y, x * y, x - y, y - x, np.exp(x), x / y)]
    raw_product = (fxp.encode(x) * fxp.encode(y)).astype(np.uint64)
    forbidden = np.concatenate([*plain, raw_product])

    def pipeline(c, sx, sy):
        prod = arith.mul_ss(c, sx, sy)
        compare.less_ss(c, sx, sy)
        nonlinear.exp(c, sx)
        nonlinear.div_ss(c, sx, sy)
        return prod

    for rank in range(secure_mpc.parties):
        received = _recorded(secure_mpc, pipeline, y, x, record_rank=rank)
        leaked = np.isin(received, forbidden)
        assert not leaked.any(), f"party {rank} received plaintext word {received[leaked][0]}"
        assert received.size > 0


@pytest.mark.parametrize("kernel", ["mul", "less"])
def test_fm128_received_words_are_independent_of_the_secret(secure_mpc128, kernel):
    """The same test on FM128: secrets 0.5 and 3e12 (beyond FM64's products) look alike."""
    mine = np.linspace(1, 2, 16)
    samples = {}
    for label, secret in (("small", np.full(16, 0.5)), ("large", np.full(16, 3e12))):
        words = []
        for run in range(8):
            secure_mpc128.seed = 1000 * (label == "large") + run
            words.append(_recorded(secure_mpc128, KERNELS[kernel], secret, mine))
        samples[label] = _unit(np.concatenate(words))
    a, b = samples["small"], samples["large"]
    assert len(a) == len(b) >= 150, f"expected the same transcript length, got {len(a)} vs {len(b)}"
    for label, u in samples.items():
        stat = _ks_uniform(u) * np.sqrt(len(u))
        assert stat < KS_CRITICAL, f"{kernel}: FM128 words with the {label} secret (KS {stat:.2f})"
    stat = _ks_two_sample(a, b) * np.sqrt(len(a) * len(b) / (len(a) + len(b)))
    assert stat < KS_CRITICAL, f"{kernel}: FM128 transcripts differ by secret (KS {stat:.2f})"


def test_fm128_opens_nothing_before_reveal(secure_mpc128):
    """No received 64-bit limb equals the low limb of an input's or a result's encoding (for
    values below 2^38 the high limb is 0 or all ones; a random limb hits them with
    probability ~2^-55 in this test)."""
    rng = np.random.default_rng(4)
    x, y = rng.uniform(1, 5, 64), rng.uniform(1, 5, 64)
    fxp = secure_mpc128.fxp
    plain = [fxp.encode(v) for v in (x, y, x * y, x - y, np.exp(x), x / y)]
    forbidden = np.concatenate([np.asarray(p)["lo"].ravel() for p in plain])

    def pipeline(c, sx, sy):
        prod = arith.mul_ss(c, sx, sy)
        compare.less_ss(c, sx, sy)
        nonlinear.exp(c, sx)
        nonlinear.div_ss(c, sx, sy)
        return prod

    for rank in range(secure_mpc128.parties):
        received = _recorded(secure_mpc128, pipeline, y, x, record_rank=rank)
        leaked = np.isin(received, forbidden)
        assert not leaked.any(), f"party {rank} received an encoding's limb {received[leaked][0]}"
        assert received.size > 0
