"""read/dataset: a dataset authorised to the project, as the source of a pipeline.

The output is an individual table at the dataset's owner, with the column roles of the
authorisation; protected columns are not usable and are left out. The data are copied into the
run's storage at the owner, so later nodes read a snapshot even if the dataset changes.
"""

from __future__ import annotations

import pandas as pd

from workflows.components.context import RunContext
from workflows.components.params import DatasetParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    source = ctx.env.sources[ctx.params["dataset"]]
    usable = [column for column in source.columns if column.role != "protected"]
    if not usable:
        raise ValueError(f"dataset {source.name!r} has no usable (non-protected) column")
    return {"output_ds": ArtifactInfo.table(usable)}


def _copy(source, columns: list[str]) -> pd.DataFrame:
    types = {column.name: column.type for column in source.columns}
    dtypes = {name: "string" for name in columns if types[name] == "str"}
    return pd.read_csv(source.path, usecols=columns, dtype=dtypes)[columns]


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
    label="Dataset",
    description="Read a dataset authorised to the project (owner, schema and roles from the "
    "authorisation; protected columns are left out).",
    outputs=(Port("output_ds", (PortType.INDIVIDUAL,), "Table"),),
    params=(DatasetParam(name="dataset", help="A dataset authorised to this project."),),
    infer=infer,
    run=run,
)
