"""SPU sessions for components, and secret-shared values persisted as per-party files.

`spu_session` gives a component its own simulated cluster of the run's parties, bound to the
component's thread only (`core.device.runtime.using`), so components that compute on secret
shares run side by side with no process-wide lock; the cluster's traffic is counted into the
run's `ctx.comm` (SEMI2K's trusted dealer appears as `dealer`).

Secret-shared results that must outlive a run (an SS-LR model's weights) are persisted share by
share: each party writes only its own share (`export_share`, run at that party by the SPU's own
per-party program) and later loads only its own file (`import_shares`). The shares are the
protocol's ring shares (uint64, additive mod 2^64 for SEMI2K), so a file alone reveals nothing;
they can be loaded into a new SPU with the same parties, protocol and fixed-point precision.
The engine has no public export/import of shares yet, so this module is the one place that
reaches into the SPU's per-party stores (`SPU._spmd`, `_stores`, `_ctx`, `_keep`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import core
from core.device import runtime
from core.errors import PartyFailure
from workflows.components.context import RunCancelled, RunContext

PROTOCOL = "SEMI2K"
FRACTION_BITS = 18


@contextmanager
def spu_session(ctx: RunContext, parties: list[str]) -> Iterator[core.SPU]:
    """An SPU over `parties` (SEMI2K) on a cluster of this thread, its traffic in `ctx.comm`."""
    with runtime.using(runtime.Simulation(list(parties), stats=ctx.comm)):
        config = {"protocol": PROTOCOL, "field": "FM64", "fxp_fraction_bits": FRACTION_BITS}
        yield core.SPU({"nodes": list(parties), "runtime_config": config})


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
