"""One party's share of an SPU value as a JSON-ready record, for values that outlive a session.

A trained model's weights stay secret-shared after training; to use them in a later session,
each party stores its own share (`SPU.export_shares`) and later loads only its own record
(`SPU.import_shares`). A record holds the protocol's ring shares of that party, integers mod
2^64 (FM64) or 2^128 (FM128) of shape (components, *shape) (see `core.mpc.shares`): one
additive share under SEMI2K, a replicated pair under ABY3. Under the protocol's threat model a
record alone is uniformly random and reveals nothing about the value; records of a coalition
the protocol tolerates (one party of SEMI2K's n, one of ABY3's three) reveal nothing either.
REF2K, the plaintext oracle, stores the value itself, as it does in memory.

A record also keeps the value's public interval (`core.mpc.bounds`; every party knows it
already), so a loaded value keeps its overflow checks; records without one load as unbounded.

Shares only make sense together, in the SPU they came from: the record names the protocol, the
field, the fixed-point precision, the parties in rank order and its own party, and loading
refuses a record that does not match the SPU (or the party) it is loaded into.

Shares also only make sense with the other shares *of the same value*: bob's share of x
added to alice's share of y is a valid-looking share of neither, and its reveal a wrong
number. So every record of one export names that export, `value_id`: 128 random bits (32 hex
digits), drawn at export by the SPU's first party from the OS's randomness (never a session's
test seed, so two sessions never repeat an id) and sent to the other parties over the SPU's
link (`core.device.share_exchange`). It is independent of the value and its shares, so it
reveals nothing about them. At import the parties exchange the ids they loaded and refuse,
each of them, records of different exports, naming which party holds which.

Format `spu-share/2` (this one): `format`, `value_id`, `protocol`, `field`,
`fxp_fraction_bits`, `parties`, `party`, `shape`, `kind`, `share` and optionally `interval`,
all required but the last. Records of format `spu-share/1` (or older, without `format`) carry
no `value_id`, so nothing could tell a mixed-up one: loading refuses them with an error asking
for a new export (for an SS-LR model: train it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.mpc import ring128
from core.mpc.bounds import Interval
from core.mpc.config import RuntimeConfig
from core.mpc.ring import RING128, Ring, ring_for
from core.mpc.shares import AShare

RECORD_FORMAT = "spu-share/2"
OLD_FORMATS = (None, "spu-share/1")  # before records named their export: refused
KINDS = ("fxp", "int", "bool")
VALUE_ID_HEX_DIGITS = 32  # 128 random bits


@dataclass(frozen=True)
class LoadedRecord:
    """What one party's record holds, checked against the SPU it is loaded into."""

    share: AShare
    kind: str
    interval: Interval | None
    value_id: str


def is_value_id(value: Any) -> bool:
    """Whether `value` is a well-formed export id: 32 lowercase hex digits."""
    return (
        isinstance(value, str)
        and len(value) == VALUE_ID_HEX_DIGITS
        and all(c in "0123456789abcdef" for c in value)
    )


def share_record(
    config: RuntimeConfig,
    parties: list[str],
    party: str,
    share: AShare,
    kind: str,
    value_id: str,
    interval: Interval | None = None,
) -> dict[str, Any]:
    """The record of `party`'s own `share` of a value of `kind`, exported as `value_id`
    (see the module docstring)."""
    assert is_value_id(value_id), "the export's id comes from share_exchange.agree_value_id"
    bounds = {} if interval is None else {"interval": [interval.lo, interval.hi]}
    return {
        **bounds,
        "format": RECORD_FORMAT,
        "value_id": value_id,
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


def load_record(
    config: RuntimeConfig, parties: list[str], party: str, record: Any, components: int
) -> LoadedRecord:
    """`party`'s share, kind, interval and export id from its record; ConfigError naming the
    party and any mismatch or damage (never a share value).

    `components` is how many ring components one share has under `config.protocol`.
    """
    if not isinstance(record, dict):
        raise ConfigError(f"share record of {party!r} must be a dict, got {type(record).__name__}")
    _check_format(party, record)
    _check_origin(config, parties, party, record)
    shape, kind = _shape_and_kind(party, record)
    data = _ring_values(party, record.get("share"), components, shape, ring_for(config.field))
    return LoadedRecord(AShare(data), kind, _interval(party, record), record["value_id"])


def _check_format(party: str, record: dict) -> None:
    found = record.get("format")
    if found in OLD_FORMATS:
        raise ConfigError(
            f"share record of {party!r} is in the old format {found or 'without a name'}, "
            "which does not name its export (value_id), so records of different values could "
            "be mixed without notice: export the value again with this version (for an SS-LR "
            "model, train it again)"
        )
    if found != RECORD_FORMAT:
        raise ConfigError(
            f"share record of {party!r} has unknown share record format {found!r} "
            f"(this version reads {RECORD_FORMAT!r})"
        )
    if "value_id" not in record:
        raise ConfigError(f"share record of {party!r} lacks 'value_id', the id of its export")
    if not is_value_id(record["value_id"]):
        raise ConfigError(
            f"share record of {party!r} has a damaged value_id: the id of its export is "
            f"{VALUE_ID_HEX_DIGITS} lowercase hex digits"
        )


def _check_origin(config: RuntimeConfig, parties: list[str], party: str, record: dict) -> None:
    expected = {
        "protocol": config.protocol,
        "field": config.field,
        "fxp_fraction_bits": config.fxp_fraction_bits,
        "parties": list(parties),
        "party": party,
    }
    for name, value in expected.items():
        if name not in record:
            raise ConfigError(f"share record of {party!r} lacks {name!r}")
        if record[name] != value:
            raise ConfigError(
                f"share record of {party!r} has {name} {record[name]!r}, but this SPU needs "
                f"{value!r}: shares load only into an SPU like the one that made them"
            )


def _interval(party: str, record: dict) -> Interval | None:
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
        raise ConfigError(
            f"share record of {party!r}: interval must be [lo, hi] with lo <= hi, got {value!r}"
        )
    return Interval(float(value[0]), float(value[1]))


def _shape_and_kind(party: str, record: dict) -> tuple[tuple[int, ...], str]:
    shape = record.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ConfigError(
            f"share record of {party!r}: shape must be a list of sizes, got {shape!r}"
        )
    kind = record.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"share record of {party!r}: kind must be one of {KINDS}, got {kind!r}")
    return tuple(shape), kind


def _ring_values(
    party: str, share: Any, components: int, shape: tuple[int, ...], ring: Ring
) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    if (
        not isinstance(share, list)
        or len(share) != components
        or not all(isinstance(c, list) and len(c) == size for c in share)
    ):
        raise ConfigError(
            f"share record of {party!r} must hold {components} component(s) of {size} ring "
            f"values for shape {list(shape)}"
        )
    if not all(isinstance(v, int) and 0 <= v < 1 << ring.bits for c in share for v in c):
        raise ConfigError(
            f"share record of {party!r}: values must be integers in [0, 2^{ring.bits})"
        )
    if ring is RING128:
        return ring128.from_ints(share).reshape((components, *shape))
    return np.array(share, dtype=np.uint64).reshape((components, *shape))
