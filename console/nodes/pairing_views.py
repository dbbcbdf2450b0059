"""Pairing pages (platform admins): create an invitation, accept one, check and switch routes.

The nodes page (`views.node_list`) shows this node's identity and its routes; these views
handle its forms and redirect back to it with a message naming what happened.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.nodes import pairing
from console.nodes.forms import AcceptInvitationForm
from console.nodes.invitations import InvitationError, parse
from console.nodes.link.transport import NodeCallError
from console.nodes.models import Invitation, PeerRoute
from workflows.actors import Actor

PAIRING_ERRORS = (pairing.PairingError, InvitationError, NodeCallError)


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_superuser:
        return HttpResponseForbidden(_("Only platform admins pair nodes and change routes."))
    return None


@login_required
@require_POST
def create_invitation(request: HttpRequest) -> HttpResponse:
    """Create an invitation; show it once, or send it as a file to hand over."""
    if denied := _admin_only(request):
        return denied
    try:
        invitation, text = pairing.create_invitation(Actor.from_request(request))
    except pairing.PairingError as error:
        messages.error(request, str(error))
        return redirect("nodes:list")
    if request.POST.get("as_file"):
        response = HttpResponse(text + "\n", content_type="text/plain; charset=utf-8")
        filename = f"privpad-invitation-{invitation.public_id}.txt"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    context = {"invitation": invitation, "text": text, "fingerprint": parse(text).fingerprint}
    response = render(request, "nodes/invitation.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def accept_invitation(request: HttpRequest) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    form = AcceptInvitationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            route = pairing.accept_invitation(Actor.from_request(request), form.invitation_text())
        except PAIRING_ERRORS as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "Paired with %(node)s at %(address)s; "
                    "its certificate %(fingerprint)s… is pinned."
                )
                % {
                    "node": route.node.name,
                    "address": route.address,
                    "fingerprint": route.fingerprint[:16],
                },
            )
            return redirect("nodes:list")
    from console.nodes.views import render_node_list

    return render_node_list(request, accept_form=form, status=400)


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, public_id: str) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    invitation = get_object_or_404(Invitation, public_id=public_id)
    try:
        pairing.revoke_invitation(Actor.from_request(request), invitation)
    except pairing.PairingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Invitation %(id)s revoked: it can no longer be used.") % {"id": public_id},
        )
    return redirect("nodes:list")


@login_required
@require_POST
def check_route(request: HttpRequest, name: str) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    route = get_object_or_404(PeerRoute.objects.select_related("node"), node__name=name)
    try:
        pairing.check_health(route)
    except PAIRING_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(node)s answered in %(ms)s ms.") % {"node": name, "ms": route.latency_ms},
        )
    return redirect("nodes:list")


@login_required
@require_POST
def switch_route(request: HttpRequest, name: str) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    route = get_object_or_404(PeerRoute.objects.select_related("node"), node__name=name)
    enable = request.POST.get("enabled") == "true"
    pairing.set_route_enabled(Actor.from_request(request), route, enable)
    if enable:
        message = _("Route to %(node)s enabled.")
    else:
        message = _("Route to %(node)s disabled: calls to and from it are refused.")
    messages.success(request, message % {"node": name})
    return redirect("nodes:list")
