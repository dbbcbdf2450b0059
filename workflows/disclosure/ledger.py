"""The privacy ledger: what each party actually received in a run, and on whose consent.

Written by the executor when a node's outputs are recorded: for every part of an output that
a party received, the plan's entries for that (node, port, recipient) become one ledger row per
form: the source columns it derives from, their parties, the rows received (tables: counted in
the file the recipient holds) and the consent each source party gave (an approval id, or
"policy" when its standing policy allowed it). Outputs reused from an earlier run are not
received again and are not recorded twice.
"""

from __future__ import annotations

from pathlib import Path

from workflows.models import LedgerEntry, NodeRun, Run


def count_rows(path: Path) -> int:
    """Data rows of a CSV file (header excluded), counted without parsing it."""
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0)


def record(run: Run, node: NodeRun, written: dict, parties: dict[str, int]) -> list[LedgerEntry]:
    """Ledger rows for the parts of `node`'s outputs (`{port: {party: path}}`) just written."""
    plan = run.disclosure.get("entries", [])
    rows = []
    for port, files in written.items():
        for recipient, path in files.items():
            grouped: dict[tuple, list[dict]] = {}
            for entry in plan:
                if (entry["node"], entry["port"], entry["recipient"]) == (
                    node.node_id,
                    port,
                    recipient,
                ):
                    grouped.setdefault((entry["form"], entry["what"], entry["k"]), []).append(entry)
            for (form, what, k), entries in grouped.items():
                rows.append(
                    _entry(run, node, port, recipient, path, parties, form, what, k, entries)
                )
    return LedgerEntry.objects.bulk_create(rows)


def _entry(run, node, port, recipient, path, parties, form, what, k, entries) -> LedgerEntry:
    sources = sorted({entry["source"] for entry in entries})
    columns = [column for entry in entries for column in entry["columns"]]
    return LedgerEntry(
        run=run,
        recipient=recipient,
        recipient_node_id=parties[recipient],
        node_id=node.node_id,
        component=node.component,
        port=port,
        kind=form,
        what=what,
        min_group=k,
        rows=count_rows(path) if path.suffix == ".csv" else None,
        columns=columns,
        source_parties=sources,
        consents={party: run.consents.get(party, "policy") for party in sources},
    )
