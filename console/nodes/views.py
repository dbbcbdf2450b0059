"""The nodes page: every party of the deployment, this node's identity and its paired routes.

Platform admins register nodes (embedded mode), create and accept pairing invitations, check
and switch routes here (the pairing forms post to `pairing_views`).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.nodes import identity as ids
from console.nodes import rotation_views
from console.nodes.forms import AcceptInvitationForm, NodeForm
from console.nodes.models import Node
from console.nodes.pairing import open_invitations
from console.nodes.services import register_node
from console.pages.errors import add_service_errors
from workflows.actors import Actor


@login_required
@require_http_methods(["GET", "POST"])
def node_list(request: HttpRequest) -> HttpResponse:
    is_admin = request.user.is_superuser
    if request.method == "POST" and not is_admin:
        return HttpResponseForbidden("Only platform admins register nodes.")
    form = NodeForm(request.POST or None) if is_admin else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            node = register_node(Actor.from_request(request), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Node “%(node)s” registered.") % {"node": node.display_name}
            )
            return redirect("nodes:list")
    return render_node_list(request, form=form)


def render_node_list(request: HttpRequest, form=None, accept_form=None, status: int = 200):
    is_admin = request.user.is_superuser
    if is_admin and accept_form is None:
        accept_form = AcceptInvitationForm()
    context = {
        "nodes": Node.objects.annotate(user_count=Count("users", distinct=True)),
        "form": form if form is not None else (NodeForm() if is_admin else None),
        "accept_form": accept_form if is_admin else None,
        "identity": _identity_or_none(),
        "routes": rotation_views.routes_with_rotation_state(),
        **rotation_views.identity_context(),
        "open_invitations": open_invitations() if is_admin else [],
        "health_interval": settings.PRIVPAD_NODE_HEALTH_INTERVAL_SECONDS,
    }
    return render(request, "nodes/list.html", context, status=status)


def _identity_or_none() -> ids.NodeIdentity | None:
    """This installation's identity, if `manage.py node init` created one."""
    if not Node.objects.filter(is_self=True).exists():
        return None
    try:
        return ids.load_identity()
    except ids.IdentityError:
        return None
