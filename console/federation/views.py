"""Pages' actions for shared projects: invite a node, propose a removal, vote on a ballot,
choose the source of Beaver triples; and a dealer node's page of the runs it served.

Every action is a POST that redirects back (to the project, or to the message center) with a
message saying what happened, including a vote that could not reach the owner node yet (it is
kept and re-sent).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.federation import dealers, projects
from console.federation.dealer_api import services_for
from console.federation.models import Ballot, OutgoingMessage
from console.nodes.models import Node
from console.pages.errors import error_text
from console.projects.access import get_project_for_owner
from workflows.actors import Actor
from workflows.messages import render as render_message


def _text(error: ValidationError | PermissionDenied) -> str:
    return error_text(error) if isinstance(error, ValidationError) else str(error)


@login_required
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_owner(Actor.from_request(request), pk)
    node = Node.objects.filter(pk=request.POST.get("node") or 0).first()
    if node is None:
        messages.error(request, _("Choose a paired node to invite."))
        return redirect("projects:detail", pk=project.pk)
    try:
        projects.invite_node(Actor.from_request(request), project, node)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _text(error))
    else:
        messages.success(
            request,
            _("%(node)s is invited: it joins once its admin (and every other member) accepts.")
            % {"node": node.display_name},
        )
    return redirect("projects:detail", pk=project.pk)


@login_required
@require_POST
def propose_removal(request: HttpRequest, pk: int, node_id: int) -> HttpResponse:
    project = get_project_for_owner(Actor.from_request(request), pk)
    node = get_object_or_404(Node, pk=node_id, memberships__project=project)
    try:
        proposal = projects.propose_removal(Actor.from_request(request), project, node)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _text(error))
    else:
        if proposal.status == "accepted":
            text = _("%(node)s left the project.")
        else:
            text = _("The other members vote on removing %(node)s.")
        messages.success(request, text % {"node": node.display_name})
    return redirect("projects:detail", pk=project.pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = get_object_or_404(Ballot, pk=pk)
    accept = request.POST.get("decision") == "accept"
    try:
        ballot, message = projects.decide_ballot(Actor.from_request(request), ballot, accept)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _text(error))
        return redirect("approvals:list")
    verb = _("accepted") if accept else _("declined")
    if message.state == OutgoingMessage.State.DELIVERED:
        messages.success(
            request,
            _("You %(verb)s; %(owner)s has your vote.")
            % {"verb": verb, "owner": ballot.owner.display_name},
        )
    else:
        messages.warning(
            request,
            _("You %(verb)s, but %(owner)s could not be reached: %(error)s. The vote is re-sent.")
            % {
                "verb": verb,
                "owner": ballot.owner.display_name,
                "error": render_message(message.last_error),
            },
        )
    return redirect("approvals:list")


@login_required
@require_POST
def choose_dealer(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner names the project's dealer node, or the trusted first party ("")."""
    project = get_project_for_owner(Actor.from_request(request), pk)
    chosen = request.POST.get("dealer", "")
    dealer = Node.objects.filter(pk=chosen).first() if chosen else None
    if chosen and dealer is None:
        messages.error(request, _("Choose a paired node, or the trusted first party."))
        return redirect("projects:detail", pk=project.pk)
    try:
        proposal = dealers.set_dealer(Actor.from_request(request), project, dealer)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _text(error))
        return redirect("projects:detail", pk=project.pk)
    source = {"source": dealers.source_words(dealer.name if dealer else "")}
    if proposal is None:
        messages.info(request, _("Beaver triples already come from %(source)s.") % source)
    elif proposal.status == "accepted":
        messages.success(
            request,
            _("Beaver triples now come from %(source)s; every member node is sent the change.")
            % source,
        )
    else:
        messages.success(
            request,
            _(
                "Proposed: Beaver triples from %(source)s. The other members vote in their "
                "message centers; runs keep the current source until all accepted."
            )
            % source,
        )
    return redirect("projects:detail", pk=project.pk)


@login_required
def dealer_services(request: HttpRequest) -> HttpResponse:
    """The runs this node served as a SEMI2K dealer node (its own users, platform admins)."""
    services = list(services_for(request.user)[:200])
    for service in services:
        service.shown_message = render_message(service.message)
    context = {"services": services, "serves": settings.PRIVPAD_SERVES_DEALER}
    return render(request, "federation/dealer_services.html", context)
