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
    parties: Iterable[str], address: str = "local", seed: int | None = None, **options
) -> None:
    """Start a session of simulated parties (one worker thread each) in this process.

    Only `address='local'` is supported. `seed` makes every PRG deterministic (tests only).
    Raises ConfigError for other addresses or unknown options, PartyError for bad party names.
    """
    if address != "local":
        raise ConfigError(f"address {address!r} is not supported; use address='local'")
    unknown = set(options) - _IGNORED_INIT_OPTIONS
    if unknown:
        raise ConfigError(f"unknown init options {sorted(unknown)}")
    if isinstance(parties, str) or not all(isinstance(p, str) and p for p in parties):
        raise PartyError(f"parties must be a collection of non-empty names, got {parties!r}")
    runtime.start(list(parties), seed)


def shutdown() -> None:
    """Stop the session's workers and dealers; safe to call twice."""
    runtime.stop()


def reveal(obj: Any) -> Any:
    """Plaintext of a device object (or a list/tuple/dict of them).

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
    sender bytes and rounds, totals. SEMI2K's trusted dealer appears as the party `dealer`."""
    return runtime.current().stats.snapshot()


def reset_link_stats() -> None:
    runtime.current().stats.reset()
