"""Private set intersection: ECDH-PSI on X25519 for two or more parties, KKRT-PSI for two.

`ecdh_psi(link, data, keys, ...)` runs one party; `run_psi(parties, inputs, keys, ...)` runs the
parties of the current cluster where they live (all here in a simulation, one per process in a
deployment); `run_local_psi(inputs, keys, ...)` runs all parties in this process without a cluster
(`protocol="kkrt"` for KKRT-PSI, `kkrt_psi(link, ...)` in `core.psi.kkrt`). See `core.psi.protocol`
and `core.psi.kkrt` for the schemes and threat models.

Names are imported lazily so that pool worker processes, which only need `core.psi.kernels`,
do not pay for importing pandas.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ecdh_psi": "core.psi.protocol",
    "kkrt_psi": "core.psi.kkrt",
    "CuckooHashingError": "core.psi.errors",
    "PsiResult": "core.psi.protocol",
    "run_local_psi": "core.psi.local",
    "run_psi": "core.psi.cluster",
    "DuplicateKeyError": "core.psi.errors",
    "EmptyIntersectionError": "core.psi.errors",
    "LowOrderPointError": "core.psi.errors",
    "PsiCancelled": "core.psi.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'core.psi' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
