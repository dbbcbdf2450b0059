"""Correlated randomness for SEMI2K: where it comes from (an in-process dealer thread in a
simulation, a trusted first party, a dealer process) and the party-side `TripleProvider`."""

from core.mpc.correlated.dealer import DEALER, TrustedDealer
from core.mpc.correlated.first_party import first_party_triples
from core.mpc.correlated.provider import TripleProvider

__all__ = ["DEALER", "TripleProvider", "TrustedDealer", "first_party_triples"]
