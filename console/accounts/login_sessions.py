"""Signed-in sessions of a user: recorded at login, listed on the account page, revocable."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _

from console.accounts.models import LoginSession
from console.audit.log import Action, actor_of, client_ip, record


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def remember_login(request, user) -> None:
    """Record the session a login just created (called from the `user_logged_in` receiver)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    LoginSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
        },
    )


def sessions_of(user) -> list[LoginSession]:
    """The user's sessions that still exist (expired or logged-out ones are forgotten)."""
    alive = []
    for login in LoginSession.objects.filter(user=user):
        if _store().exists(login.session_key):
            alive.append(login)
        else:
            login.delete()
    return alive


def forget_session(session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.filter(session_key=session_key).delete()


def revoke_session(request, pk) -> None:
    """End one of the requesting user's sessions (404 for anybody else's)."""
    login = (
        LoginSession.objects.filter(pk=pk, user=request.user).first() if str(pk).isdigit() else None
    )
    if login is None:
        raise Http404(_("No such session."))
    _store(login.session_key).delete()
    login.delete()
    record(actor_of(request), Action.SESSION_REVOKE, target=request.user, session=pk)


def end_all_sessions(user) -> int:
    """Sign the user out everywhere (deactivation, password reset); return how many ended."""
    logins = list(LoginSession.objects.filter(user=user))
    for login in logins:
        _store(login.session_key).delete()
    LoginSession.objects.filter(user=user).delete()
    return len(logins)
