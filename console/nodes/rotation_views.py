"""Certificate rotation on the nodes page (platform admins): rotate, and tell a peer again.

Both redirect back to the nodes page with a message naming each peer that was not told.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from console.nodes import identity as ids
from console.nodes import rotation
from console.nodes.models import EXPIRY_WARNING_DAYS, PeerRoute
from console.nodes.pairing import PairingError
from workflows.actors import Actor
from workflows.messages import render

# What the page offers for the grace period (seconds); the setting's default is always offered.
GRACE_CHOICES = (0, 3600, 86400, 7 * 86400)


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_superuser:
        return HttpResponseForbidden(_("Only platform admins rotate the node certificate."))
    return None


@login_required
@require_POST
def rotate_certificate(request: HttpRequest) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    try:
        grace = int(request.POST.get("grace_seconds", ""))
    except ValueError:
        grace = None  # the setting's default
    try:
        done = rotation.rotate_certificate(
            Actor.from_request(request), grace_seconds=grace, force=bool(request.POST.get("force"))
        )
    except PairingError as error:
        messages.error(request, str(error))
        return redirect("nodes:list")
    messages.success(
        request,
        _("New certificate %(fingerprint)s… in use; peers accept the old one until %(until)s UTC.")
        % {"fingerprint": done.new_fingerprint[:16], "until": f"{done.grace_until:%Y-%m-%d %H:%M}"},
    )
    _report(request, list(done.notices.select_related("route__node")))
    return redirect("nodes:list")


@login_required
@require_POST
def notify_rotation(request: HttpRequest, name: str) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    try:
        notices = rotation.notify_rotation(Actor.from_request(request), [name])
    except PairingError as error:
        messages.error(request, str(error))
    else:
        _report(request, notices)
    return redirect("nodes:list")


def _report(request: HttpRequest, notices) -> None:
    for notice in notices:
        peer = notice.route.node.name
        if notice.status == notice.Status.CONFIRMED:
            messages.success(request, _("%(peer)s pinned the new certificate.") % {"peer": peer})
        else:
            messages.error(
                request,
                _(
                    "%(peer)s was not told: %(error)s. Tell it again before the grace period "
                    "ends, or it must pair again."
                )
                % {"peer": peer, "error": render(notice.last_error).rstrip(".")},
            )


def routes_with_rotation_state() -> list:
    """The routes for the nodes page, each with `rotation_state` (this node's last rotation)."""
    states = rotation.peer_states()
    routes = list(PeerRoute.objects.select_related("node"))
    for route in routes:
        route.rotation_state = states.get(route.node.name)
    return routes


def identity_context() -> dict:
    """This node's certificate expiry warning, last rotation and grace choices for the page."""
    try:
        expires_at = ids.load_identity().expires_at
    except ids.IdentityError:
        expires_at = None
    soon = expires_at is not None and (expires_at - timezone.now()).days < EXPIRY_WARNING_DAYS
    default = settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS
    latest = rotation.latest_rotation()
    return {
        "identity_expires_soon": soon,
        "last_rotation": latest,
        "grace_choices": [(s, grace_label(s)) for s in sorted({*GRACE_CHOICES, default})],
        "default_grace": default,
    }


def grace_label(seconds: int) -> str:
    if seconds == 0:
        return _("no time (the old key is compromised)")
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
