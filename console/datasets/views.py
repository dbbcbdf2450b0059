"""Dataset pages: list, upload, detail (schema, authorisations), preview (owner only), delete.

Rows are shown only to users of the owning node (preview); members of a project the dataset is
authorised to see schema and roles. Everyone else gets 404 from the access helpers.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from console.accounts.sessions import require_recent_login
from console.datasets import services
from console.datasets.access import (
    active_authorizations,
    datasets_visible_to,
    get_dataset_for_owner,
    get_dataset_for_user,
)
from console.datasets.forms import AuthorizeForm, UploadForm
from console.datasets.models import Authorization, Dataset
from console.pages.errors import add_service_errors, error_text
from console.pages.roles import with_roles


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
        "has_node": node_id is not None,
    }
    return render(request, "datasets/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """The upload page. Browsers with JS upload through the API with a progress bar; this
    form POST is the same upload without JS."""
    if request.user.node_id is None:
        messages.error(request, "Only users of a node can upload datasets.")
        return redirect("datasets:list")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dataset = services.create_dataset(
                request, data["file"], name=data["name"], description=data["description"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Dataset “{dataset.name}” uploaded.")
            return redirect("datasets:detail", pk=dataset.pk)
    context = {
        "form": form,
        "max_bytes": settings.PRIVPAD_UPLOAD_MAX_BYTES,
        "api_url": reverse("api-datasets"),  # where upload.js sends the file
        "detail_url_template": reverse("datasets:detail", args=[0]),
    }
    return render(request, "datasets/upload.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_dataset_for_user(request, pk)
    is_owner = dataset.node_id == request.user.node_id
    context = {"dataset": dataset, "is_owner": is_owner}
    if is_owner:
        authorizations = dataset.authorizations.select_related("project", "granted_by")
        context["authorizations"] = [with_roles(a) for a in authorizations]
        context["form"] = AuthorizeForm(dataset)
    else:
        mine = active_authorizations(dataset).filter(
            project__memberships__node_id=request.user.node_id
        )
        context["authorizations"] = [with_roles(a) for a in mine]
    return render(request, "datasets/detail.html", context)


@login_required
@require_POST
def authorize(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_dataset_for_owner(request, pk)
    form = AuthorizeForm(dataset, request.POST)
    if form.is_valid():
        project = form.cleaned_data["project"]
        try:
            services.authorize_dataset(request, dataset, project, form.column_roles())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Authorised to “{project.name}”.")
            return redirect("datasets:detail", pk=dataset.pk)
    authorizations = dataset.authorizations.select_related("project", "granted_by")
    context = {
        "dataset": dataset,
        "is_owner": True,
        "authorizations": [with_roles(a) for a in authorizations],
        "form": form,
    }
    return render(request, "datasets/detail.html", context, status=400)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = get_object_or_404(Authorization.objects.select_related("project"), pk=pk)
    dataset = get_dataset_for_owner(request, authorization.dataset_id)
    try:
        services.revoke_authorization(request, authorization)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Authorisation to “{authorization.project.name}” revoked.")
    return redirect("datasets:detail", pk=dataset.pk)


@login_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_dataset_for_owner(request, pk)
    try:
        rows = services.preview(request, dataset)
    except ValidationError as error:  # e.g. the file went missing from the node's storage
        messages.error(request, error_text(error))
        return redirect("datasets:detail", pk=dataset.pk)
    return render(request, "datasets/preview.html", {"dataset": dataset, "preview": rows})


def deleted_message(name: str, forgotten) -> str:
    message = f"Dataset “{name}” deleted"
    if forgotten.deleted_files:
        message += f", with {forgotten.deleted_files} table(s) runs had derived from it"
    if forgotten.kept:
        message += (
            f". Kept {len(forgotten.kept)} model or report output(s) derived from it "
            "(aggregates, no rows): delete their runs to remove them"
        )
    return message + "."


@login_required
@require_http_methods(["GET", "POST"])
@require_recent_login
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    dataset: Dataset = get_dataset_for_owner(request, pk)
    if request.method == "POST":
        name = dataset.name
        try:
            forgotten = services.delete_dataset(request, dataset)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("datasets:detail", pk=pk)
        messages.success(request, deleted_message(name, forgotten))
        return redirect("datasets:list")
    shared_with = active_authorizations(dataset)
    return render(request, "datasets/delete.html", {"dataset": dataset, "shared_with": shared_with})
