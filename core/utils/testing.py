"""Helpers for tests and examples, mirroring `secretflow.utils.testing`."""

from __future__ import annotations

from core.errors import ConfigError


def cluster_def(parties: list[str], runtime_config: dict | None = None) -> dict:
    """An SPU cluster definition: ABY3 for exactly 3 parties, SEMI2K otherwise; field FM64.

    Nodes get addresses 127.0.0.1:61000, 61001, ...: a simulation ignores them, a deployment
    (`init(cluster_config=...)`) listens there for the SPU's own links.

    `runtime_config` entries override the defaults (e.g. {"protocol": "REF2K"}).
    """
    if isinstance(parties, str) or len(parties) < 2:
        raise ConfigError(f"an SPU cluster needs at least 2 parties, got {parties!r}")
    config = {"protocol": "ABY3" if len(parties) == 3 else "SEMI2K", "field": "FM64"}
    config.update(runtime_config or {})
    nodes = [{"party": p, "address": f"127.0.0.1:{61000 + i}"} for i, p in enumerate(parties)]
    return {"nodes": nodes, "runtime_config": config}
