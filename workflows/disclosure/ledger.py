"""The privacy ledger: what each party actually received in a run, and on whose consent.

Written with a node's artifact rows (`workflows.outputs.record_outputs`: by the executor, and
in a network run by each node for the parts it holds): for every part of an output that a
party received, the plan's entries for that (node, port, recipient) become one ledger row per
form: the source columns it derives from, their parties, the rows received (tables: counted in
the file the recipient holds) and the consent each source party gave (an approval id, or
"policy" when its standing policy allowed it). What a node's protocol opens while it runs
rather than in a file (`during_run` entries: the input bounds of secure computations) is
recorded for every party taking part, even one receiving no file of that node: the caller
names the parties whose receipts it records (`here`: every party in the embedded executor).
Outputs reused from an earlier run are not received again and are not recorded twice.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.disclosure.words import form_label
from workflows.models import LedgerEntry, NodeRun, Run
from workflows.tabular.files import count_rows

TABLE_SUFFIXES = (".arrow", ".csv")  # table parts (Arrow; CSV in runs made before Arrow)


def record(
    run: Run, node: NodeRun, written: dict, parties: dict[str, int], here=None
) -> list[LedgerEntry]:
    """Ledger rows for the parts of `node`'s outputs (`{port: {party: path}}`) just written,
    and for what the node's protocol opened while it ran (`during_run` entries, e.g. input
    bounds) to the parties `here` (default: those holding a part just written)."""
    plan = [entry for entry in run.disclosure.get("entries", []) if entry["node"] == node.node_id]
    rows = []
    for port, files in written.items():
        for recipient, path in files.items():
            received = [
                entry
                for entry in plan
                if (entry["port"], entry["recipient"]) == (port, recipient)
                and not entry.get("during_run")
            ]
            rows += _rows(run, node, recipient, path, parties, received)
    holders = {party for files in written.values() for party in files}
    for recipient in sorted(holders if here is None else set(here)):
        opened = [e for e in plan if e["recipient"] == recipient and e.get("during_run")]
        rows += _rows(run, node, recipient, None, parties, opened)
    return LedgerEntry.objects.bulk_create(rows)


def _rows(run, node, recipient, path, parties, entries: list[dict]) -> list[LedgerEntry]:
    """One ledger row per (port, form, what, k) of the plan `entries` `recipient` received."""
    grouped: dict[tuple, list[dict]] = {}
    for entry in entries:
        key = (entry["port"], entry["form"], entry["what"], entry["k"])
        grouped.setdefault(key, []).append(entry)
    return [
        _entry(run, node, port, recipient, path, parties, form, what, k, group)
        for (port, form, what, k), group in grouped.items()
    ]


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
        rows=count_rows(path) if path is not None and path.suffix in TABLE_SUFFIXES else None,
        columns=columns,
        source_parties=sources,
        consents={party: run.consents.get(party, "policy") for party in sources},
    )


def consent_words(consents: dict, approvals: dict) -> list[str]:
    """Per source party: "alice: approved by alice_admin (#3)" or "bob: standing policy"."""
    words = []
    for party, how in sorted(consents.items()):
        approval = approvals.get(how) if how != "policy" else None
        if approval is None:
            words.append(_("%(party)s: standing policy") % {"party": party})
        else:
            who = approval.decider or _("its approvers")
            words.append(
                _("%(party)s: approved by %(who)s (#%(id)s)")
                % {"party": party, "who": who, "id": approval.pk}
            )
    return words


def _approvals(runs) -> dict:
    from workflows.models import Approval

    ids = {how for run in runs for how in run.consents.values() if isinstance(how, int)}
    found = Approval.objects.filter(pk__in=ids).select_related("decided_by")
    return {approval.pk: approval for approval in found}


def run_ledger(run: Run) -> list[dict]:
    """The run's ledger rows with their consents in words (run report, pages)."""
    approvals = _approvals([run])
    return [
        {
            "entry": entry,
            "kind_label": form_label(entry.kind),
            "consent": consent_words(entry.consents, approvals),
        }
        for entry in run.ledger.all()
    ]


def dataset_usage(dataset_id: int, limit: int = 100) -> list[dict]:
    """Every run that read a dataset, newest first: who started it, who approved, and what
    derived from this dataset left to which party (its ledger rows)."""
    runs = list(
        Run.objects.filter(sources__dataset_id=dataset_id)
        .select_related("pipeline", "created_by")
        .prefetch_related("ledger")
        .order_by("-created_at", "-id")
        .distinct()[:limit]
    )
    approvals = _approvals(runs)
    usage = []
    for run in runs:
        left = [
            {
                "entry": entry,
                "columns": [c["name"] for c in entry.columns if c["dataset"] == dataset_id],
            }
            for entry in run.ledger.all()
            if any(column["dataset"] == dataset_id for column in entry.columns)
        ]
        usage.append({"run": run, "consent": consent_words(run.consents, approvals), "left": left})
    return usage
