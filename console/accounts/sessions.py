"""Session lifetime: expiry after inactivity, and re-authentication for sensitive actions.

Idle expiry: `IdleSessionMiddleware` notes when a signed-in session was last seen (at most
once a minute, so busy pages do not rewrite the session row on every request) and signs the
user out once `PRIVPAD_SESSION_IDLE_MINUTES` pass without a request. The session cookie's age
is the same, so an idle browser also drops the cookie.

Recent authentication: signing in (or re-entering the password on the re-authentication page)
stamps the session with the time. Sensitive actions demand a stamp younger than
`PRIVPAD_REAUTH_MINUTES`:

- page views: decorate with `@require_recent_login` (a redirect to the password prompt, back
  to the page afterwards);
- API views: add `RecentAuthentication` to `permission_classes` (403 `reauthentication_required`
  for session clients; a token client presents its credential with every request and passes).

Applied to dataset deletion, API-token issuing, decisions on disclosure plans (whose API
view, in `workflows`, gets the permission through `ConsolePort.sensitive_action_permissions`)
and changes of standing disclosure policies (which approve disclosures in advance).
To protect another action, decorate its page view and add the permission to its API view.
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

LAST_SEEN_KEY = "privpad_last_seen"
AUTHENTICATED_AT_KEY = "privpad_authenticated_at"
SEEN_RESOLUTION_SECONDS = 60


def idle_limit_seconds() -> int:
    return settings.PRIVPAD_SESSION_IDLE_MINUTES * 60


class IdleSessionMiddleware:
    """Sign out sessions idle longer than the limit; refresh the others' expiry."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            if now - last_seen > idle_limit_seconds():
                logout(request)
            elif now - last_seen >= SEEN_RESOLUTION_SECONDS or LAST_SEEN_KEY not in request.session:
                request.session[LAST_SEEN_KEY] = now  # saved, and the cookie's expiry renewed
        return self.get_response(request)


def mark_authenticated(request: HttpRequest) -> None:
    request.session[AUTHENTICATED_AT_KEY] = int(time.time())
    request.session[LAST_SEEN_KEY] = int(time.time())


@receiver(user_logged_in)
def stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request)


def recently_authenticated(request: HttpRequest) -> bool:
    stamp = request.session.get(AUTHENTICATED_AT_KEY) if hasattr(request, "session") else None
    return stamp is not None and time.time() - stamp <= settings.PRIVPAD_REAUTH_MINUTES * 60


def reauth_url(next_url: str) -> str:
    return f"{reverse('accounts:reauth')}?{urlencode({'next': next_url})}"


def require_recent_login(view=None, *, unsafe_only: bool = False):
    """Page views: send a user whose sign-in is older than the limit to the password prompt.

    With `unsafe_only`, reading the page needs no recent sign-in; submitting it (POST) does.
    """

    def decorate(view):
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs):
            exempt = unsafe_only and request.method in ("GET", "HEAD", "OPTIONS")
            if request.user.is_authenticated and not exempt and not recently_authenticated(request):
                return redirect(reauth_url(request.get_full_path()))
            return view(request, *args, **kwargs)

        return guarded

    return decorate(view) if view is not None else decorate


class RecentAuthentication(BasePermission):
    """API views: changes by session clients need a password entered recently (reads do not)."""

    message = (
        "This action needs a recent sign-in: enter your password again on the "
        "re-authentication page (/accounts/reauth/), then retry."
    )
    code = "reauthentication_required"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            return True  # a token is presented with every request
        return recently_authenticated(request._request)
