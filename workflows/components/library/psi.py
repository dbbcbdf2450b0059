"""data_prep/psi: private set intersection of two or three parties' tables into a vertical table.

Engine: ECDH-PSI on X25519 (`ECDH_25519`, two or three parties; scheme, threat model and references
in `core.psi.protocol`) or KKRT-PSI (`KKRT_PSI_2PC`, OT-extension PSI for exactly two parties,
several times faster; `core.psi.kkrt`). Each party's program opens only its own input file and talks
to the others only through its link; the hub counts traffic into the run's `ctx.comm` (the engine
builds the links). What is revealed, by either protocol: the intersection (to every party, as its
own aligned rows) and every party's set size, which the report states. Keys are compared as the text
written in the files (so "007" differs from "7").

The parties run in a helper thread; the component's own thread reports their progress and
checks for a cancel (the engine stops between two chunks), so run state is only ever written
from the executor's thread.

Row order: the engine's aligned order depends only on jointly masked values (ECDH) or on the
KKRT sender's secret random order. With `sort_result`, every party then sorts its intersecting
rows by the key text; the keys are equal across parties row by row, so the order stays aligned
and becomes reproducible.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait

import pandas as pd

from core.psi import run_local_psi
from workflows.components.context import RunCancelled, RunContext
from workflows.components.params import BoolParam, ChoiceParam, ColumnsParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import frame_at, report_info, report_port

PORTS = ("input_ds1", "input_ds2", "input_ds3")
PROGRESS_SECONDS = 0.2
KEYS = {"input_ds1": "keys1", "input_ds2": "keys2", "input_ds3": "keys3"}
ENGINE_PROTOCOL = {"ECDH_25519": "ecdh", "KKRT_PSI_2PC": "kkrt"}


def connected(inputs: dict) -> list[str]:
    return [port for port in PORTS if inputs.get(port) is not None]


def check(ctx: InferContext) -> list[str]:
    ports, problems = connected(ctx.inputs), []
    owners = [ctx.inputs[port].parties[0] for port in ports]
    if len(set(owners)) != len(owners):
        problems.append(f"each input must come from a different party, got {owners}")
    counts = {KEYS[port]: len(ctx.params[KEYS[port]]) for port in ports}
    if min(counts.values()) == 0:
        problems.append(f"pick the key columns of every connected input, got {counts}")
    elif len(set(counts.values())) > 1:
        problems.append(f"every party needs the same number of key columns, got {counts}")
    if "input_ds3" not in ports and ctx.params["keys3"]:
        problems.append("'keys3' is set but input_ds3 is not connected")
    if ctx.params["protocol"] == "KKRT_PSI_2PC" and len(ports) != 2:
        problems.append(
            f"protocol KKRT_PSI_2PC runs between exactly two parties, got {len(ports)} inputs; "
            "disconnect input_ds3 or choose ECDH_25519"
        )
    return problems


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    columns = [column for port in connected(ctx.inputs) for column in ctx.inputs[port].columns]
    return {"output_ds": ArtifactInfo.table(columns), "report": report_info(ctx.env.parties)}


def key_order(path, keys: list[str], rows) -> list[int]:
    """Positions of `rows` sorted by their key text (as the engine compared it)."""
    text = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=keys)[keys].iloc[rows]
    return sorted(range(len(rows)), key=lambda i: tuple(text.iloc[i]))


def intersect(ctx: RunContext, ports: list[str]) -> list:
    """Run the PSI parties in a helper thread; this (the component's) thread alone reports
    progress and checks for a cancel, which stops the engine between two chunks."""
    parties = [ctx.inputs[port].info.parties[0] for port in ports]
    done, stop = dict.fromkeys(parties, 0.0), threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="psi") as pool:
        future = pool.submit(
            run_local_psi,
            [ctx.inputs[port].path(party) for port, party in zip(ports, parties, strict=True)],
            [ctx.params[KEYS[port]] for port in ports],
            parties=parties,
            stats=ctx.comm,
            progress=done.__setitem__,
            should_cancel=stop.is_set,
            allow_duplicates=ctx.params["allow_duplicates"],
            allow_empty=ctx.params["allow_empty_result"],
            protocol=ENGINE_PROTOCOL[ctx.params["protocol"]],
        )
        try:
            while not future.done():
                ctx.progress(90 * min(done.values()))
                wait([future], timeout=PROGRESS_SECONDS)
        except RunCancelled:
            stop.set()
            wait([future])
            raise
        return future.result()


def write_party(ctx: RunContext, port: str, result) -> None:
    party, data = result.party, ctx.inputs[port]
    rows = list(result.rows)
    if ctx.params["sort_result"]:
        order = ctx.at(party, key_order, data.path(party), ctx.params[KEYS[port]], rows)
        rows = [rows[i] for i in order]
    frame = frame_at(ctx, port, party).iloc[rows]
    ctx.write_table("output_ds", party, frame)


def run(ctx: RunContext) -> None:
    ports = connected({port: data.info for port, data in ctx.inputs.items()})
    ctx.progress(0)
    results = intersect(ctx, ports)
    for port, result in zip(ports, results, strict=True):
        write_party(ctx, port, result)
    ctx.progress(95)
    size = int(results[0].report["intersection_size"])
    report = {
        "kind": "psi",
        "protocol": ctx.params["protocol"],
        "parties": [result.party for result in results],
        "input_rows": {r.party: int(r.report["input_rows"]) for r in results},
        "duplicates_dropped": {r.party: int(r.report["duplicates_dropped"]) for r in results},
        "intersection_size": size,
    }
    for party in ctx.infos["report"].parties:
        ctx.write_json("report", party, report)
    ctx.log(f"intersection of {report['input_rows']}: {size} rows")
    ctx.progress(100)


def _keys(port: str, number: int, optional: bool) -> ColumnsParam:
    return ColumnsParam(
        name=KEYS[port],
        port=port,
        roles=("id",),
        min_count=0 if optional else 1,
        label=f"Keys of input {number}",
        help=f"Key columns (id role) of input {number}, combined into one key.",
        **({"default": []} if optional else {}),
    )


COMPONENT = Component(
    domain="data_prep",
    name="psi",
    version="1.0.0",
    category="data_prep",
    label="Private set intersection",
    description="Intersect two or three parties' tables on key columns without revealing rows "
    "outside the intersection; outputs the aligned vertical table and a report of sizes.",
    inputs=(
        Port("input_ds1", (PortType.INDIVIDUAL,), "Table 1"),
        Port("input_ds2", (PortType.INDIVIDUAL,), "Table 2"),
        Port("input_ds3", (PortType.INDIVIDUAL,), "Table 3", "A third party's table.", True),
    ),
    outputs=(
        Port("output_ds", (PortType.VERTICAL,), "Joined table"),
        report_port(),
    ),
    params=(
        _keys("input_ds1", 1, False),
        _keys("input_ds2", 2, False),
        _keys("input_ds3", 3, True),
        ChoiceParam(
            name="protocol",
            choices=tuple(ENGINE_PROTOCOL),
            default="ECDH_25519",
            help="ECDH_25519: ECDH-PSI on Curve25519 (X25519), two or three parties. "
            "KKRT_PSI_2PC: OT-extension PSI (Kolesnikov et al. 2016), exactly two parties, "
            "several times faster on large tables.",
        ),
        BoolParam(
            name="sort_result", default=True, help="Sort the joined rows by key at every party."
        ),
        BoolParam(
            name="allow_empty_result",
            default=False,
            help="Succeed with an empty table when nothing intersects (else fail).",
        ),
        BoolParam(
            name="allow_duplicates",
            default=False,
            help="Allow duplicate keys: the first row of each key is used, later rows dropped. "
            "When off, a duplicate key fails the run.",
        ),
    ),
    infer=infer,
    check=check,
    run=run,
)
