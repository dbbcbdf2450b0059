"""Run every party of a PSI in this process: one thread per party over an in-memory hub.

This is the `address='local'` simulation used by tests, benchmarks and pipeline components.
All parties share one process pool (one worker per core), so the scalar multiplications of
every party keep all cores busy; each party still only reaches its own data and its own link.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from core.comm import CommStats, LocalLinkHub, run_spmd
from core.errors import ConfigError
from core.psi.kernels import make_pool
from core.psi.protocol import PsiResult, ecdh_psi

PROTOCOLS = ("ecdh", "kkrt")


def run_local_psi(
    inputs: Sequence[object],
    keys: Sequence[str | Sequence[str] | None],
    *,
    parties: Sequence[str] | None = None,
    output_paths: Sequence[str | os.PathLike | None] | None = None,
    pool: Executor | None = None,
    workers: int | None = None,
    progress: Callable[[str, float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    hub: LocalLinkHub | None = None,
    stats: CommStats | None = None,
    protocol: str = "ecdh",
    **options,
) -> list[PsiResult]:
    """Run ECDH-PSI (or, with `protocol="kkrt"`, two-party KKRT-PSI) with one party per input.

    Returns each party's PsiResult by rank. `keys[i]` names party i's key columns; `parties`
    names the parties (default party0, party1, ...); `output_paths[i]` is where party i's
    aligned rows go (None: rows only). `progress(party, fraction)` reports each party's
    progress. Traffic is counted into `stats` (or read from `hub`, a ready in-memory hub).
    Other keyword options go to `ecdh_psi` (or `kkrt_psi`) for every party. ECDH-PSI's parties
    share one process pool (`pool`, or a new one of `workers` stopped at the end). KKRT-PSI
    hashes in each party's own thread unless `pool` is given: one process per party then uses
    one core each, and in this one-process simulation a pool lets both cores hash at once, at
    the price of copying the work to the workers (about 20% more CPU in all; slower on a busy
    machine). A failing party raises PartyFailure naming it.
    """
    names = list(parties) if parties is not None else [f"party{i}" for i in range(len(inputs))]
    outputs = list(output_paths) if output_paths is not None else [None] * len(inputs)
    if not len(inputs) == len(keys) == len(names) == len(outputs):
        raise ConfigError(
            f"need one input, key list, party name and output per party; got {len(inputs)} "
            f"inputs, {len(keys)} key lists, {len(names)} names, {len(outputs)} outputs"
        )
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown PSI protocol {protocol!r}; choose one of {PROTOCOLS}")
    if protocol == "kkrt" and len(names) != 2:
        raise ConfigError(f"KKRT-PSI runs between exactly two parties, got {names}")
    hub = hub if hub is not None else LocalLinkHub(names, stats=stats)
    if protocol == "kkrt":
        kkrt_options = options | {"pool": pool}
        programs = [
            _kkrt_program(
                inputs[i], keys[i], outputs[i], names[i], progress, should_cancel, kkrt_options
            )
            for i in range(2)
        ]
        return run_spmd(hub, programs)
    own_pool = pool is None
    pool = pool if pool is not None else make_pool(workers)
    try:
        programs = [
            _program(
                inputs[i], keys[i], outputs[i], names[i], pool, progress, should_cancel, options
            )
            for i in range(len(names))
        ]
        return run_spmd(hub, programs)
    finally:
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _program(data, keys, output, name, pool, progress, should_cancel, options):
    report = (lambda fraction: progress(name, fraction)) if progress is not None else None

    def program(link):
        return ecdh_psi(
            link,
            data,
            keys,
            output_path=output,
            pool=pool,
            progress=report,
            should_cancel=should_cancel,
            **options,
        )

    return program


def _kkrt_program(data, keys, output, name, progress, should_cancel, options):
    from core.psi.kkrt import kkrt_psi  # imported on use: ECDH-only callers never load it

    report = (lambda fraction: progress(name, fraction)) if progress is not None else None

    def program(link):
        return kkrt_psi(
            link,
            data,
            keys,
            output_path=output,
            progress=report,
            should_cancel=should_cancel,
            **options,
        )

    return program
