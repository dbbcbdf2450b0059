"""read/dataset: a dataset authorised to the project, as the source of a pipeline.

The output is an individual table at the dataset's owner, with the column roles of the
authorisation; protected columns are not usable and are left out. The owner reads the dataset's
typed table (converted from its CSV at upload with the product's one dialect,
`workflows.tabular`; datasets uploaded before that are converted here, once) and copies the
usable columns into the run's storage, so later nodes read a snapshot even if the dataset
changes.
"""

from __future__ import annotations

import pyarrow as pa
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import DATASET, Declares, DisclosureContext, Ref, disclose
from workflows.components.params import DatasetParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.messages import translatable
from workflows.tabular.convert import ensure_table
from workflows.tabular.files import TableColumn, open_table, stored_columns


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    source = ctx.env.sources[ctx.params["dataset"]]
    usable = [column for column in source.columns if column.role != "protected"]
    if not usable:
        raise ValueError(
            translatable(
                "dataset %(dataset)s has no usable (non-protected) column",
                dataset=repr(source.name),
            )
        )
    return {"output_ds": ArtifactInfo.table(usable)}


def _copy(source, columns: list[str]) -> pa.Table:
    """The dataset's `columns`, from its typed table (checked against the profile)."""
    profiled = [TableColumn(column.name, column.type) for column in source.columns]
    path = ensure_table(source.path, profiled, source.encoding)
    stored = [(c.name, c.type) for c in stored_columns(path)]
    if stored != [(c.name, c.type) for c in profiled]:
        raise ValueError(
            translatable(
                "the stored table of dataset %(dataset)s does not match its profile (stored "
                "%(stored)s); upload the dataset again",
                dataset=repr(source.name),
                stored=str(stored),
            )
        )
    return open_table(path, columns)


def lineage(ctx: DisclosureContext) -> dict[tuple[str, str], tuple[Ref, ...]]:
    """Each column comes from the dataset's column of the same name."""
    columns = ctx.outputs["output_ds"].columns
    return {(c.party, c.name): (Ref(DATASET, c.party, c.name),) for c in columns}


def run(ctx: RunContext) -> None:
    source = ctx.sources[ctx.params["dataset"]]
    columns = [column.name for column in ctx.infos["output_ds"].columns]
    ctx.progress(0)
    for party in ctx.here([source.party]):  # only the owner's process reads its dataset
        table = ctx.at(party, _copy, source, columns)
        ctx.log(
            translatable(
                "read %(rows)s rows and %(columns)s columns of %(dataset)s at %(party)s",
                rows=table.num_rows,
                columns=len(columns),
                dataset=source.name,
                party=party,
            )
        )
        ctx.write_table("output_ds", party, table)
    ctx.progress(100)


COMPONENT = Component(
    domain="read",
    name="dataset",
    version="1.0.0",
    category="io",
    label=_("Dataset"),
    description=_(
        "Read a dataset authorised to the project (owner, schema and roles from the "
        "authorisation; protected columns are left out)."
    ),
    outputs=(Port("output_ds", (PortType.INDIVIDUAL,), _("Table")),),
    params=(DatasetParam(name="dataset", help=_("A dataset authorised to this project.")),),
    infer=infer,
    run=run,
    # The owner's copy of its own rows: nothing leaves it.
    disclosure=disclose(output_ds=Declares(parts=True, lineage=lineage)),
)
