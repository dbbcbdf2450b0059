"""The demo pipeline as party jobs: each party's datasets in its own storage, no database.

`demo_sources(storage)` writes alice's, bob's and carol's demo tables (`console.demo.data`) as
CSV files under each party's storage root and returns the sources a project would authorise
(column roles and standing policies as the demo's); `demo_job(...)` is the PartyJob of one
party (network run) or of every party (embedded run) for the demo graph.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from console.demo.data import demo_tables
from console.demo.pipeline import DEMO_POLICIES, KEY, demo_graph
from workflows.components.schema import Column
from workflows.party_jobs import PartyJob
from workflows.ports import SourceTable

PARTIES = ("alice", "bob", "carol")
DATASET_IDS = {"alice": 1, "bob": 2, "carol": 3}
KINDS = {"int64": "int", "float64": "float", "bool": "bool"}


def _role(table, name: str) -> str:
    if name == KEY:
        return "id"
    if name == table.label:
        return "label"
    return "protected" if name in table.protected else "feature"


def demo_sources(storage: dict[str, Path]) -> dict[int, SourceTable]:
    """Every party's demo dataset; files are written (once) only for the parties in
    `storage`."""
    sources = {}
    for table in demo_tables():
        frame, party = table.frame, table.party
        columns = tuple(
            Column(
                name,
                KINDS.get(str(frame[name].dtype), "str"),
                party,
                _role(table, name),
                missing=bool(frame[name].isna().any()),
            )
            for name in frame.columns
        )
        path = Path("/nonexistent") / party / f"{table.name}.csv"
        if party in storage:
            path = storage[party] / "datasets" / f"{table.name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # a test may have changed it
                frame.to_csv(path, index=False)
        digest = hashlib.sha256(f"{party}/{table.name}".encode()).hexdigest()
        source = SourceTable(
            DATASET_IDS[party],
            table.name,
            party,
            path,
            digest,
            columns,
            rows=len(frame),
            policy=DEMO_POLICIES[party],
        )
        sources[source.dataset_id] = source
    return sources


def demo_job(
    run_id: str, storage: dict[str, Path], party: str | None = None, graph=demo_graph
) -> PartyJob:
    """The demo run for `party` (storage: its root alone) or every party (embedded);
    `graph` may be the demo's other pipeline, `console.demo.pipeline.bob_graph`."""
    return PartyJob(
        run_id=run_id,
        snapshot=graph(DATASET_IDS).to_dict(),
        parties=PARTIES,
        sources=demo_sources(storage),
        storage=storage,
        party=party,
        requested_by="alice",
    )
