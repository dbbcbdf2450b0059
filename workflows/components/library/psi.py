"""data_prep/psi: private set intersection of two or three parties' tables into a vertical table.

Engine: ECDH-PSI on X25519 (`ECDH_25519`, two or three parties; scheme, threat model and
references in `core.psi.protocol`) or KKRT-PSI (`KKRT_PSI_2PC`, OT-extension PSI for exactly two
parties, several times faster; `core.psi.kkrt`). `AUTO`, the default, picks KKRT for two parties
while its memory fits and ECDH otherwise (`core.psi.choice`), and says which in the node's log.
Each party's program reads only its own key columns and talks to the others only through its
link; the engine builds the links and counts traffic into the run's `ctx.comm`. ECDH's workers
are one process pool shared by every run of the server (`core.psi.kernels.shared_pool`), so a
small run pays no start-up. What is revealed, by either protocol: the intersection (to every
party, as its own aligned rows) and every party's set size, which the report states. Keys are
compared as text: a text column's cells exactly (so "007" differs from "7"), numbers as written
by Python.

The parties run in a helper thread; the component's own thread reports their progress and
checks for a cancel (the engine stops between two chunks), so run state is only ever written
from the executor's thread.

Row order: the engine's aligned order depends only on jointly masked values (ECDH) or on the
KKRT sender's secret random order. With `sort_result`, every party then sorts its intersecting
rows by the key text; the keys are equal across parties row by row, so the order stays aligned
and becomes reproducible.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import astuple

import numpy as np
import pandas as pd
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.psi import run_local_psi, run_psi
from core.psi.choice import MEMORY_SHARE, choose_protocol, mib
from core.psi.kernels import shared_pool
from workflows.components.context import RunCancelled, RunContext
from workflows.components.disclosure import (
    Declares,
    DisclosureContext,
    Flow,
    Form,
    disclose,
    to_every_party,
)
from workflows.components.params import BoolParam, ChoiceParam, ColumnsParam
from workflows.components.schema import ArtifactInfo, PortType
from workflows.components.spec import Component, InferContext, Port
from workflows.components.tables import report_info, report_port
from workflows.messages import Message, translatable

PORTS = ("input_ds1", "input_ds2", "input_ds3")
PROGRESS_SECONDS = 0.2
KEYS = {"input_ds1": "keys1", "input_ds2": "keys2", "input_ds3": "keys3"}
ENGINE_PROTOCOL = {"ECDH_25519": "ecdh", "KKRT_PSI_2PC": "kkrt"}
PROTOCOL_NAME = {engine: name for name, engine in ENGINE_PROTOCOL.items()}
AUTO = "AUTO"


def connected(inputs: dict) -> list[str]:
    return [port for port in PORTS if inputs.get(port) is not None]


def check(ctx: InferContext) -> list:
    ports, problems = connected(ctx.inputs), []
    owners = [ctx.inputs[port].parties[0] for port in ports]
    if len(set(owners)) != len(owners):
        problems.append(
            translatable(
                "each input must come from a different party, got %(owners)s", owners=owners
            )
        )
    counts = {KEYS[port]: len(ctx.params[KEYS[port]]) for port in ports}
    shown = ", ".join(f"{name}: {count}" for name, count in counts.items())
    if min(counts.values()) == 0:
        problems.append(
            translatable(
                "pick the key columns of every connected input, got %(counts)s", counts=shown
            )
        )
    elif len(set(counts.values())) > 1:
        problems.append(
            translatable(
                "every party needs the same number of key columns, got %(counts)s", counts=shown
            )
        )
    if "input_ds3" not in ports and ctx.params["keys3"]:
        problems.append(translatable("'keys3' is set but input_ds3 is not connected"))
    if ctx.params["protocol"] == "KKRT_PSI_2PC" and len(ports) != 2:
        problems.append(
            translatable(
                "protocol KKRT_PSI_2PC runs between exactly two parties, got %(inputs)s inputs; "
                "disconnect input_ds3 or choose ECDH_25519",
                inputs=len(ports),
            )
        )
    return problems


def infer(ctx: InferContext) -> dict[str, ArtifactInfo]:
    columns = [column for port in connected(ctx.inputs) for column in ctx.inputs[port].columns]
    return {"output_ds": ArtifactInfo.table(columns), "report": report_info(ctx.env.parties)}


def membership(ctx: DisclosureContext) -> list[Flow]:
    """Each party learns which of its keys the other parties hold (its intersecting rows)."""
    ports, flows = connected(ctx.inputs), []
    for port in ports:
        others = [ctx.refs(other, ctx.params[KEYS[other]]) for other in ports if other != port]
        keys = tuple(ref for refs in others for ref in refs)
        what = gettext_noop("which of its own keys the other parties hold (PSI membership)")
        flows.append(Flow((ctx.inputs[port].parties[0],), Form.IDS, keys, what))
    return flows


def all_keys(ctx: DisclosureContext):
    return [ref for port in connected(ctx.inputs) for ref in ctx.refs(port, ctx.params[KEYS[port]])]


def key_text(data, party: str, keys: list[str]) -> pd.DataFrame:
    """A party's key columns as the text the engine compares (read at that party); a missing
    key stays missing, and the engine refuses it naming the row."""
    frame = data.read_table(party, keys)
    return pd.DataFrame({name: frame[name].astype("string") for name in keys})


def key_order(keys: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Positions of `rows` sorted by their key text (as the engine compared it)."""
    picked = keys.iloc[rows].reset_index(drop=True)
    return picked.sort_values(list(keys.columns), kind="stable").index.to_numpy()


def pick_protocol(ctx: RunContext, owners: list[str], keys: dict[str, pd.DataFrame]) -> str:
    """The engine protocol: the chosen one, or for AUTO by size and party count (logged).

    For AUTO every party publishes its set size (PSI reveals it anyway) and the first party
    decides, with its own memory, for all: the parties must run the same protocol."""
    chosen = ctx.params["protocol"]
    if chosen != AUTO:
        ctx.log(
            translatable(
                "PSI protocol: %(protocol)s (chosen in the node's settings)", protocol=chosen
            )
        )
        return ENGINE_PROTOCOL[chosen]
    sizes = [ctx.publish(party, len, keys.get(party)) for party in owners]
    protocol, _reason, need, memory = ctx.publish(
        owners[0], lambda: astuple(choose_protocol(sizes))
    )
    ctx.log(
        translatable(
            "PSI protocol: %(protocol)s (automatic: %(reason)s)",
            protocol=PROTOCOL_NAME[protocol],
            reason=automatic_reason(protocol, sizes, need, memory),
        )
    )
    return protocol


def automatic_reason(protocol: str, sizes: list[int], need: int, memory: int) -> Message:
    """`core.psi.choice`'s reason for its AUTO choice, as a message read in each reader's
    language (the choice and its figures come from there; only the words are made here)."""
    if len(sizes) != 2:
        return translatable(
            "%(count)s parties, and KKRT-PSI runs between two only", count=len(sizes)
        )
    figures = {
        "sizes": " x ".join(f"{size:,}" for size in sizes),
        "need": mib(need),
        "memory": mib(memory),
        "share": f"{MEMORY_SHARE:.0%}",
    }
    if protocol == "ecdh":
        return translatable(
            "KKRT-PSI on %(sizes)s keys would need about %(need)s MiB, more than %(share)s "
            "of the %(memory)s MiB available; ECDH-PSI streams in bounded memory",
            **figures,
        )
    return translatable(
        "two parties with %(sizes)s keys; KKRT-PSI needs about %(need)s MiB of the "
        "%(memory)s MiB available",
        **figures,
    )


def intersect(ctx: RunContext, ports: list[str], keys: dict[str, pd.DataFrame], protocol: str):
    """This process's parties' PsiResults, by party. The PSI parties run in a helper thread;
    this (the component's) thread alone reports progress and checks for a cancel, which
    stops the engine between two chunks.

    Embedded, every party runs here over in-memory links (`run_local_psi`); in a network run
    this process runs its own party over the run's links (`run_psi`, in the run's session)."""
    parties = [ctx.inputs[port].info.parties[0] for port in ports]
    done, stop = dict.fromkeys(ctx.here(parties), 0.0), threading.Event()
    options = {
        "should_cancel": stop.is_set,
        "allow_duplicates": ctx.params["allow_duplicates"],
        "allow_empty": ctx.params["allow_empty_result"],
        "protocol": protocol,
        "pool": shared_pool() if protocol == "ecdh" else None,
    }
    names = {party: ctx.params[KEYS[port]] for port, party in zip(ports, parties, strict=True)}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="psi") as pool:
        if ctx.placement.networked:
            progress = functools.partial(done.__setitem__, ctx.placement.me)
            with ctx.placement.session(parties, ctx.comm, among_only=True):
                run = contextvars.copy_context().run  # the run's session, in the helper thread
                future = pool.submit(
                    run, run_psi, parties, keys, names, progress=progress, **options
                )
        else:
            future = pool.submit(all_here, ctx, parties, keys, names, done, options)
        try:
            while not future.done():
                ctx.progress(90 * min(done.values(), default=1.0))
                wait([future], timeout=PROGRESS_SECONDS)
        except RunCancelled:
            stop.set()
            wait([future])
            raise
        return future.result()


def all_here(ctx: RunContext, parties: list[str], keys: dict, names: dict, done: dict, options):
    """Every party's PsiResult, by party, each party on its own thread in this process."""
    inputs, key_names = [keys[p] for p in parties], [names[p] for p in parties]
    progress = done.__setitem__
    results = run_local_psi(
        inputs, key_names, parties=parties, stats=ctx.comm, progress=progress, **options
    )
    return dict(zip(parties, results, strict=True))


def write_party(ctx: RunContext, port: str, result, keys: pd.DataFrame) -> None:
    party = result.party
    rows = np.asarray(result.rows, dtype=np.int64)
    if ctx.params["sort_result"]:
        rows = rows[ctx.at(party, key_order, keys, rows)]
    # Gathered and written a slice of rows at a time (bounded memory).
    ctx.write_table_parts("output_ds", party, ctx.inputs[port].take(party, rows))


# What the report tells every party about each party's keys (`sizes`).
REPORT_WHAT = gettext_noop(
    "input sizes, the number of rows dropped for a duplicate key, and the intersection size"
)


def sizes(result) -> dict:
    """What a party's PSI reveals to every party anyway: its input and intersection sizes."""
    report = result.report
    return {k: int(report[k]) for k in ("input_rows", "duplicates_dropped", "intersection_size")}


def run(ctx: RunContext) -> None:
    ports = connected({port: data.info for port, data in ctx.inputs.items()})
    ctx.progress(0)
    owners = [ctx.inputs[port].info.parties[0] for port in ports]
    keys = {
        party: ctx.at(party, key_text, ctx.inputs[port], party, ctx.params[KEYS[port]])
        for port, party in zip(ports, owners, strict=True)
        if ctx.placement.runs_here(party)
    }
    protocol = pick_protocol(ctx, owners, keys)
    results = intersect(ctx, ports, keys, protocol)
    for port, party in zip(ports, owners, strict=True):
        if party in results:
            write_party(ctx, port, results[party], keys[party])
    ctx.progress(95)
    counted = {party: ctx.publish(party, sizes, results.get(party)) for party in owners}
    report = {
        "kind": "psi",
        "protocol": PROTOCOL_NAME[protocol],
        "parties": owners,
        "input_rows": {party: c["input_rows"] for party, c in counted.items()},
        "duplicates_dropped": {party: c["duplicates_dropped"] for party, c in counted.items()},
        "intersection_size": counted[owners[0]]["intersection_size"],
    }
    size = report["intersection_size"]
    for party in ctx.here(ctx.infos["report"].parties):
        ctx.write_json("report", party, report)
    ctx.log(
        translatable(
            "intersection of %(inputs)s: %(rows)s rows", inputs=report["input_rows"], rows=size
        )
    )
    ctx.progress(100)


def _keys(port: str, number: int, optional: bool) -> ColumnsParam:
    return ColumnsParam(
        name=KEYS[port],
        port=port,
        roles=("id",),
        min_count=0 if optional else 1,
        label=format_lazy(_("Keys of input {number}"), number=number),
        help=format_lazy(
            _("Key columns (id role) of input {number}, combined into one key."), number=number
        ),
        **({"default": []} if optional else {}),
    )


COMPONENT = Component(
    domain="data_prep",
    name="psi",
    version="1.0.0",
    category="data_prep",
    label=_("Private set intersection"),
    description=_(
        "Intersect two or three parties' tables on key columns without revealing rows "
        "outside the intersection; outputs the aligned vertical table and a report of sizes."
    ),
    inputs=(
        Port("input_ds1", (PortType.INDIVIDUAL,), _("Table 1")),
        Port("input_ds2", (PortType.INDIVIDUAL,), _("Table 2")),
        Port("input_ds3", (PortType.INDIVIDUAL,), _("Table 3"), _("A third party's table."), True),
    ),
    outputs=(
        Port("output_ds", (PortType.VERTICAL,), _("Joined table")),
        report_port(),
    ),
    params=(
        _keys("input_ds1", 1, False),
        _keys("input_ds2", 2, False),
        _keys("input_ds3", 3, True),
        ChoiceParam(
            name="protocol",
            choices=(AUTO, *ENGINE_PROTOCOL),
            default=AUTO,
            help=_(
                "AUTO: KKRT_PSI_2PC for two parties while its memory fits, else ECDH_25519 "
                "(the log says which). "
                "ECDH_25519: ECDH-PSI on Curve25519 (X25519), two or three parties. "
                "KKRT_PSI_2PC: OT-extension PSI (Kolesnikov et al. 2016), exactly two parties, "
                "several times faster on large tables."
            ),
        ),
        BoolParam(
            name="sort_result", default=True, help=_("Sort the joined rows by key at every party.")
        ),
        BoolParam(
            name="allow_empty_result",
            default=False,
            help=_("Succeed with an empty table when nothing intersects (else fail)."),
        ),
        BoolParam(
            name="allow_duplicates",
            default=False,
            help=_(
                "Allow duplicate keys: the first row of each key is used, later rows dropped. "
                "When off, a duplicate key fails the run."
            ),
        ),
    ),
    infer=infer,
    check=check,
    run=run,
    disclosure=disclose(
        shaping=("allow_duplicates",),  # which row of a repeated key is kept
        output_ds=Declares(parts=True, flows=membership),
        report=Declares(flows=to_every_party(Form.AGGREGATE, REPORT_WHAT, all_keys)),
    ),
)
