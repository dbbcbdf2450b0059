"""A finished node's outputs recorded where they are held: artifact rows and the privacy ledger.

One writer for both places a node's outputs are delivered: the embedded executor (every party
in one process: each party's part of each output) and a party's own part of a network run
(`console.federation.member_runs`: only the parts written at this node). For every part of
an output a party holds, an `Artifact` row describes the file (kind, owner node, path relative
to the party's storage root, the output's schema, size) and the run's privacy ledger records
what that party received, with the disclosure plan's entries for it (`disclosure.ledger`).
The run page, the canvas, the downloads and the run report of a node read these rows: a
node's users see exactly the parts their own node holds.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from workflows.components.context import ArtifactData
from workflows.disclosure import ledger
from workflows.models import Artifact, NodeRun, Run


def storage_root(party: str) -> Path:
    """A party's storage root in this installation (`Artifact.path` is relative to it)."""
    return Path(settings.NODE_STORAGE_DIR) / party


def record_outputs(
    run: Run,
    node: NodeRun,
    outputs: dict[str, ArtifactData],
    parties: dict[str, int],
    here=None,
) -> None:
    """Record every part of `node`'s `outputs` ({port: info and {party: file}}): one artifact
    row per part, owned by that party's node (`parties`: party -> node id here), and the
    ledger rows of what each party received, including what the node opened while it ran to
    the parties `here` (`ledger.record`; default: the parties holding a part). All or
    nothing."""
    with transaction.atomic():
        for port, data in outputs.items():
            for party, path in data.files.items():
                Artifact.objects.create(
                    node_run=node,
                    port=port,
                    kind=str(data.info.kind),
                    owner_node_id=parties[party],
                    party=party,
                    relative_path=str(path.relative_to(storage_root(party))),
                    info=data.info.to_dict(),
                    size_bytes=path.stat().st_size,
                )
        written = {port: dict(data.files) for port, data in outputs.items()}
        ledger.record(run, node, written, parties, here)
