"""SEMI2K's correlated randomness from a trusted first party (SPU's `TrustedFirstParty`).

Scheme: one named party G of the SPU draws one 128-bit PRG seed per party and sends party i its
seed once, at setup, over the SPU's own link. From then on every party draws its free parts of
each correlation from its seed exactly as with a dealer (`core.mpc.correlated.kinds`), and G,
which holds every seed, replays all parties' draws and computes its own fixed parts locally.
No dealer process exists and no message travels for correlations after setup.

Trust assumption (stated again in `core.mpc.protocols.semi2k`): G learns every party's
correlated randomness. The protocol opens x - a and y - b for a Beaver triple (a, b, c) and
c = x + r for a truncation mask r, so G *could* recover every secret value that is multiplied,
compared or truncated. Privacy against G therefore rests on G being trusted not to look: a
semi-honest G that never inspects what it generated, acting as a dealer co-located with a
party. Against every coalition without G the protocol keeps SEMI2K's guarantee (those parties
only know their own seeds). Choose it when the parties accept G as their dealer; otherwise run
a separate dealer process that colludes with no party (`core.mpc.correlated.remote`).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from core.comm import Link
from core.errors import LinkError
from core.mpc.correlated.dealer import fix_parts
from core.mpc.correlated.kinds import Parts
from core.mpc.correlated.provider import TripleProvider
from core.mpc.prg import PRG, SEED_BYTES, fresh_seed


class FirstPartyDealer:
    """G's local dealer: replays every party's PRG, lazily and in request order.

    `submit` only records a request; `collect` replays the parties' draws and computes G's fixed
    parts. Protocols ask for them between sending their masked values and receiving the
    peers' (`core.mpc.correlated.provider.prepare`), so G does this work while the messages
    travel instead of before sending (most of a Beaver triple's cost: replaying every party's
    a, b, c and multiplying). The draws are the same whenever they happen: each PRG is
    replayed in request order.
    """

    computes_here = True  # `core.mpc.correlated.provider.prepare` runs it early

    def __init__(self, seeds: list[bytes], fixed_rank: int):
        self._prgs = [PRG(seed) for seed in seeds]
        self._fixed_rank = fixed_rank
        self._requested: deque[tuple[str, tuple]] = deque()

    def submit(self, kind: str, params: tuple) -> None:
        self._requested.append((kind, params))

    def collect(self, kind: str, params: tuple) -> Parts:
        requested = self._requested.popleft()
        if requested != (kind, params):  # the provider collects in request order
            raise RuntimeError(f"collected {kind} {params} before {requested[0]} {requested[1]}")
        return fix_parts(self._prgs, self._fixed_rank, kind, params)


def first_party_triples(link: Link, generator: int, seed: int | None = None) -> TripleProvider:
    """This party's `TripleProvider` with rank `generator` as the trusted first party.

    Runs the setup over `link` (G sends each other party its seed). `seed` makes the seeds
    deterministic and is accepted by simulated links only.
    """
    if link.rank == generator:
        seeds = [_seed(seed, rank) for rank in range(link.world_size)]
        for peer in range(link.world_size):
            if peer != generator:
                link.send(peer, np.frombuffer(seeds[peer], dtype=np.uint8))
        dealer = FirstPartyDealer(seeds, generator)
        return TripleProvider(generator, seeds[generator], dealer, fixed_rank=generator)
    received = link.recv(generator)
    if not isinstance(received, np.ndarray) or received.dtype != np.uint8:
        raise LinkError(f"{link.party!r} expected a PRG seed from {link.parties[generator]!r}")
    if received.size != SEED_BYTES:
        raise LinkError(
            f"{link.party!r} got a {received.size}-byte seed from {link.parties[generator]!r}, "
            f"expected {SEED_BYTES}"
        )
    return TripleProvider(link.rank, bytes(received), None, fixed_rank=generator)


def _seed(seed: int | None, rank: int) -> bytes:
    if seed is None:
        return fresh_seed()
    return (seed * 1_000_033 + rank).to_bytes(SEED_BYTES, "little")
