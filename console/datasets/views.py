"""Dataset pages: list, upload, detail (schema, authorisations), preview (owner only), delete,
authorise (roles pre-filled from suggestions), edit roles (a new version), revoke.

Rows are shown only to users of the owning node (preview); members of a project the dataset is
authorised to see schema and roles. Everyone else gets 404 from the access helpers.

Confirm steps: roles without an ID column or a label re-show the form with the warnings and an
"... anyway" button (the owner decides); revoking shows what stops working before it is done.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from console.accounts.sessions import require_recent_login
from console.datasets import policies, services
from console.datasets.access import (
    active_authorizations,
    columns_for,
    datasets_visible_to,
    get_dataset_for_owner,
    get_dataset_for_user,
)
from console.datasets.forms import (
    AuthorizeForm,
    ColumnRolesForm,
    UploadForm,
    authorizable_projects,
)
from console.datasets.models import Authorization, Dataset
from console.datasets.role_suggestions import role_warnings
from console.pages.errors import add_service_errors, error_text
from console.pages.roles import with_roles
from workflows.actors import Actor
from workflows.disclosure.ledger import dataset_usage
from workflows.models import Pipeline
from workflows.tabular.dialect import DELIMITERS


@login_required
def dataset_list(request: HttpRequest) -> HttpResponse:
    visible = datasets_visible_to(request.user)
    node_id = request.user.node_id
    shared = list(visible.exclude(node_id=node_id).order_by("node__name", "name"))
    # The projects through which each shared dataset reaches this node, in one query.
    via: dict[int, list] = {dataset.pk: [] for dataset in shared}
    grants = Authorization.objects.filter(
        dataset_id__in=via, revoked_at__isnull=True, project__memberships__node_id=node_id
    ).select_related("project")
    for grant in grants.order_by("project__name"):
        via[grant.dataset_id].append(grant.project)
    shared_rows = [{"dataset": dataset, "projects": via[dataset.pk]} for dataset in shared]
    context = {
        "mine": visible.filter(node_id=node_id),
        "shared": shared_rows,
        # Upload buttons: users of a node who may change things (not viewers).
        "has_node": node_id is not None and not request.user.is_read_only,
    }
    return render(request, "datasets/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """The upload page. Browsers with JS upload through the API with a progress bar; this
    form POST is the same upload without JS."""
    if request.user.node_id is None or request.user.is_read_only:
        messages.error(request, _("Only users of a node who are not viewers upload datasets."))
        return redirect("datasets:list")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dataset = services.create_dataset(
                Actor.from_request(request),
                data["file"],
                name=data["name"],
                description=data["description"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Dataset “%(dataset)s” uploaded.") % {"dataset": dataset.name}
            )
            return redirect("datasets:detail", pk=dataset.pk)
    context = {
        "form": form,
        "max_bytes": settings.PRIVPAD_UPLOAD_MAX_BYTES,
        "api_url": reverse("api-datasets"),  # where upload.js sends the file
        "detail_url_template": reverse("datasets:detail", args=[0]),
    }
    return render(request, "datasets/upload.html", context)


def _owner_authorizations(dataset: Dataset) -> list[dict]:
    authorizations = dataset.authorizations.select_related(
        "project", "granted_by", "superseded_by"
    ).order_by("-created_at", "-id")
    return [with_roles(a) for a in authorizations]


def _authorize_form(dataset: Dataset, data=None) -> AuthorizeForm:
    """The authorisation form, pre-filled with the suggested roles and their reasons when
    there is a project to authorise to (the suggestions read the file)."""
    if not data and authorizable_projects(dataset).exists():
        suggestions = services.suggested_roles(dataset)
    else:
        suggestions = {}
    roles = {name: suggestion.role for name, suggestion in suggestions.items()}
    reasons = {name: s.reason for name, s in suggestions.items() if s.reason}
    return AuthorizeForm(dataset, data, initial_roles=roles, reasons=reasons)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_dataset_for_user(Actor.from_request(request), pk)
    is_owner = dataset.node_id == request.user.node_id
    context = {"dataset": dataset, "is_owner": is_owner}
    if is_owner:
        context["delimiter"] = DELIMITERS.get(services.delimiter_of(dataset), "")
        context["authorizations"] = _owner_authorizations(dataset)
        context["form"] = _authorize_form(dataset)
        context["policy_forms"] = policies.policy_forms(dataset)
        context["usage"] = dataset_usage(dataset.pk)
    else:
        mine = active_authorizations(dataset).filter(
            project__memberships__node_id=request.user.node_id
        )
        context["authorizations"] = [with_roles(a) for a in mine]
        # Shown, never saved: the schema with only the null counts this node may read.
        dataset.columns = columns_for(dataset, request.user.node_id, [a.column_roles for a in mine])
    return render(request, "datasets/detail.html", context)


def _needs_confirmation(form: ColumnRolesForm) -> list:
    """The role warnings the owner has not confirmed yet (empty: go ahead)."""
    if form.cleaned_data.get("confirm"):
        return []
    return role_warnings(form.column_roles())


@login_required
@require_POST
def authorize(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    dataset = get_dataset_for_owner(actor, pk)
    form = _authorize_form(dataset, request.POST)
    warnings = []
    if form.is_valid():
        project = form.cleaned_data["project"]
        warnings = _needs_confirmation(form)
        if not warnings:
            try:
                services.authorize_dataset(actor, dataset, project, form.column_roles())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Authorised to “%(project)s”.") % {"project": project.name}
                )
                return redirect("datasets:detail", pk=dataset.pk)
    context = {
        "dataset": dataset,
        "is_owner": True,
        "authorizations": _owner_authorizations(dataset),
        "form": form,
        "warnings": warnings,
    }
    return render(request, "datasets/detail.html", context, status=200 if warnings else 400)


def _owned_authorization(request, pk: int) -> Authorization:
    authorization = get_object_or_404(
        Authorization.objects.select_related("project", "dataset__node"), pk=pk
    )
    # 404 (audited) for other nodes
    get_dataset_for_owner(Actor.from_request(request), authorization.dataset_id)
    return authorization


@login_required
@require_http_methods(["GET", "POST"])
def edit_roles(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the column roles of an active authorisation: a new version replaces it."""
    authorization = _owned_authorization(request, pk)
    dataset = authorization.dataset
    if not authorization.is_active:
        messages.error(request, services.inactive_reason(authorization, dataset))
        return redirect("datasets:detail", pk=dataset.pk)
    data = request.POST if request.method == "POST" else None
    form = ColumnRolesForm(dataset, data, initial_roles=authorization.column_roles)
    warnings = []
    if data is not None and form.is_valid():
        warnings = _needs_confirmation(form)
        if not warnings:
            try:
                new = services.update_column_roles(
                    Actor.from_request(request), authorization, form.column_roles()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Roles in “{new.project.name}” updated: version {new.version} replaces "
                    f"version {authorization.version}.",
                )
                return redirect("datasets:detail", pk=dataset.pk)
    context = {"authorization": authorization, "dataset": dataset, "form": form}
    context["warnings"] = warnings
    status = 400 if data is not None and not warnings and form.errors else 200
    return render(request, "datasets/roles.html", context, status=status)


def _pipelines_reading(authorization: Authorization) -> list[Pipeline]:
    """The project's pipelines with a node reading the dataset (what revoking stops)."""
    pipelines = Pipeline.objects.filter(project_id=authorization.project_id).order_by("name")
    return [
        pipeline
        for pipeline in pipelines.only("name", "graph")
        if any(
            (node.get("params") or {}).get("dataset") == authorization.dataset_id
            for node in (pipeline.graph or {}).get("nodes", [])
        )
    ]


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what revoking stops (the confirm step); POST: revoke."""
    authorization = _owned_authorization(request, pk)
    dataset = authorization.dataset
    if request.method == "GET":
        if not authorization.is_active:
            messages.error(request, services.inactive_reason(authorization, dataset))
            return redirect("datasets:detail", pk=dataset.pk)
        context = {
            "authorization": authorization,
            "dataset": dataset,
            "pipelines": _pipelines_reading(authorization),
        }
        return render(request, "datasets/revoke.html", context)
    try:
        services.revoke_authorization(Actor.from_request(request), authorization)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            _("Authorisation to “%(project)s” revoked.") % {"project": authorization.project.name},
        )
    return redirect("datasets:detail", pk=dataset.pk)


@login_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    dataset = get_dataset_for_user(actor, pk)
    try:
        rows = services.preview(actor, dataset)  # owner only (404, audited, for others)
    except ValidationError as error:  # e.g. the file went missing from the node's storage
        messages.error(request, error_text(error))
        return redirect("datasets:detail", pk=dataset.pk)
    return render(request, "datasets/preview.html", {"dataset": dataset, "preview": rows})


def deleted_message(name: str, forgotten) -> str:
    message = _("Dataset “%(name)s” deleted") % {"name": name}
    if forgotten.deleted_files:
        message += _(", with %(count)s table(s) runs had derived from it") % {
            "count": forgotten.deleted_files
        }
    if forgotten.kept:
        message += _(
            ". Kept %(count)s model or report output(s) derived from it "
            "(aggregates, no rows): delete their runs to remove them"
        ) % {"count": len(forgotten.kept)}
    return message + pgettext("the end of a sentence", ".")


@login_required
@require_http_methods(["GET", "POST"])
@require_recent_login
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    dataset: Dataset = get_dataset_for_owner(Actor.from_request(request), pk)
    if request.method == "POST":
        name = dataset.name
        try:
            forgotten = services.delete_dataset(Actor.from_request(request), dataset)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("datasets:detail", pk=pk)
        messages.success(request, deleted_message(name, forgotten))
        return redirect("datasets:list")
    shared_with = active_authorizations(dataset)
    return render(request, "datasets/delete.html", {"dataset": dataset, "shared_with": shared_with})
