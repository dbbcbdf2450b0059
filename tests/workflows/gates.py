"""Test-only components and a registry that includes them (swapped in with `use_registry`).

`test/gate` blocks inside `run` until released, then makes progress (the cancel point);
it lets tests act while a run is known to be in the middle of a node.
"""

from __future__ import annotations

import threading

from workflows.components import discover
from workflows.components.disclosure import Declares, disclose
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, Port, Registry
from workflows.components.tables import table_port

started = threading.Event()
release = threading.Event()


def _infer(ctx) -> dict:
    return {"report": ArtifactInfo(PortType.REPORT, ctx.env.parties)}


def _run(ctx) -> None:
    ctx.progress(1)
    started.set()
    release.wait(30)
    for percent in range(2, 101):
        ctx.progress(percent)
    for party in ctx.infos["report"].parties:
        ctx.write_json("report", party, {"kind": "gate"})


GATE = Component(
    domain="test",
    name="gate",
    version="1.0.0",
    category="stats",
    label="Gate",
    description="Blocks until the test releases it.",
    inputs=(table_port("input_ds"),),
    outputs=(Port("report", (PortType.REPORT,)),),
    infer=_infer,
    run=_run,
    disclosure=disclose(report=Declares()),  # its report holds no data
)


def use_registry(monkeypatch) -> None:
    registry = Registry([*discover(), GATE])
    monkeypatch.setattr("workflows.executor.registry", lambda: registry)
    monkeypatch.setattr("workflows.services.registry", lambda: registry)
    started.clear()
    release.clear()
