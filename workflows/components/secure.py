"""SPU sessions for components, and secret-shared values persisted as per-party files.

The engine's SecretFlow-style API (`core.init`, `PYU`, `SPU`) keeps one session per process, so
`spu_session` serialises components that use it (one at a time per process) and counts the
session's traffic into the run's `ctx.comm` (SEMI2K's trusted dealer appears as `dealer`).

Secret-shared results that must outlive a run (an SS-LR model's weights) are persisted share by
share: each party writes only its own share (`export_share`, run at that party by the SPU's own
per-party program) and later loads only its own file (`import_shares`). The shares are the
protocol's ring shares (uint64, additive mod 2^64 for SEMI2K), so a file alone reveals nothing;
they can be loaded into a new SPU with the same parties, protocol and fixed-point precision.
The engine has no public export/import of shares yet, so this module is the one place that
reaches into the SPU's per-party stores (`SPU._spmd`, `_stores`, `_ctx`, `_keep`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import core
from core.device import runtime
from core.errors import PartyFailure
from workflows.components.context import RunCancelled, RunContext

PROTOCOL = "SEMI2K"
FRACTION_BITS = 18
_SESSION_LOCK = threading.Lock()


@contextmanager
def spu_session(ctx: RunContext, parties: list[str]) -> Iterator[core.SPU]:
    """An SPU over `parties` (SEMI2K), its traffic counted in `ctx.comm`; one at a time."""
    with _SESSION_LOCK:
        core.init(parties=list(parties), address="local")
        try:
            # The SPU's hub and dealer count into the session's stats when they are built.
            runtime.current().stats = ctx.comm
            config = {"protocol": PROTOCOL, "field": "FM64", "fxp_fraction_bits": FRACTION_BITS}
            yield core.SPU({"nodes": list(parties), "runtime_config": config})
        finally:
            core.shutdown()


def at_party(party: str, fn: Callable[..., Any], *args: Any) -> core.PYUObject:
    """Run `fn` on `party`'s worker (its own data only); the result stays at that party.

    `args` may hold that party's PYU objects. Errors become `PartyFailure(party, error)`.
    """
    try:
        return core.PYU(party)(fn)(*args)
    except (RunCancelled, PartyFailure):
        raise
    except Exception as error:
        raise PartyFailure(party, error) from error
