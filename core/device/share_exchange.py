"""What an SPU's parties tell each other when they export and import share records.

Records (`core.device.share_records`) are written and read by each party alone, from its own
storage, so nothing in one party's record says that the other parties loaded records of the
*same* value: alice's share of x and bob's share of y (same shape, kind and interval: a
mixed-up or stale file) would add up to a valid-looking secret that is neither, and every
later reveal would be a wrong number with a green run. Two messages close that gap, over the
SPU's own link, in a simulation as across processes:

- At export, the SPU's first party draws the export's `value_id` (128 bits from `secrets`,
  the OS's randomness: never a seeded generator, which two sessions with one test seed would
  repeat) and sends it to every other party; each party writes it into its record. The id is
  drawn independently of the value, so it tells a party nothing it did not know. Parties are
  semi-honest (they follow the protocol), as for the protocols themselves.
- At import, every party sends every other one a report of what it loaded: the export's id,
  shape, kind and public interval (all public facts; never a share), or that its record was
  refused and why (the refusal's text, which names settings and never a share value; for an
  error of the caller's `read`, its type only). Every party then holds the same reports and
  reaches the same verdict: the same ConfigError at every party, or the value.

Every party always sends its report, refused or not, so no party stays blocked waiting for a
peer that failed to load.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from core.comm import Link
from core.device.share_records import VALUE_ID_HEX_DIGITS, LoadedRecord, is_value_id
from core.errors import ConfigError
from core.mpc.bounds import Interval

FIRST = 0  # the rank that draws an export's id


def agree_value_id(link: Link) -> str:
    """The id of a new export, drawn by the first party and sent to the others (one message
    per peer, one round)."""
    if link.rank == FIRST:
        value_id = secrets.token_hex(VALUE_ID_HEX_DIGITS // 2)
        link.send_all(value_id)
        return value_id
    value_id = link.recv(FIRST)
    if not is_value_id(value_id):
        raise ConfigError(f"{link.parties[FIRST]!r} sent no valid export id for share records")
    return value_id


def loaded_report(loaded: LoadedRecord) -> dict[str, Any]:
    """What a party tells the others about the record it loaded (public facts only)."""
    interval = loaded.interval
    return {
        "value_id": loaded.value_id,
        "shape": [int(d) for d in loaded.share.shape],
        "kind": loaded.kind,
        "interval": None if interval is None else [interval.lo, interval.hi],
    }


def refusal_report(reason: str) -> dict[str, Any]:
    """What a party tells the others when its record could not be loaded."""
    return {"refused": reason}


def check_same_export(link: Link, mine: dict[str, Any]) -> None:
    """Exchange load reports with every other party of `link`; ConfigError (the same at every
    party) if a record was refused, if the records are of different exports, or if they
    disagree on shape, kind or interval."""
    link.send_all(mine)
    reports = [
        mine if peer == link.rank else _checked_report(link, peer, link.recv(peer))
        for peer in range(link.world_size)
    ]
    problem = _verdict(link.parties, reports)
    if problem:
        error = ConfigError(problem)
        # A party whose own record loaded raises a copy of another's refusal: in a simulation
        # the caller reads the refusing party's own error first (`runtime._blame_order`).
        error.secondhand = "refused" not in mine
        raise error


def _checked_report(link: Link, peer: int, report: Any) -> dict[str, Any]:
    fields = {"value_id", "shape", "kind", "interval"}
    if isinstance(report, dict) and (
        (set(report) == {"refused"} and isinstance(report["refused"], str))
        or (set(report) == fields and is_value_id(report["value_id"]))
    ):
        return report
    return refusal_report(f"{link.parties[peer]!r} sent no valid report of its share record")


def _verdict(parties: Sequence[str], reports: list[dict[str, Any]]) -> str | None:
    refusals = [report["refused"] for report in reports if "refused" in report]
    if refusals:
        return "; ".join(refusals)
    if len({report["value_id"] for report in reports}) > 1:
        return _different_exports(parties, [report["value_id"] for report in reports])
    described = [(r["shape"], r["kind"], r["interval"]) for r in reports]
    if any(d != described[0] for d in described):
        return "share records disagree on shape, kind or interval: " + ", ".join(
            f"{party} {tuple(shape)} {kind} {_interval_text(interval)}"
            for party, (shape, kind, interval) in zip(parties, described, strict=True)
        )
    return None


def _different_exports(parties: Sequence[str], value_ids: list[str]) -> str:
    """Which party holds a record of which export, e.g. "share records are from different
    exports: carol's record (value_id 9c..) is from another export than alice's and bob's
    (value_id 3f..); ..." (ids are random: they say nothing about the value)."""
    holders: dict[str, list[str]] = {}
    for party, value_id in zip(parties, value_ids, strict=True):
        holders.setdefault(value_id, []).append(party)
    groups = sorted(holders.items(), key=lambda item: -len(item[1]))  # stable: rank order
    held = [f"{_names(names)} (value_id {value_id})" for value_id, names in groups]
    if len(groups[0][1]) > len(groups[1][1]):
        # One export is the majority's: the others' records are the odd ones out.
        odd = len(parties) - len(groups[0][1])
        verb = "is from another export" if odd == 1 else "are from other exports"
        which = f"{' and '.join(held[1:])} {verb} than {held[0]}"
    else:
        which = ", ".join(held)
    return (
        f"share records are from different exports: {which}. Every party must import its own "
        "record of the same export (a mixed-up or outdated file?)"
    )


def _names(parties: list[str]) -> str:
    owners = [f"{party}'s" for party in parties]
    text = owners[0] if len(owners) == 1 else ", ".join(owners[:-1]) + " and " + owners[-1]
    return f"{text} record" + ("" if len(parties) == 1 else "s")


def _interval_text(interval: list[float] | None) -> str:
    return "None" if interval is None else str(Interval(*interval))
