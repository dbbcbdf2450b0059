"""Pipeline pages: create one (blank or from a template), the canvas, and a past run.

The canvas page is an ES module (`static/console/js/pipeline.js`) that works through the REST
API and the run websocket; these views only check access and hand it its starting state.
Access is the API's: members of the pipeline's project (others get 404).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from console.pipelines.forms import NewPipelineForm
from console.pipelines.page_data import canvas_data
from console.projects.access import get_project_for_user
from workflows import services, state
from workflows.models import Pipeline
from workflows.starters import STARTERS


@login_required
def create(request: HttpRequest, project: int) -> HttpResponse:
    project = get_project_for_user(request, project)
    if project.is_archived or not project.memberships.filter(node_id=request.user.node_id):
        messages.error(request, "Only member nodes add pipelines to an active project.")
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
        return redirect("pipelines:canvas", pk=pipeline.pk)
    context = {"form": form, "project": project, "starters": STARTERS}
    return render(request, "pipelines/new.html", context)


@login_required
def canvas(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = services.get_pipeline(request, pk)
    services.warm_up_engines(pipeline.graph)  # while the user looks at the canvas
    context = {"pipeline": pipeline, "data": canvas_data(request, pipeline)}
    return render(request, "pipelines/canvas.html", context)


@login_required
def run_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = services.get_run(request, pk)
    run_state = state.run_state(run) | {
        "snapshot": run.snapshot,
        "started_by": run.created_by.get_username() if run.created_by else "",
    }
    data = canvas_data(request, run.pipeline, run_state)
    return render(request, "pipelines/canvas.html", {"pipeline": run.pipeline, "data": data})
