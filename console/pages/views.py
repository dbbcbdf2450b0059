"""The dashboard: the user's node, projects, datasets and recent runs at a glance."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.datasets.access import datasets_visible_to
from console.pages.counts import with_counts
from console.pipelines.listing import recent_runs
from console.projects.access import projects_visible_to
from workflows.run_filters import can_open_runs

DASHBOARD_LIMIT = 8


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    projects = with_counts(projects_visible_to(user))
    own_datasets = datasets_visible_to(user).filter(node_id=user.node_id)
    context = {
        "projects": projects[:DASHBOARD_LIMIT],
        "project_total": projects.count(),
        "datasets": own_datasets[:DASHBOARD_LIMIT],
        "dataset_total": own_datasets.count(),
        "shared_total": datasets_visible_to(user).exclude(node_id=user.node_id).count(),
        "runs": recent_runs(user, DASHBOARD_LIMIT),
        "can_open_runs": can_open_runs(user),
    }
    return render(request, "pages/dashboard.html", context)
