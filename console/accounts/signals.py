"""Audit every login, logout and failed login, whichever page or API performed it."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from console.accounts.login_sessions import forget_session, remember_login
from console.audit.log import Action, Outcome, actor_of, record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    record(actor_of(request), Action.LOGIN, user=user)
    if request is not None:
        remember_login(request, user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(actor_of(request), Action.LOGOUT, user=user)
    session = getattr(request, "session", None)
    forget_session(getattr(session, "session_key", None))


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs) -> None:
    # Never store the attempted password: only the name that was tried.
    record(
        actor_of(request),
        Action.LOGIN_FAILED,
        outcome=Outcome.FAILED,
        username=str(credentials.get("username", ""))[:150],
    )
