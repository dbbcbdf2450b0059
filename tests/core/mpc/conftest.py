"""Fixtures for the MPC suite: one contract re-run over protocol x number of parties.

`mpc` is parametrised over (REF2K, 2), (SEMI2K, 2) with its default exact truncation,
(SEMI2K, 2) with exact truncation asked for, (SEMI2K, 3), (ABY3, 3) with its default exact
truncation and (ABY3, 3) with the opt-in local one (Share Truncation I); `mpc128` over the
same cases on FM128 (26 fraction bits, SPU's default there). Its `run(fn, *inputs)` shares
input i from party i % n, runs `fn(ctx, *shares)` SPMD (one thread per party, messages only
through links) and returns what every party revealed, decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from core.comm import LocalLinkHub, run_spmd
from core.mpc.config import RuntimeConfig
from core.mpc.context import MPCContext
from core.mpc.correlated import TrustedDealer
from core.mpc.fixedpoint import FixedPoint
from core.mpc.protocols import make_protocol
from core.mpc.ring import ring_for

PROTOCOL_CASES = [
    ("REF2K", 2, "auto"),
    ("SEMI2K", 2, "auto"),
    ("SEMI2K", 2, "exact"),
    ("SEMI2K", 3, "auto"),
    ("ABY3", 3, "auto"),
    ("ABY3", 3, "local"),
]
SECURE_CASES = [c for c in PROTOCOL_CASES if c[0] != "REF2K"]


def case_id(case: tuple[str, int, str]) -> str:
    protocol, parties, trunc_mode = case
    return f"{protocol}-{parties}" + ("" if trunc_mode == "auto" else f"-{trunc_mode}")


@dataclass
class MPCRunner:
    protocol: str
    parties: int
    trunc_mode: str = "auto"
    seed: int = 7
    fraction_bits: int = 18
    last_stats: dict = field(default_factory=dict)
    field: str = "FM64"

    @property
    def ring(self):
        return ring_for(self.field)

    @property
    def fxp(self) -> FixedPoint:
        return FixedPoint(self.fraction_bits, self.ring)

    def quantize(self, values) -> np.ndarray:
        """What the engine actually computes on: inputs rounded to the fixed-point grid."""
        return self.fxp.decode(self.fxp.encode(values))

    def run_ring(self, fn, *ring_inputs, hub_wrapper=None):
        """Share ring inputs (party i % n owns input i), run fn(proto, *shares) everywhere."""
        names = [f"P{i}" for i in range(self.parties)]
        hub = LocalLinkHub(names)
        cfg = RuntimeConfig(
            protocol=self.protocol,
            field=self.field,
            fxp_fraction_bits=self.fraction_bits,
            trunc_mode=self.trunc_mode,
        )
        dealer = (
            TrustedDealer(names, hub.stats, seed=self.seed) if self.protocol == "SEMI2K" else None
        )

        def program(link):
            if hub_wrapper is not None:
                link = hub_wrapper(link)
            proto = make_protocol(cfg, link, dealer, seed=self.seed)
            shares = []
            for i, value in enumerate(ring_inputs):
                owner = i % self.parties
                value = self.ring.asarray(value)
                shares.append(
                    proto.share(value if link.rank == owner else None, owner, value.shape)
                )
            with np.errstate(over="ignore"):
                return fn(proto, *shares)

        try:
            results = run_spmd(hub, [program] * self.parties)
        finally:
            if dealer is not None:
                dealer.close()
        self.last_stats = hub.stats.snapshot()
        return results

    def run(self, fn, *inputs, hub_wrapper=None) -> np.ndarray:
        """Fixed-point inputs -> fn(ctx, *shares) -> revealed decoded output (parties agree)."""
        fxp = self.fxp
        encoded = [fxp.encode(v) for v in inputs]

        def body(proto, *shares):
            out = fn(MPCContext(proto, fxp), *shares)
            return proto.reveal(out)

        outs = self.run_ring(body, *encoded, hub_wrapper=hub_wrapper)
        for rank, out in enumerate(outs[1:], start=1):
            assert np.array_equal(out, outs[0]), (
                f"party {rank} revealed something else than party 0"
            )
        return fxp.decode(outs[0])


@pytest.fixture(params=PROTOCOL_CASES, ids=[case_id(c) for c in PROTOCOL_CASES])
def mpc(request) -> MPCRunner:
    return MPCRunner(*request.param)


@pytest.fixture(params=PROTOCOL_CASES, ids=[case_id(c) for c in PROTOCOL_CASES])
def mpc128(request) -> MPCRunner:
    return MPCRunner(*request.param, fraction_bits=26, field="FM128")


@pytest.fixture(params=SECURE_CASES, ids=[case_id(c) for c in SECURE_CASES])
def secure_mpc(request) -> MPCRunner:
    return MPCRunner(*request.param)


@pytest.fixture(params=SECURE_CASES, ids=[case_id(c) for c in SECURE_CASES])
def secure_mpc128(request) -> MPCRunner:
    return MPCRunner(*request.param, fraction_bits=26, field="FM128")


@pytest.fixture
def make_runner():
    """MPCRunner itself, for tests that pick protocol, parties and trunc_mode themselves."""
    return MPCRunner
