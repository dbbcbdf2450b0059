"""Run one component on in-memory frames, without a database (components are pure)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workflows.components import registry
from workflows.components.context import ArtifactData, RunContext
from workflows.components.params import ParamEnv
from workflows.components.schema import ArtifactInfo, Column
from workflows.components.spec import InferContext
from workflows.tabular.files import is_arrow, open_table, to_pandas

TYPES = {"int64": "int", "Int64": "int", "float64": "float", "bool": "bool"}


def table(tmp_path: Path, frames: dict[str, pd.DataFrame], roles: dict[str, str]) -> ArtifactData:
    """A (vertical) table: one CSV per party, in tmp_path/<party>/input.csv."""
    columns, files = [], {}
    for party, frame in frames.items():
        for name in frame.columns:
            kind = TYPES.get(str(frame[name].dtype), "str")
            columns.append(Column(name, kind, party, roles.get(name, "feature")))
        (tmp_path / party).mkdir(parents=True, exist_ok=True)
        files[party] = tmp_path / party / f"input-{len(files)}-{id(frame)}.csv"
        frame.to_csv(files[party], index=False)
    return ArtifactData(ArtifactInfo.table(columns), files)


def run_component(
    tmp_path: Path,
    key: str,
    params: dict,
    inputs: dict,
    parties=("alice", "bob"),
    requested_by: str | None = "alice",
    logs: list[str] | None = None,
    warnings: list[str] | None = None,
    sources: dict | None = None,
    placement=None,
    warned: list[tuple[str, str | None]] | None = None,
):
    """Clean params, infer outputs, run as started by `requested_by`'s user; return
    {port: ArtifactData} of what was written. Log lines and warnings are appended to `logs`
    and `warnings` when given, and (warning, party it is about) pairs to `warned`."""
    component = registry().get(key)
    infos = {port: data.info for port, data in inputs.items()}
    env = ParamEnv(parties=tuple(parties), inputs=infos, sources=sources or {})
    cleaned = {
        p.name: p.clean(params[p.name], env) if p.name in params else p.default
        for p in component.params
    }
    outputs = component.infer(InferContext(cleaned, infos, env))
    logs = [] if logs is None else logs
    warnings = [] if warnings is None else warnings

    def on_warn(message, party: str | None) -> None:
        warnings.append(str(message))
        if warned is not None:
            warned.append((str(message), party))

    context = RunContext(
        params=cleaned,
        parties=tuple(parties),
        inputs=inputs,
        infos=outputs,
        output_dir=lambda party: tmp_path / "out" / party,
        # Components log and warn with messages (`workflows.messages`): read them as the
        # active language words them.
        on_log=lambda message: logs.append(str(message)),
        on_warn=on_warn,
        requested_by=requested_by,
        sources=sources or {},
    )
    if placement is not None:  # where each party runs (`workflows.placement`)
        context.placement = placement
    component.run(context)
    return {port: ArtifactData(outputs[port], files) for port, files in context.written.items()}


def warning_context(tmp_path: Path, seen: list[tuple[str, str | None]]) -> RunContext:
    """A two-party (alice, bob) context with no inputs that records each warning and whose
    data it is about in `seen`."""
    return RunContext(
        params={},
        parties=("alice", "bob"),
        inputs={},
        infos={},
        output_dir=lambda party: tmp_path,
        on_warn=lambda message, party: seen.append((message, party)),
    )


def read_table(path) -> pd.DataFrame:
    """A table artifact (Arrow, or a legacy CSV) as pandas, every column."""
    return to_pandas(open_table(path)) if is_arrow(path) else pd.read_csv(path)
