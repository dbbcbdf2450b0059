"""PrivPad's secure-computation engine (no Django).

A SecretFlow-style API for computing on data held by several parties: `init`, `PYU`, `SPU`,
`HEU`, `reveal`, in a simulation (`init(parties=...)`) or one process per party
(`init(cluster_config=...)`, with `serve_dealer` for a SEMI2K dealer node). See the subpackages
for protocols (MPC), PSI, HE and ML algorithms.
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
    serve_dealer,
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
    "serve_dealer",
    "shutdown",
    "utils",
]
