"""PrivPad's secure-computation engine (no Django).

A SecretFlow-style API for computing on data held by several parties: `init`, `PYU`, `SPU`,
`HEU`, `reveal`. See the subpackages for protocols (MPC), PSI, HE and ML algorithms.
"""

from core import utils
from core.device import (
    HEU,
    PYU,
    SPU,
    HEUObject,
    PYUObject,
    SPUObject,
    init,
    link_stats,
    reset_link_stats,
    reveal,
    shutdown,
)

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
    "shutdown",
    "utils",
]
