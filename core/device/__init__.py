"""SecretFlow-style devices: PYU (plaintext at one party), SPU (secret sharing), HEU (Paillier)."""

from core.device.api import init, link_stats, reset_link_stats, reveal, shutdown
from core.device.dealer_node import serve_dealer
from core.device.heu import HEU, HEUObject
from core.device.pyu import PYU, PYUObject
from core.device.spu import SPU, SPUObject

__all__ = [
    "HEU",
    "HEUObject",
    "PYU",
    "SPU",
    "PYUObject",
    "SPUObject",
    "init",
    "link_stats",
    "reset_link_stats",
    "reveal",
    "serve_dealer",
    "shutdown",
]
