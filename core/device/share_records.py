"""One party's share of an SPU value as a JSON-ready record, for values that outlive a session.

A trained model's weights stay secret-shared after training; to use them in a later session,
each party stores its own share (`SPU.export_shares`) and later loads only its own record
(`SPU.import_shares`). A record holds the protocol's ring shares of that party, integers mod
2^64 (FM64) or 2^128 (FM128) of shape (components, *shape) (see `core.mpc.shares`): one
additive share under SEMI2K, a replicated pair under ABY3. Under the protocol's threat model a
record alone is uniformly
random and reveals nothing about the value; records of a coalition the protocol tolerates
(one party of SEMI2K's n, one of ABY3's three) reveal nothing either. REF2K, the plaintext
oracle, stores the value itself, as it does in memory.

A record also keeps the value's public interval (`core.mpc.bounds`; every party knows it
already), so a loaded value keeps its overflow checks; records without one load as unbounded.

Shares only make sense together, in the SPU they came from: the record names the protocol, the
field, the fixed-point precision, the parties in rank order and its own party, and loading
refuses a record that does not match the SPU (or the party) it is loaded into.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import ConfigError
from core.mpc import ring128
from core.mpc.bounds import Interval
from core.mpc.config import RuntimeConfig
from core.mpc.ring import RING128, Ring, ring_for
from core.mpc.shares import AShare

RECORD_FORMAT = "spu-share/1"
KINDS = ("fxp", "int", "bool")


def share_record(
    config: RuntimeConfig,
    parties: list[str],
    party: str,
    share: AShare,
    kind: str,
    interval: Interval | None = None,
) -> dict[str, Any]:
    """The record of `party`'s own `share` of a value of `kind` (see the module docstring)."""
    bounds = {} if interval is None else {"interval": [interval.lo, interval.hi]}
    return {
        **bounds,
        "format": RECORD_FORMAT,
        "protocol": config.protocol,
        "field": config.field,
        "fxp_fraction_bits": config.fxp_fraction_bits,
        "parties": list(parties),
        "party": party,
        "shape": list(share.shape),
        "kind": kind,
        "share": [
            [int(v) for v in ring_for(config.field).to_ints(component.ravel())]
            for component in share.data
        ],
    }


def share_from_record(
    config: RuntimeConfig, parties: list[str], party: str, record: Any, components: int
) -> tuple[AShare, str]:
    """`party`'s share and kind from its record; ConfigError naming any mismatch.

    `components` is how many ring components one share has under `config.protocol`.
    """
    if not isinstance(record, dict):
        raise ConfigError(f"a share record must be a dict, got {type(record).__name__}")
    _check_origin(config, parties, party, record)
    shape, kind = _shape_and_kind(record)
    data = _ring_values(record.get("share"), components, shape, ring_for(config.field))
    return AShare(data), kind


def interval_from_record(record: dict) -> Interval | None:
    """The public interval a record carries (None if it has none); ConfigError if malformed."""
    value = record.get("interval")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and np.isfinite(v) for v in value)
        or value[0] > value[1]
    ):
        raise ConfigError(f"share record interval must be [lo, hi] with lo <= hi, got {value!r}")
    return Interval(float(value[0]), float(value[1]))


def _check_origin(config: RuntimeConfig, parties: list[str], party: str, record: dict) -> None:
    # Records written before the format was named lack `format`, `field`, `parties` and `party`;
    # what they do carry is still checked.
    if record.get("format", RECORD_FORMAT) != RECORD_FORMAT:
        raise ConfigError(f"unknown share record format {record.get('format')!r}")
    expected = {
        "protocol": config.protocol,
        "field": config.field,
        "fxp_fraction_bits": config.fxp_fraction_bits,
        "parties": list(parties),
        "party": party,
    }
    for name, value in expected.items():
        if name in record and record[name] != value:
            raise ConfigError(
                f"share record of {party!r} has {name} {record[name]!r}, but this SPU needs "
                f"{value!r}: shares load only into an SPU like the one that made them"
            )
    for name in ("protocol", "fxp_fraction_bits"):
        if name not in record:
            raise ConfigError(f"share record of {party!r} lacks {name!r}")


def _shape_and_kind(record: dict) -> tuple[tuple[int, ...], str]:
    shape = record.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ConfigError(f"share record shape must be a list of sizes, got {shape!r}")
    kind = record.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"share record kind must be one of {KINDS}, got {kind!r}")
    return tuple(shape), kind


def _ring_values(share: Any, components: int, shape: tuple[int, ...], ring: Ring) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    if (
        not isinstance(share, list)
        or len(share) != components
        or not all(isinstance(c, list) and len(c) == size for c in share)
    ):
        raise ConfigError(
            f"share record must hold {components} component(s) of {size} ring values "
            f"for shape {list(shape)}"
        )
    if not all(isinstance(v, int) and 0 <= v < 1 << ring.bits for c in share for v in c):
        raise ConfigError(f"share record values must be integers in [0, 2^{ring.bits})")
    if ring is RING128:
        return ring128.from_ints(share).reshape((components, *shape))
    return np.array(share, dtype=np.uint64).reshape((components, *shape))
