"""PSI among the parties of the current cluster (`core.init`): each party runs where it lives.

`run_psi(parties, inputs, keys)` is the device-level entry point: in a simulation every party
runs here on its own worker, in a deployment only this process's party runs, over the
cluster's network links (its own channel). `inputs`, `keys` and `output_paths` map party names
to that party's own input; a process only reads the entries of its own party, so a deployed
party passes just its own. The links come from the cluster (`group_links`), never from a hub
built here; `core.psi.local.run_local_psi` remains the stand-alone in-process simulation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from core.device import runtime
from core.errors import ConfigError
from core.psi.local import PROTOCOLS
from core.psi.protocol import PsiResult


def run_psi(
    parties: Sequence[str],
    inputs: Mapping[str, object],
    keys: Mapping[str, str | Sequence[str] | None],
    *,
    protocol: str = "ecdh",
    output_paths: Mapping[str, str | os.PathLike] | None = None,
    **options,
) -> dict[str, PsiResult]:
    """This process's parties' PsiResults (all of them in a simulation) by party name.

    `protocol` is "ecdh" (2..N parties) or "kkrt" (exactly 2); other keyword options go to
    `ecdh_psi` / `kkrt_psi`. Raises ConfigError for a bad protocol or a local party without an
    input, PartyFailure / LinkError naming the party that failed.
    """
    cluster = runtime.current()
    parties = list(parties)
    for party in parties:
        cluster.check_party(party)
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown PSI protocol {protocol!r}; choose one of {PROTOCOLS}")
    if protocol == "kkrt" and len(parties) != 2:
        raise ConfigError(f"KKRT-PSI runs between exactly two parties, got {parties}")
    local = [p for p in parties if cluster.is_local(p)]
    missing = [p for p in local if p not in inputs]
    if missing:
        raise ConfigError(f"no PSI input for {missing}, which run in this process")
    links = cluster.group_links(parties, cluster.next_group("psi"))
    run = _engine(protocol)
    outputs = output_paths or {}

    def program(party: str):
        return lambda: run(
            links[party], inputs[party], keys.get(party), output_path=outputs.get(party), **options
        )

    programs, step = [program(p) for p in parties], f"{protocol} PSI among {parties}"
    results = cluster.run_all(parties, programs, links=list(links.values()), step=step)
    return dict(zip(local, results, strict=True))


def _engine(protocol: str):
    if protocol == "kkrt":
        from core.psi.kkrt import kkrt_psi

        return kkrt_psi
    from core.psi.protocol import ecdh_psi

    return ecdh_psi
