"""MPC protocols behind one interface (`Protocol`), each written from one party's view."""

from __future__ import annotations

from core.comm import Link
from core.errors import ConfigError
from core.mpc.blas import limit_blas_threads
from core.mpc.config import RuntimeConfig
from core.mpc.correlated import TripleProvider, TrustedDealer
from core.mpc.protocols.aby3 import Aby3
from core.mpc.protocols.base import Protocol
from core.mpc.protocols.ref2k import Ref2k
from core.mpc.protocols.semi2k import Semi2k
from core.mpc.ring import ring_for


def make_protocol(
    config: RuntimeConfig,
    link: Link,
    dealer: TrustedDealer | None = None,
    seed: int | None = None,
    triples: TripleProvider | None = None,
) -> Protocol:
    """This party's protocol instance (runs the protocol's setup over `link`).

    SEMI2K takes its correlated randomness from `triples` (a ready `TripleProvider`, e.g. from
    `first_party_triples`) or else from the simulation's in-process `dealer`. `seed` makes
    every PRG deterministic: tests only, and refused (ConfigError) unless `link` is simulated,
    since every party could then predict every other party's randomness.
    """
    config.check_world_size(link.world_size)
    if seed is not None and not link.simulation:
        raise ConfigError(
            "a shared test seed makes every party's randomness predictable; it is accepted "
            "only in a simulation (address='local')"
        )
    # One thread per party: simulated parties share the cores, and a deployed party's BLAS
    # threads would only compete with its link's threads.
    limit_blas_threads(1)
    ring = ring_for(config.field)
    if config.protocol == "REF2K":
        return Ref2k(link, seed=seed, ring=ring)
    trunc_mode = config.resolved_trunc_mode()
    if config.protocol == "ABY3":
        return Aby3(link, seed=seed, trunc_mode=trunc_mode, ring=ring)
    if triples is None:
        if dealer is None:
            raise ValueError("SEMI2K needs a TrustedDealer or a TripleProvider")
        triples = TripleProvider(link.rank, dealer.seed_for(link.rank), dealer)
    return Semi2k(link, triples, seed=seed, trunc_mode=trunc_mode, ring=ring)


__all__ = ["Aby3", "Protocol", "Ref2k", "Semi2k", "make_protocol"]
