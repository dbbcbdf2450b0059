"""Helpers shared by table components: ports, per-party iteration, JSON-safe numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import pandas as pd
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.schema import TABLES, ArtifactInfo, Column, PortType
from workflows.components.spec import Port
from workflows.messages import translatable


def table_port(name: str, label: str = "", description: str = "", optional=False) -> Port:
    return Port(name, TABLES, label, description, optional)


def report_port(name: str = "report", label: str = "") -> Port:
    description = _("Aggregates revealed to every project party.")
    return Port(name, (PortType.REPORT,), label or _("Report"), description)


def report_info(parties: Iterable[str]) -> ArtifactInfo:
    """Reports are the explicit reveal of a pipeline: every project party receives a copy."""
    return ArtifactInfo(PortType.REPORT, tuple(parties))


def replace_columns(info: ArtifactInfo, changed: dict[str, Column]) -> ArtifactInfo:
    return ArtifactInfo.table([changed.get(column.name, column) for column in info.columns])


def keep_columns(info: ArtifactInfo, keep: Callable[[Column], bool]) -> ArtifactInfo:
    kept = [column for column in info.columns if keep(column)]
    if not kept:
        raise ValueError(translatable("the output would have no columns"))
    return ArtifactInfo.table(kept)


def finite(value) -> float | None:
    """A float for JSON reports: NaN and infinities become null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def aligned_rows(ctx: RunContext, port: str) -> int:
    """Rows of a (vertical) table: each party counts its own and publishes it (row counts are
    public in a project); all must agree, since rows are aligned by position across parties."""
    data = ctx.inputs[port]
    counts = {party: ctx.publish(party, data.rows, party) for party in data.info.parties}
    if len(set(counts.values())) > 1:
        rows = [
            translatable("%(party)s: %(rows)s", party=party, rows=count)
            for party, count in counts.items()
        ]
        raise ValueError(
            translatable(
                "input '%(port)s' is not aligned: rows per party %(rows)s", port=port, rows=rows
            )
        )
    return next(iter(counts.values()), 0)


def frame_at(ctx: RunContext, port: str, party: str) -> pd.DataFrame:
    return ctx.at(party, ctx.inputs[port].read_table, party)
