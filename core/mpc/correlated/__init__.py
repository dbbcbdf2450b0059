"""Correlated randomness for SEMI2K: a trusted dealer and the party-side `TripleProvider`."""

from core.mpc.correlated.dealer import DEALER, TrustedDealer
from core.mpc.correlated.provider import TripleProvider

__all__ = ["DEALER", "TripleProvider", "TrustedDealer"]
