"""MPC protocols behind one interface (`Protocol`), each written from one party's view."""

from __future__ import annotations

from core.comm import Link
from core.mpc.blas import limit_blas_threads
from core.mpc.config import RuntimeConfig
from core.mpc.correlated import TripleProvider, TrustedDealer
from core.mpc.protocols.aby3 import Aby3
from core.mpc.protocols.base import Protocol
from core.mpc.protocols.ref2k import Ref2k
from core.mpc.protocols.semi2k import Semi2k


def make_protocol(
    config: RuntimeConfig,
    link: Link,
    dealer: TrustedDealer | None = None,
    seed: int | None = None,
) -> Protocol:
    """This party's protocol instance (runs the protocol's setup over `link`).

    SEMI2K needs the session's `TrustedDealer`; `seed` makes every PRG deterministic (tests only).
    """
    config.check_world_size(link.world_size)
    limit_blas_threads(1)  # this thread is one simulated party; parties share the cores
    if config.protocol == "REF2K":
        return Ref2k(link, seed=seed)
    if config.protocol == "ABY3":
        return Aby3(link, seed=seed)
    if dealer is None:
        raise ValueError("SEMI2K needs a TrustedDealer")
    triples = TripleProvider(link.rank, dealer.seed_for(link.rank), dealer)
    return Semi2k(link, triples, seed=seed, trunc_mode=config.semi2k_trunc_mode(link.world_size))


__all__ = ["Aby3", "Protocol", "Ref2k", "Semi2k", "make_protocol"]
