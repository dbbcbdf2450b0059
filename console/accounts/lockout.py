"""Sign-in throttling with django-axes: the lockout answer, its wait time and its audit entry.

Failures are counted per client address and username (`AXES_LOCKOUT_PARAMETERS`): after
`AXES_FAILURE_LIMIT` failures in a row the pair is locked out for `AXES_COOLOFF_TIME` (a new
failure while locked restarts the wait), even with the right password. Bad API tokens count
as failures of the pseudo-username `TOKEN_CREDENTIALS` from that address. Every lockout is
audited (`login_failed`, outcome `denied`, with the wait) by `audit_lockout`.
"""

from __future__ import annotations

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth.forms import AuthenticationForm
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from console.audit.log import Action, Outcome, actor_of, record

# The "username" bad API tokens are counted under (a token names no user until it is valid).
TOKEN_CREDENTIALS = {"username": "(api token)"}


def is_locked_out(request: HttpRequest, credentials: dict) -> bool:
    return AxesProxyHandler.is_locked(request, credentials)


def wait_of(request: HttpRequest, credentials: dict | None) -> int:
    """Seconds until the lockout of this client (and username) ends, at least 1."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=get_client_ip_address(request))
    if credentials and credentials.get("username"):
        attempts = attempts.filter(username=credentials["username"])
    latest = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if latest is None:
        return math.ceil(cool_off.total_seconds())
    remaining = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def describe_wait(seconds: int) -> str:
    """The wait in the active language: seconds under 90, else minutes (rounded up)."""
    if seconds < 90:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def locked_out_message(seconds: int, tokens: bool = False) -> str:
    """The lockout's sentence with its wait, for failed sign-ins or (`tokens`) bad API tokens."""
    if tokens:
        text = _(
            "Too many bad API tokens from your address: sign-in is locked. Try again in %(wait)s."
        )
    else:
        text = _(
            "Too many failed sign-ins from your address: sign-in is locked. Try again in %(wait)s."
        )
    return text % {"wait": describe_wait(seconds)}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the wait, as JSON for the API, else the login page."""
    wait = wait_of(request, credentials)
    message = locked_out_message(wait)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        form = AuthenticationForm(request, initial={"username": _username(credentials)})
        form.cleaned_data = {}  # an unbound form has none; add_error needs it
        form.add_error(None, message)
        response = render(request, "accounts/login.html", {"form": form}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _username(credentials: dict | None) -> str:
    return str((credentials or {}).get("username") or "")


@receiver(user_locked_out)
def audit_lockout(sender, request, username=None, ip_address=None, **kwargs) -> None:
    record(
        actor_of(request),
        Action.LOGIN_FAILED,
        outcome=Outcome.DENIED,
        username=str(username or "")[:150],
        locked_out=True,
        retry_after_seconds=wait_of(request, {"username": username}) if request else None,
    )
