"""What the canvas page's ES module starts from (rendered with `json_script`).

Only facts every member of the project may know: parties, authorised datasets with their
schema and column roles, the pipeline's graph. Never rows, never storage paths.
"""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from console.datasets.pipeline_sources import ConsoleSources
from console.projects.models import Project
from workflows import ownership
from workflows.reports import plotly_styles
from workflows.reports.plotly_config import plotly_config
from workflows.reports.render import plotly_placeholder_styles
from workflows.starters import STARTERS

RUN_ID, NODE_ID = 0, "__node__"  # placeholders the page replaces in URL patterns


def _parties(project: Project, user) -> list[dict]:
    memberships = project.memberships.select_related("node").order_by("added_at", "pk")
    return [
        {
            "name": m.node.name,
            "display_name": m.node.display_name,
            "node_id": m.node_id,
            "you": m.node_id == user.node_id,
        }
        for m in memberships
    ]


def _datasets(project: Project) -> list[dict]:
    sources = ConsoleSources().sources(project.pk)
    return [
        {
            "id": source.dataset_id,
            "name": source.name,
            "party": source.party,
            "columns": [{"name": c.name, "type": c.type, "role": c.role} for c in source.columns],
        }
        for source in sources.values()
    ]


def _urls(pipeline_id: int) -> dict:
    api = "/api/v1"
    return {
        "components": f"{api}/components/",
        "templates": f"{api}/pipeline-templates/",
        "pipeline": f"{api}/pipelines/{pipeline_id}/",
        "validate": f"{api}/pipelines/{pipeline_id}/validate/",
        "export": f"{api}/pipelines/{pipeline_id}/export/",
        "import": f"{api}/pipelines/import/",
        "runs": f"{api}/pipelines/{pipeline_id}/runs/",
        "run": f"{api}/runs/{RUN_ID}/",
        "run_node": f"{api}/runs/{RUN_ID}/nodes/{NODE_ID}/",
        "cancel": f"{api}/runs/{RUN_ID}/cancel/",
        "report": f"{api}/runs/{RUN_ID}/report/",
        "artifact_download": f"{api}/artifacts/{RUN_ID}/download/",
        "model_zip": f"{api}/artifacts/{RUN_ID}/model.zip",
        "websocket": f"/ws/runs/{RUN_ID}/",
        "run_page": reverse("pipelines:run", args=[RUN_ID]),
        "approval_page": reverse("approvals:detail", args=[RUN_ID]),
        "pipeline_page": reverse("pipelines:canvas", args=[pipeline_id]),
        "project_page": "",
    }


def _plotly() -> dict:
    """plotly.js (~4.5 MB, loaded by the results panel when a chart is first shown), its
    stylesheet, its configuration in the user's language, and the ids of the <style>
    elements it would inject for trace types reports never draw (placeholders with those ids
    keep it from trying, which the CSP would refuse)."""
    return {
        "script": static("vendor/plotly/plotly.min.js"),
        "stylesheet": static(plotly_styles.static_path()),
        "unused_style_ids": list(plotly_placeholder_styles()),
        "config": plotly_config(),
    }


def canvas_data(request, pipeline, run_state: dict | None = None) -> dict:
    """The page's starting state; `run_state` set means a read-only view of a past run."""
    project = pipeline.project
    user = request.user
    member = project.memberships.filter(node_id=user.node_id).exists()
    party = user.node.name if user.node_id and member else ""
    urls = _urls(pipeline.pk) | {"project_page": reverse("projects:detail", args=[project.pk])}
    editor = ownership.may_edit(user, pipeline)
    return {
        "mode": "run" if run_state else "edit",
        "readonly": bool(run_state) or project.is_archived or not member or not editor,
        "readonly_reason": _readonly_reason(project, member, run_state, pipeline, editor, user),
        "pipeline": {
            "id": pipeline.pk,
            "name": pipeline.name,
            "description": pipeline.description,
            "graph": run_state["snapshot"] if run_state else pipeline.graph,
            "updated_at": pipeline.updated_at.isoformat(),
        },
        "run": run_state,
        "project": {"id": project.pk, "name": project.name, "archived": project.is_archived},
        "parties": _parties(project, user),
        "datasets": _datasets(project),
        "me": {"username": user.get_username(), "party": party},
        "templates": [starter.to_dict() for starter in STARTERS.values()],
        "placeholders": {"run": RUN_ID, "node": NODE_ID},
        "urls": urls,
        "plotly": _plotly(),
    }


def _readonly_reason(
    project: Project, member: bool, run_state, pipeline, editor: bool, user
) -> str:
    if run_state:
        return _("A past run: the canvas shows the pipeline as it was when the run started.")
    if project.is_archived:
        return _("The project is archived: its pipelines are read-only.")
    if origin := ownership.replicated_from(pipeline):
        return _(
            "Replicated read-only from node %(node)s, which owns the project: it is edited there."
        ) % {"node": origin}
    if not member:
        return _("Only member nodes edit this project's pipelines.")
    if getattr(user, "is_read_only", False):
        return _("Read-only: viewers open pipelines and results but do not run or edit them.")
    if not editor:
        creator = pipeline.created_by.get_username() if pipeline.created_by else _("its creator")
        return _(
            "Read-only: only %(creator)s and the editors they chose edit this pipeline. "
            "Ask them (or the project's owner node) to add you as an editor."
        ) % {"creator": creator}
    return ""
