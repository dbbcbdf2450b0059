"""The privacy ledger: what each party actually received in a run, and on whose consent.

Written with a node's artifact rows (`workflows.outputs.record_outputs`: by the executor, and
in a network run by each node for the parts it holds): for every part of an output that a
party received, the plan's entries for that (node, port, recipient) become one ledger row per
form: the source columns it derives from, their parties, the rows received (tables: counted in
the file the recipient holds) and the consent each source party gave (an approval id, or
"policy" when its standing policy allowed it). Outputs reused from an earlier run are not
received again and are not recorded twice.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.disclosure.words import form_label
from workflows.models import LedgerEntry, NodeRun, Run
from workflows.tabular.files import count_rows

TABLE_SUFFIXES = (".arrow", ".csv")  # table parts (Arrow; CSV in runs made before Arrow)


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
        rows=count_rows(path) if path.suffix in TABLE_SUFFIXES else None,
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
