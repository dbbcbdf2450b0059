"""The facts of a run as one node may see them, as plain dicts for the report template.

Reports are read from the requesting node's own copy (every project party receives one). Log
lines and warnings are those the run page shows: in a run across nodes, the initiator's copy
also holds what the other parties' nodes reported of their parts (public lines, marked with
the party); a member's copy holds its own lines. Table
and model outputs contribute their public schema (`Artifact.info`) and, for the requester's own
parts only, a row count and size; another party's file is never opened.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext

from workflows.components import registry
from workflows.components.schema import PortType
from workflows.models import Artifact, NodeRun, Run, Status
from workflows.ports import console_port
from workflows.redaction import message_for
from workflows.reports.charts import headline, views
from workflows.state import logs_for, parts_logs, parts_warnings, run_message, warnings_for
from workflows.tabular import files as tables

PREVIEW_ROWS = 20  # rows of an own output table shown in the results panel


def duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    seconds = (end - start).total_seconds()
    if seconds < 120:
        return gettext("%(seconds).2f s") % {"seconds": seconds}
    return gettext("%(minutes).1f min") % {"minutes": seconds / 60}


def when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else ""


def size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def origin(node: NodeRun) -> NodeRun:
    """The node run whose outputs this node has (itself, or the run it reused)."""
    return node.reused_from or node


def run_facts(run: Run, node_id: int) -> dict:
    """Everything the report shows, for users of node `node_id`."""
    project = console_port().project(run.pipeline.project_id)
    nodes = list(run.nodes.select_related("reused_from").order_by("position"))
    params = {entry["id"]: entry.get("params", {}) for entry in run.snapshot.get("nodes", [])}
    sources = console_port().sources(project.id)
    own = Artifact.objects.filter(
        node_run_id__in=[origin(node).pk for node in nodes], owner_node_id=node_id
    )
    party = next((name for name, pk in project.parties.items() if pk == node_id), "")
    node_rows = [
        node_facts(node, described(params.get(node.node_id, {}), sources), own, party)
        for node in nodes
    ]
    return {
        "run": run,
        # In the downloader's language (the active one), as the party may read it.
        "run_message": run_message(run, party or None),
        "pipeline": run.pipeline,
        "project": project,
        "party": party,
        "started_by": run.started_by,
        "created": when(run.created_at),
        "started": when(run.started_at),
        "finished": when(run.finished_at),
        "duration": duration(run.started_at, run.finished_at),
        "communication": communication(nodes, list(project.parties)),
        "nodes": node_rows,
        "headlines": headlines(node_rows),
        "generated": when(timezone.now()),
    }


def headlines(nodes: list[dict]) -> list[dict]:
    """The headline metrics of every evaluation report this node holds, for the report's top:
    [{"node", "label", "title", "metrics"}] in pipeline order."""
    found = []
    for node in nodes:
        for output in node["outputs"]:
            if output.get("headline"):
                found.append(
                    {
                        "node": node["id"],
                        "label": node["label"],
                        "title": output.get("title", ""),
                        "metrics": output["headline"],
                    }
                )
    return found


def communication(nodes: list[NodeRun], parties: list[str]) -> dict:
    columns = list(dict.fromkeys([*parties, *(p for n in nodes for p in n.comm_bytes)]))
    rows = [
        [node.node_id, *(size(int(node.comm_bytes.get(p, 0))) for p in columns)]
        for node in nodes
        if any(int(sent) for sent in node.comm_bytes.values())
    ]
    totals = [size(sum(int(n.comm_bytes.get(p, 0)) for n in nodes)) for p in columns]
    return {"parties": columns, "rows": rows, "totals": totals}


def described(params: dict, sources: dict) -> list[dict]:
    """Parameters as JSON text; a dataset id also names the dataset and its owner (public
    facts of a project), while it is still authorised to the project."""
    rows = []
    for name, value in params.items():
        shown = json.dumps(value, ensure_ascii=False)
        source = sources.get(value) if name == "dataset" and isinstance(value, int) else None
        if source is not None:
            shown = gettext("%(value)s (%(dataset)s, held by %(party)s)") % {
                "value": shown,
                "dataset": source.name,
                "party": source.party,
            }
        rows.append({"name": name, "value": shown})
    return rows


def node_facts(node: NodeRun, params: list[dict], own, viewer: str | None = None) -> dict:
    """A node as users of party `viewer` see it: a failure's or a warning's text about a
    party's data only at that party."""
    component = registry().get(node.component, node.version)
    source = origin(node)
    artifacts = [a for a in own if a.node_run_id == source.pk]
    logs = node_logs(node, viewer)
    return {
        "id": node.node_id,
        "component": node.component,
        "version": node.version,
        "label": str(component.label) if component else node.component,
        "status": node.status,
        "status_label": _status_label(node.status),
        "message": message_for(node, viewer),
        "party": node.party,
        "in_scope": node.in_scope,
        "reused_from_run": source.run_id if source is not node else None,
        "started": when(source.started_at),
        "duration": duration(source.started_at, source.finished_at),
        "params": params,
        "logs": logs,
        "parts_reported": any(line.get("at") for line in logs),
        "warnings": warnings_for(node, viewer) + parts_warnings(node, viewer),
        "outputs": outputs(source, artifacts),
    }


def node_logs(node: NodeRun, viewer: str | None) -> list[dict]:
    """The node's log lines as the canvas shows them to users of `viewer`: its own, and (a
    run across nodes, at the initiator) the public lines each other party's node reported for
    its part, marked `at` that party; in time order."""
    lines = logs_for(node, viewer) + parts_logs(node)
    return sorted(lines, key=lambda line: str(line.get("time", "")))


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def outputs(source: NodeRun, own: list[Artifact]) -> list[dict]:
    """Each output port once: a report's views, or a table/model's schema and own part."""
    result = []
    for port in dict.fromkeys(a.port for a in source.artifacts.all()):
        mine = [a for a in own if a.port == port]
        info = (mine or list(source.artifacts.filter(port=port)[:1]))[0].info
        entry = {
            "port": port,
            "kind": info["kind"],
            "kind_label": PortType(info["kind"]).label,
            "parties": info["parties"],
        }
        if info["kind"] == "report":
            entry |= report_views(mine[0]) if mine else {"missing": True}
        else:
            entry |= {"columns": info.get("columns", []), "own": [own_part(a) for a in mine]}
        result.append(entry)
    return result


def report_views(artifact: Artifact) -> dict:
    if not artifact.path.exists():
        return {"missing": True}
    report = json.loads(artifact.path.read_text(encoding="utf-8"))
    title = report.get("title") if isinstance(report, dict) else None
    # Stored titles are the components' English labels: shown in the reader's language.
    return {"title": gettext(title) if title else "", "headline": headline(report), **views(report)}


def node_result(run: Run, node_id: str, requester_node: int) -> dict | None:
    """One node of a run as the results panel shows it to users of `requester_node`: its facts
    (as in the report) and, for the requester's own table parts, the first rows. None if the
    run has no such node."""
    node = run.nodes.select_related("reused_from").filter(node_id=node_id).first()
    if node is None:
        return None
    params = next(
        (n.get("params", {}) for n in run.snapshot.get("nodes", []) if n.get("id") == node_id), {}
    )
    sources = console_port().sources(run.pipeline.project_id)
    own = Artifact.objects.filter(node_run_id=origin(node).pk, owner_node_id=requester_node)
    project = console_port().project(run.pipeline.project_id)
    viewer = next((name for name, pk in project.parties.items() if pk == requester_node), None)
    return node_facts(node, described(params, sources), own, viewer)


def own_part(artifact: Artifact) -> dict:
    part = {
        "id": artifact.pk,
        "kind": artifact.kind,
        "party": artifact.party,
        "size": size(artifact.size_bytes),
        "rows": None,
    }
    if artifact.kind.startswith("table") and artifact.path.exists():
        part["rows"] = tables.count_rows(artifact.path)
        columns, rows = tables.preview(artifact.path, PREVIEW_ROWS)
        text = [["" if value is None else str(value) for value in row] for row in rows]
        part["preview"] = {"columns": columns, "rows": text}
    return part
