"""Project pages: list, create, detail (members and authorised datasets), owner actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.nodes.models import Node
from console.pages.counts import with_counts
from console.pages.errors import add_service_errors, error_text
from console.pages.roles import with_roles
from console.pipelines.listing import project_pipelines, with_last_run
from console.projects import services
from console.projects.access import get_project_for_owner, get_project_for_user, projects_visible_to
from console.projects.forms import AddMemberForm, ProjectForm
from console.projects.models import Project
from workflows.actors import Actor


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = with_counts(projects_visible_to(request.user))
    can_create = request.user.node_id is not None and not request.user.is_read_only
    return render(request, "projects/list.html", {"projects": projects, "can_create": can_create})


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if request.user.node_id is None or request.user.is_read_only:
        messages.error(request, _("Only users of a node who are not viewers create projects."))
        return redirect("projects:list")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(Actor.from_request(request), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Project “%(project)s” created.") % {"project": project.name}
            )
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/create.html", {"form": form})


def _authorizations(project: Project) -> list[dict]:
    """Active authorisations of the project with their roles in column order."""
    active = project.authorizations.filter(revoked_at__isnull=True).select_related("dataset__node")
    return [with_roles(a) for a in active.order_by("dataset__node__name", "dataset__name")]


def _edited_on(project: Project) -> str | None:
    """Network mode: the owner node that edits this project's pipelines, if not this one."""
    from console.datasets.pipeline_sources import ConsoleSources

    return ConsoleSources().project(project.pk).edited_on


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_user(Actor.from_request(request), pk)
    is_owner = request.user.node_id == project.owner_node_id
    can_manage = is_owner and not project.is_archived and not request.user.is_read_only
    context = {
        "project": project,
        "memberships": project.memberships.select_related("node", "added_by"),
        "authorizations": _authorizations(project),
        "is_owner": is_owner,
        "can_manage": can_manage,
        "member_form": AddMemberForm(project) if can_manage else None,
        "pipelines": with_last_run(project_pipelines(project)),
        "can_add_pipeline": not (project.is_archived or request.user.is_read_only)
        and project.has_member(request.user.node)
        and not _edited_on(project),
    }
    return render(request, "projects/detail.html", context)


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename or re-describe a project (owner only; archived projects are read-only)."""
    project = get_project_for_owner(Actor.from_request(request), pk)
    if project.is_archived:
        messages.error(request, _("The project is archived and read-only; unarchive it first."))
        return redirect("projects:detail", pk=project.pk)
    initial = {"name": project.name, "description": project.description}
    form = ProjectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(Actor.from_request(request), project, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Project details saved."))
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/edit.html", {"form": form, "project": project})


@login_required
@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_owner(Actor.from_request(request), pk)
    form = AddMemberForm(project, request.POST)
    if not form.is_valid():
        messages.error(request, error_text(ValidationError(form.errors["node"])))
        return redirect("projects:detail", pk=project.pk)
    try:
        services.add_member(Actor.from_request(request), project, form.cleaned_data["node"])
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("%(node)s is now a member.") % {"node": form.cleaned_data["node"]}
        )
    return redirect("projects:detail", pk=project.pk)


@login_required
@require_POST
def remove_member(request: HttpRequest, pk: int, node_id: int) -> HttpResponse:
    project = get_project_for_owner(Actor.from_request(request), pk)
    node = get_object_or_404(Node, pk=node_id, memberships__project=project)
    try:
        services.remove_member(Actor.from_request(request), project, node)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("%(node)s removed; its datasets are no longer shared here.") % {"node": node}
        )
    return redirect("projects:detail", pk=project.pk)


@login_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_owner(Actor.from_request(request), pk)
    archived = request.POST.get("archived") == "1"
    try:
        services.set_archived(Actor.from_request(request), project, archived)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        state = _("archived: it is now read-only") if archived else _("active again")
        messages.success(
            request,
            _("Project “%(project)s” is %(state)s.") % {"project": project.name, "state": state},
        )
    return redirect("projects:detail", pk=project.pk)
