"""Runs across pipelines: who may list which, and the filters of the runs page and API.

One rule for the page (`/runs/`), the API (`GET /api/v1/runs/`) and the dashboard:

- a user lists the runs of every pipeline in the projects of their node;
- a platform admin, who holds no data and belongs to no project, lists every run on the
  platform as metadata (pipeline, project, status, who started it, when): the run pages, their
  results and reports stay with the project's members (they answer 404 to the admin).

The filter choices are built from the runs the user may list, so a choice never reveals a
project, pipeline or person the user could not see anyway, and a value outside them is refused
with the value named.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from workflows.models import Run, Status, stated_person
from workflows.ports import console_port


def runs_listed_for(user) -> QuerySet[Run]:
    """The runs `user` may see listed, newest first (see the module docstring)."""
    runs = Run.objects.select_related("pipeline__project", "created_by").order_by(
        "-created_at", "-pk"
    )
    if not user.is_authenticated:
        return runs.none()
    if user.is_superuser:
        return runs
    return runs.filter(pipeline__project_id__in=console_port().visible_project_ids(user))


def can_open_runs(user) -> bool:
    """Whether the listed runs link to their pages (members do; a platform admin does not)."""
    return user.is_authenticated and user.node_id is not None


class RunFilter(forms.Form):
    """Project, pipeline, status and starter filters over `runs_listed_for(user)`."""

    project = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    pipeline = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    started_by = forms.ChoiceField(required=False, label="Started by")

    def __init__(self, data, runs: QuerySet[Run]):
        super().__init__(data)
        self.runs = runs
        pipelines = set(
            runs.values_list(
                "pipeline_id", "pipeline__name", "pipeline__project_id", "pipeline__project__name"
            )
        )
        projects = sorted({(row[2], row[3]) for row in pipelines}, key=lambda p: p[1].lower())
        self.fields["project"].choices = [("", "All projects"), *projects]
        named = ((row[0], f"{row[1]} ({row[3]})") for row in pipelines)
        self.fields["pipeline"].choices = [
            ("", "All pipelines"),
            *sorted(named, key=lambda p: p[1].lower()),
        ]
        starters = set(runs.exclude(created_by=None).values_list("created_by__username", flat=True))
        # Runs other nodes started (this node's parts): "alice (at node alice)", as stated.
        self.stated = {
            stated_person(None, node, user): (node, user)
            for node, user in runs.filter(created_by=None)
            .exclude(origin_node="")
            .values_list("origin_node", "origin_user")
            .distinct()
        }
        self.fields["started_by"].choices = [
            ("", "Anyone"),
            *((name, name) for name in sorted(starters | set(self.stated), key=str.lower)),
        ]

    @property
    def active(self) -> bool:
        """Whether any filter is set (the page then offers to clear them)."""
        return any(self.data.get(name) for name in self.fields)

    def problems(self) -> list[str]:
        """Each refused filter, named with its value ("status: 'done' is not ...")."""
        return [
            f"{name.replace('_', ' ')}: {error}"
            for name, errors in self.errors.items()
            for error in errors
        ]

    def filtered(self) -> QuerySet[Run]:
        """The runs matching every valid filter (call `is_valid()` first)."""
        runs = self.runs
        data = self.cleaned_data
        if data.get("project"):
            runs = runs.filter(pipeline__project_id=data["project"])
        if data.get("pipeline"):
            runs = runs.filter(pipeline_id=data["pipeline"])
        if data.get("status"):
            runs = runs.filter(status=data["status"])
        if data.get("started_by") in self.stated:
            node, user = self.stated[data["started_by"]]
            runs = runs.filter(created_by=None, origin_node=node, origin_user=user)
        elif data.get("started_by"):
            runs = runs.filter(created_by__username=data["started_by"])
        return runs
