"""Run and node state as plain dicts, as users of one party (the viewer) may see them.

The pages, the API and the websocket snapshot read runs through these views, so they show the
same thing. A viewer is a party name, or None for the public view. Texts are rendered in the
active language, the reader's (`workflows.messages.render`), and redacted for the viewer
(`workflows.redaction`): a failure's reason and a warning about a party's data in full only at
that party. Output sizes on disk count only the viewer's own files (`output_bytes`); a run's
totals count only nodes computed in it (a reused node's belong to the run that produced them).

Also the run's failure summary: the message stored on a failed run, naming the first node
that failed and why.
"""

from __future__ import annotations

from django.db.models import Sum
from django.utils.functional import Promise

from workflows.components import registry
from workflows.messages import render, stored, translatable, translatable_plural
from workflows.models import Artifact, NodeRun, Run, Status
from workflows.redaction import message_for, stored_for
from workflows.state.logs import logs_for, warnings_for
from workflows.state.parts import part_state, parts_logs, parts_warnings


def component_label(node: NodeRun) -> str:
    """The component's name for people ("SS-LR training"), or its key if it is unknown."""
    return str(component_name(node))


def component_name(node: NodeRun) -> Promise | str:
    """The component's label as declared (a lazy text, rendered in each reader's language
    when a stored message names it), or its key if it is unknown."""
    component = registry().get(node.component, node.version)
    return component.label if component and component.label else node.component


def node_state(
    node: NodeRun, viewer: str | None = None, output_bytes: dict[str, int] | None = None
) -> dict:
    """A node as users of party `viewer` may see it (a failure's text only at its party);
    `output_bytes`: the size on disk of its outputs held by `viewer` (`output_bytes()`)."""
    return {
        "node": node.node_id,
        "component": node.component,
        "version": node.version,
        "label": component_label(node),
        "in_scope": node.in_scope,
        "status": node.status,
        "progress": node.progress,
        "message": message_for(node, viewer),
        "party": node.party,
        "comm_bytes": node.comm_bytes,
        "output_bytes": output_bytes or {},
        "reused_from_run": node.reused_from.run_id if node.reused_from_id else None,
        "started_at": node.started_at.isoformat() if node.started_at else None,
        "finished_at": node.finished_at.isoformat() if node.finished_at else None,
        "logs": logs_for(node, viewer) + parts_logs(node),
        "warnings": warnings_for(node, viewer) + parts_warnings(node, viewer),
        "parts": [part_state(part) for part in node.parts.all()],
    }


def run_summary(run: Run, viewer: str | None = None) -> dict:
    """A run without its nodes (run lists): who started it, the bytes its parties sent and
    the bytes its outputs held by party `viewer` take on disk (removed outputs no longer
    count; None for the public view: see `output_bytes`).

    Both count only nodes computed in this run; a reused node's traffic and files belong to
    the run that produced them. Expects `created_by` selected and `nodes__artifacts`
    prefetched by callers that list many runs (queries per run otherwise).
    """
    sent = sum(
        int(count)
        for node in run.nodes.all()
        if node.reused_from_id is None
        for count in node.comm_bytes.values()
    )
    stored = sum(
        artifact.size_bytes
        for node in run.nodes.all()
        if node.reused_from_id is None
        for artifact in node.artifacts.all()
        if artifact.party == viewer
    )
    return _run_fields(run) | {
        "nodes": None,
        "comm_bytes": sent,
        "output_bytes": stored if viewer else None,
        # "alice (at node alice)" for this node's part of a run another node started.
        "started_by": run.started_by,
        "started_at_node": run.origin_node,
    }


def run_state(run: Run, viewer: str | None = None) -> dict:
    """The run with its nodes as users of party `viewer` may see them (None: public view)."""
    nodes = list(
        run.nodes.select_related("reused_from").prefetch_related("parts").order_by("position")
    )
    sizes = output_bytes(nodes, viewer)
    stored = sum(
        count
        for node in nodes
        if node.reused_from_id is None
        for count in sizes.get(node.pk, {}).values()
    )
    return _run_fields(run) | {
        "message": run_message(run, viewer),
        "nodes": [node_state(node, viewer, sizes.get(_origin_id(node))) for node in nodes],
        "output_bytes": stored if viewer else None,
    }


def _origin_id(node: NodeRun) -> int:
    """The node run whose files a node's outputs are (itself, or the one it reused)."""
    return node.reused_from_id or node.pk


def output_bytes(nodes: list[NodeRun], viewer: str | None) -> dict[int, dict[str, int]]:
    """Bytes on disk of each node run's outputs held by party `viewer` ({party: bytes}), in
    one query (outputs removed by the retention policy no longer count).

    Only the viewer's own: a file's size says something about its content (alice's full
    evaluation report has one curve point per distinct score, bob's copy aggregates of k
    rows), and each party's files are its own. The public view (None) has none."""
    if not viewer:
        return {}
    rows = (
        Artifact.objects.filter(node_run_id__in={_origin_id(node) for node in nodes}, party=viewer)
        .values("node_run_id", "party")
        .annotate(total=Sum("size_bytes"))
    )
    sizes: dict[int, dict[str, int]] = {}
    for row in rows:
        sizes.setdefault(row["node_run_id"], {})[row["party"]] = int(row["total"] or 0)
    return sizes


def _run_fields(run: Run) -> dict:
    return {
        "id": run.pk,
        "pipeline": run.pipeline_id,
        "status": run.status,
        "scope": run.scope,
        "scope_node": run.scope_node or None,
        "reuse": run.reuse,
        "message": render(run.message),
        "cancel_requested": run.cancel_requested,
        "revoked": run.revoked_at is not None,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def failure_summary(nodes: list[NodeRun], viewer: str | None = None):
    """'failed at SS-LR training (train): <reason>', and how many other nodes failed, with
    each reason as users of party `viewer` may read it (None: the public text); a message
    to store (`workflows.messages`), rendered for each reader."""
    failed = sorted((n for n in nodes if n.status == Status.FAILED), key=lambda n: n.position)
    first = failed[0]
    reason = stored(stored_for(first, viewer))
    # The party is named unless the reason does (in English: every translation keeps names).
    where = ""
    if first.party and first.party not in render(reason, "en"):
        where = translatable(" (at %(party)s)", party=first.party)
    facts = {
        "component": component_name(first),
        "node": first.node_id,
        "reason": reason,
        "where": where,
    }
    others = sorted(node.node_id for node in failed[1:])
    if not others:
        return translatable("failed at %(component)s (%(node)s): %(reason)s%(where)s", **facts)
    return translatable_plural(
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other node "
        "failed too: %(nodes)s",
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other nodes "
        "failed too: %(nodes)s",
        "count",
        **facts,
        count=len(others),
        nodes=others,
    )


def run_message(run: Run, viewer: str | None) -> str:
    """The run's message for users of `viewer`, in the active language: a failed run's first
    reason in full at the failing party (the stored message is the public one)."""
    if run.status != Status.FAILED or not viewer:
        return render(run.message)
    nodes = list(run.nodes.all())
    if not any(n.status == Status.FAILED and n.party == viewer for n in nodes):
        return render(run.message)
    return render(failure_summary(nodes, viewer))
