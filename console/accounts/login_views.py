"""Sign-in in two steps when the user has a second factor: password, then a code.

Step one is Django's `LoginView`; when the user has an authenticator it does not log in but
remembers, in the anonymous session, who passed the password (and when). Step two asks for an
app code or a recovery code; only then is the user logged in, with the device marked verified.
The pending sign-in expires after five minutes or five wrong codes (devices also throttle).
"""

from __future__ import annotations

import time

from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from console.accounts.models import Passkey, User
from console.accounts.tokens import node_is_disabled
from console.accounts.twofactor import has_two_factor, throttle_wait, verify_code
from console.audit.log import Action, Outcome, actor_of, record

PENDING_KEY = "privpad_pending_2fa"
PENDING_SECONDS = 300
MAX_WRONG_CODES = 5
TEMPLATE = "accounts/login_code.html"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class SignInForm(AuthenticationForm):
    """Django's sign-in form, saying why the right password of a disabled node's user fails."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            user = self._user_with_these_credentials()
            if user is not None and node_is_disabled(user):
                raise forms.ValidationError(
                    f"Your node “{user.node}” is disabled: its users cannot sign in. "
                    "Ask the platform admin.",
                    code="node_disabled",
                ) from None
            raise

    def _user_with_these_credentials(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        user = User._default_manager.filter(username=username).first()
        return user if user is not None and password and user.check_password(password) else None


class PasswordStepLoginView(LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not has_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
            "since": time.time(),
            "wrong": 0,
        }
        return redirect("accounts:login-code")


def pending_sign_in(request: HttpRequest) -> tuple[dict, User] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (pending, user) if user is not None else None


@require_http_methods(["GET", "POST"])
def code_step(request: HttpRequest) -> HttpResponse:
    found = pending_sign_in(request)
    if found is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("accounts:login")
    pending, user = found
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = throttle_wait(user)
        if wait > 0:
            form.add_error(
                "code", f"Too many wrong codes: wait {wait} s, then type the current one."
            )
            return render(request, TEMPLATE, _context(form, user))
        device = verify_code(user, form.cleaned_data["code"])
        if device is not None:
            return finish_sign_in(request, pending, user, device)
        return _wrong_code(request, pending, user, form)
    return render(request, TEMPLATE, _context(form, user))


def _context(form, user: User) -> dict:
    has_passkeys = Passkey.objects.filter(user=user, confirmed=True).exists()
    return {"form": form, "username": user.username, "has_passkeys": has_passkeys}


def finish_sign_in(request: HttpRequest, pending: dict, user: User, device) -> HttpResponse:
    del request.session[PENDING_KEY]
    user.otp_device = device  # django-otp persists it in the session at login
    auth_login(request, user, backend=pending["backend"])
    target = pending.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    return redirect(target or "pages:dashboard")


def _wrong_code(request: HttpRequest, pending: dict, user: User, form) -> HttpResponse:
    pending["wrong"] += 1
    request.session[PENDING_KEY] = pending
    record(
        actor_of(request),
        Action.LOGIN_FAILED,
        outcome=Outcome.FAILED,
        username=user.username,
        factor="second",
    )
    if pending["wrong"] >= MAX_WRONG_CODES:
        del request.session[PENDING_KEY]
        return redirect("accounts:login")
    form.add_error("code", "That code is not valid (or was already used). Try the current one.")
    return render(request, TEMPLATE, _context(form, user))
