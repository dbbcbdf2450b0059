"""data_filter/feature_filter: drop columns from a table (each party drops its own).

The kept columns are copied a slice of rows at a time (bounded memory)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import KEPT_BY_HOLDERS, disclose
from workflows.components.params import ColumnsParam
from workflows.components.schema import TABLES, ArtifactInfo
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import keep_columns, table_port
from workflows.messages import translatable


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    dropped = set(ctx.params["drop_features"])
    return {"output_ds": keep_columns(ctx.inputs["input_ds"], lambda c: c.name not in dropped)}


def run(ctx: RunContext) -> None:
    out = ctx.infos["output_ds"]
    parties = ctx.here(out.parties)
    for index, party in enumerate(parties):
        kept = [c.name for c in out.columns_at(party)]
        parts = ctx.at(party, ctx.inputs["input_ds"].iter_arrow, party, kept)
        ctx.write_table_parts("output_ds", party, parts)
        ctx.progress(100 * (index + 1) / len(parties))
    ctx.log(translatable("dropped %(columns)s", columns=", ".join(ctx.params["drop_features"])))


COMPONENT = Component(
    domain="data_filter",
    name="feature_filter",
    version="1.0.0",
    category="data_filter",
    label=_("Feature filter"),
    description=_("Drop the chosen columns; a party left with no column leaves the table."),
    inputs=(table_port("input_ds", _("Table")),),
    outputs=(Port("output_ds", TABLES, _("Table")),),
    params=(
        ColumnsParam(
            name="drop_features",
            port="input_ds",
            roles=("id", "feature", "label"),
            min_count=1,
            help=_("Columns to drop."),
        ),
    ),
    infer=infer,
    run=run,
    disclosure=disclose(output_ds=KEPT_BY_HOLDERS),
)
