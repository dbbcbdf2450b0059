"""The runs page: every run the user may see, across pipelines and projects, filterable.

Who sees which runs, and the filters, are `workflows.run_filters` (shared with the API and
the dashboard). Members open a run's page and report from here; a platform admin reads the
list as metadata only.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workflows.run_filters import RunFilter, can_open_runs, runs_listed_for

PAGE_SIZE = 50


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    form = RunFilter(request.GET, runs_listed_for(request.user))
    runs = form.filtered() if form.is_valid() else form.runs.none()
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": form.active,
        "can_open": can_open_runs(request.user),
    }
    return render(request, "runs/list.html", context)
