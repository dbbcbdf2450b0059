"""Module-level SecretFlow-style functions: init, shutdown, reveal, link statistics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.device import runtime
from core.device.pytree import tree_map
from core.device.pyu import PYUObject
from core.device.spu import SPUObject
from core.errors import ConfigError, PartyError

_IGNORED_INIT_OPTIONS = {"num_cpus", "num_gpus", "log_to_driver", "omp_num_threads", "debug_mode"}


def init(
    parties: Iterable[str] | None = None,
    address: str = "local",
    seed: int | None = None,
    *,
    cluster_config: dict | None = None,
    tls: dict | None = None,
    insecure_plaintext: bool = False,
    timeout: float = 600.0,
    connect_timeout: float = 30.0,
    reconnect_grace: float = 10.0,
    link_transport: str | None = None,
    **options,
) -> None:
    """Start the engine in this process.

    Simulation (`parties=[...]`, `address='local'`): every party runs here, one worker thread
    each, over in-memory links; `seed` makes every PRG deterministic (tests only).

    Production (`cluster_config={"parties": {name: {"address": "host:port"}, ...},
    "self_party": name}`): this process is `self_party`; every party runs the same program in
    its own process and links are mutual-TLS connections (`tls={"key", "cert", "peers":
    {party: cert}}` or `{"key", "cert", "ca"}`, PEM text or paths; `core.comm.tls`): raw TLS
    sockets by default, gRPC streams with `link_transport="grpc"` (every party must use the
    same; `core.comm.transports`).
    Plaintext links need `insecure_plaintext=True` (tests only). `connect_timeout` bounds how
    long peers are retried at start, `timeout` how long a party waits for one message, and
    `reconnect_grace` how long a broken connection may take to be restored (unacknowledged
    messages are then resent) before every party fails.

    Raises ConfigError for bad settings, PartyError for bad party names and LinkError naming
    the peer when links cannot be set up (unreachable, wrong certificate, another link version
    or another set of parties). Devices check more at their setup: the parties of an SPU or HEU
    must all build the same one (ConfigError naming the peer and the setting that differs).
    """
    unknown = set(options) - _IGNORED_INIT_OPTIONS
    if unknown:
        raise ConfigError(f"unknown init options {sorted(unknown)}")
    if cluster_config is not None:
        network = (tls, insecure_plaintext, timeout, connect_timeout, reconnect_grace)
        _init_deployment(parties, seed, cluster_config, *network, link_transport)
        return
    if tls is not None or insecure_plaintext or link_transport is not None:
        raise ConfigError(
            "tls, insecure_plaintext and link_transport apply to production mode (cluster_config)"
        )
    if address != "local":
        raise ConfigError(
            f"address {address!r} is not supported; use address='local' (simulation) or "
            "cluster_config (one process per party)"
        )
    if (
        parties is None
        or isinstance(parties, str)
        or not all(isinstance(p, str) and p for p in parties)
    ):
        raise PartyError(f"parties must be a collection of non-empty names, got {parties!r}")
    runtime.start(list(parties), seed)


def _init_deployment(
    parties, seed, cluster_config, tls, insecure, timeout, connect, grace, link_transport
):
    from core.device.deployment import Deployment, parse_cluster_config

    if seed is not None:
        raise ConfigError(
            "a shared test seed makes every party's randomness predictable; it is accepted "
            "only in a simulation (address='local')"
        )
    addresses, _ = parse_cluster_config(cluster_config)
    if parties is not None and sorted(parties) != sorted(addresses):
        raise PartyError(f"parties {parties!r} differ from cluster_config's {sorted(addresses)}")
    runtime.stop()
    runtime.install(
        Deployment(
            cluster_config,
            tls,
            insecure_plaintext=insecure,
            timeout=timeout,
            connect_timeout=connect,
            reconnect_grace=grace,
            link_transport=link_transport,
        )
    )


def shutdown() -> None:
    """Stop the session's workers, dealers and network links; safe to call twice."""
    runtime.stop()


def reveal(obj: Any) -> Any:
    """Plaintext of a device object (or a list/tuple/dict of them).

    In production mode every party runs the same program and asks for the value: the owner
    of a PYU value sends it to every party, an SPU opens a secret to all its parties.

    Raises PartyError for anything that is not a device object.
    """

    def one(leaf):
        if isinstance(leaf, SPUObject):
            return leaf.device.reveal(leaf)
        if isinstance(leaf, PYUObject):
            return leaf.device.fetch(leaf)
        fetch = getattr(getattr(leaf, "device", None), "reveal", None)
        if fetch is not None and hasattr(leaf, "ref"):
            return fetch(leaf)
        raise PartyError(
            f"reveal expects a device object (PYUObject, SPUObject, ...), got {type(leaf).__name__}"
        )

    if not isinstance(obj, list | tuple | dict):
        return one(obj)
    return tree_map(one, obj)


def link_stats() -> dict:
    """JSON-friendly traffic since the last reset: per ordered pair bytes and messages, per
    sender bytes and rounds, totals. SEMI2K's simulated dealer appears as the party `dealer`.
    In production mode each process counts what its own party sent."""
    return runtime.current().stats.snapshot()


def reset_link_stats() -> None:
    runtime.current().stats.reset()
