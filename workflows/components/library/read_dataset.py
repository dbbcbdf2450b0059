"""read/dataset: a dataset authorised to the project, as the source of a pipeline.

The output is an individual table at the dataset's owner, with the column roles of the
authorisation; protected columns are not usable and are left out. The data are copied into the
run's storage at the owner, so later nodes read a snapshot even if the dataset changes.
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from workflows.components.context import RunContext
from workflows.components.disclosure import DATASET, Declares, DisclosureContext, Ref, disclose
from workflows.components.params import DatasetParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port

# The console profiles datasets with these rules (console/datasets/schema.py documents them).
NULL_MARKERS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"})
TRUE_WORDS = {"true": True, "yes": True, "false": False, "no": False}


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    source = ctx.env.sources[ctx.params["dataset"]]
    usable = [column for column in source.columns if column.role != "protected"]
    if not usable:
        raise ValueError(f"dataset {source.name!r} has no usable (non-protected) column")
    return {"output_ds": ArtifactInfo.table(usable)}


def _convert(cells: pd.Series, kind: str) -> pd.Series:
    """Cells (text) to the column's profiled type; the console's null markers become missing."""
    cells = cells.str.strip()
    cells = cells.mask(cells.isin(NULL_MARKERS))
    if kind == "int":
        numbers = pd.to_numeric(cells)
        return numbers.astype("int64") if numbers.notna().all() else numbers.astype(float)
    if kind == "float":
        return pd.to_numeric(cells).astype(float)
    if kind == "bool":
        return cells.str.lower().map(TRUE_WORDS, na_action="ignore").astype("boolean")
    return cells.astype("string")


def _copy(source, columns: list[str]) -> pd.DataFrame:
    types = {column.name: column.type for column in source.columns}
    cells = pd.read_csv(
        source.path,
        usecols=columns,
        dtype=str,
        keep_default_na=False,
        encoding=source.encoding,
        skip_blank_lines=True,
    )
    return pd.DataFrame({name: _convert(cells[name], types[name]) for name in columns})


def lineage(ctx: DisclosureContext) -> dict[tuple[str, str], tuple[Ref, ...]]:
    """Each column comes from the dataset's column of the same name."""
    columns = ctx.outputs["output_ds"].columns
    return {(c.party, c.name): (Ref(DATASET, c.party, c.name),) for c in columns}


def run(ctx: RunContext) -> None:
    source = ctx.sources[ctx.params["dataset"]]
    columns = [column.name for column in ctx.infos["output_ds"].columns]
    ctx.progress(0)
    frame = ctx.at(source.party, _copy, source, columns)
    ctx.log(f"read {len(frame)} rows and {len(columns)} columns of {source.name} at {source.party}")
    ctx.write_table("output_ds", source.party, frame)
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
