"""Pipeline pages: create one (blank or from a template), the canvas, and a past run.

The canvas page is an ES module (`static/console/js/pipeline.js`) that works through the REST
API and the run websocket; these views only check access and hand it its starting state.
Access is the API's: members of the pipeline's project (others get 404).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from console.accounts.models import User
from console.datasets.pipeline_sources import ConsoleSources
from console.pipelines.forms import EditorsForm, NewPipelineForm
from console.pipelines.listing import pipeline_runs
from console.pipelines.page_data import canvas_data
from console.projects.access import get_project_for_user
from workflows import ownership, services, state
from workflows.actors import Actor
from workflows.api.disclosure import LedgerEntrySerializer
from workflows.models import Pipeline
from workflows.redaction import viewer_party
from workflows.starters import STARTERS


@login_required
def create(request: HttpRequest, project: int) -> HttpResponse:
    actor = Actor.from_request(request)
    project = get_project_for_user(actor, project)
    if project.is_archived or not project.memberships.filter(node_id=request.user.node_id):
        messages.error(request, _("Only member nodes add pipelines to an active project."))
        return redirect("projects:detail", pk=project.pk)
    ownership.ensure_not_read_only(request.user, "add pipelines")
    edited_on = ConsoleSources().project(project.pk).edited_on
    if edited_on:
        messages.error(
            request,
            _("This project's pipelines are edited on its owner node, %(node)s.")
            % {"node": edited_on},
        )
        return redirect("projects:detail", pk=project.pk)
    form = NewPipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        graph = services.template_graph(project.pk, data["template"])
        pipeline = Pipeline.objects.create(
            project=project,
            name=data["name"],
            description=data["description"],
            graph=graph.to_dict(),
            created_by=request.user,
        )
        services.audit_pipeline(actor, pipeline, "pipeline_create", template=data["template"])
        for note in services.template_notes(project.pk, data["template"]):
            messages.info(request, note)
        return redirect("pipelines:canvas", pk=pipeline.pk)
    context = {"form": form, "project": project, "starters": STARTERS}
    return render(request, "pipelines/new.html", context)


@login_required
def canvas(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = services.get_pipeline(Actor.from_request(request), pk)
    services.warm_up_engines(pipeline.graph)  # while the user looks at the canvas
    context = {
        "pipeline": pipeline,
        "data": canvas_data(request, pipeline),
        "pipeline_runs": pipeline_runs(pipeline),
    }
    return render(request, "pipelines/canvas.html", context)


@login_required
def run_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = services.get_run(Actor.from_request(request), pk)
    run_state = state.run_state(run, viewer_party(request.user)) | {
        "snapshot": run.snapshot,
        "started_by": run.started_by,
        "started_at_node": run.origin_node,
        "disclosure": {"entries": run.disclosure.get("entries", [])},
        "ledger": LedgerEntrySerializer(run.ledger.all(), many=True).data,
    }
    data = canvas_data(request, run.pipeline, run_state)
    context = {"pipeline": run.pipeline, "data": data, "pipeline_runs": pipeline_runs(run.pipeline)}
    return render(request, "pipelines/canvas.html", context)


@login_required
def editors(request: HttpRequest, pk: int) -> HttpResponse:
    """Who may change a pipeline; its creator or the project's owner node chooses (members of
    the project see the list)."""
    pipeline = services.get_pipeline(Actor.from_request(request), pk)
    project = pipeline.project
    can_choose = ownership.may_choose_editors(request.user, pipeline) and not project.is_archived
    candidates = list(
        User.objects.filter(node__memberships__project=project, is_active=True)
        .exclude(pk=pipeline.created_by_id)
        .select_related("node")
        .order_by("node__name", "username")
    )
    current = sorted(pipeline.editors.values_list("username", flat=True))
    form = EditorsForm(
        request.POST if request.method == "POST" else None,
        candidates=candidates,
        initial={"editors": current},
    )
    if request.method == "POST":
        if not can_choose:
            raise PermissionDenied(
                _("Only the pipeline's creator and the project's owner node choose its editors.")
            )
        if form.is_valid():
            chosen = [u.get_username() for u in candidates]
            chosen = [name for name in chosen if name in form.cleaned_data["editors"]]
            services.choose_editors(Actor.from_request(request), pipeline, chosen)
            messages.success(
                request, _("Editors of '%(pipeline)s' saved.") % {"pipeline": pipeline.name}
            )
            return redirect("pipelines:editors", pk=pipeline.pk)
    context = {
        "pipeline": pipeline,
        "project": project,
        "form": form,
        "can_choose": can_choose,
        "current": current,
        "creator": pipeline.created_by.get_username() if pipeline.created_by else "",
    }
    return render(request, "pipelines/editors.html", context)
