"""Request middlewares of accounts: the user's saved language, and the second factor.

`UserLanguageMiddleware` applies a signed-in user's saved language (English or Simplified
Chinese). Django's LocaleMiddleware runs before authentication, so it can only use the
session/cookie or the browser's Accept-Language. Once the user is known, their saved preference
(`User.language`) wins, on every device they sign in from; an empty preference keeps what
LocaleMiddleware chose. Token-authenticated API calls get theirs from
`console.accounts.authentication.LanguageTokenAuthentication`.

`TwoFactorMiddleware` holds signed-in users to the second factor: verified if enrolled,
enrolled if required.

Runs after django-otp's `OTPMiddleware` (which sets `user.is_verified()`):
- a session of a user with an authenticator or passkey that was not verified with it (it began
  before the user enrolled, or was opened without the login page) is signed out (the API
  answers 401);
- a user whose node requires a second factor and who has none reaches only the enrolment page
  (and logout); pages redirect there, the API answers 403 `two_factor_required`.
Token-authenticated API calls are not sessions: DRF authenticates them later, in the view.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from console.accounts.twofactor import has_two_factor, node_requires_two_factor

OPEN_WHILE_ENROLLING = ("accounts:two-factor", "accounts:logout")


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class TwoFactorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified():
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        if has_two_factor(user):
            logout(request)
            message = _("Sign in again with your second factor.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "not_authenticated"}, status=401)
            messages.info(request, message)
            return redirect("accounts:login")
        if not node_requires_two_factor(user):
            return None
        if request.path in {reverse(name) for name in OPEN_WHILE_ENROLLING}:
            return None
        message = _("Your node requires a second factor: set up an authenticator app first.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "two_factor_required"}, status=403)
        if request.path.startswith(("/static/", "/favicon")):
            return None
        messages.warning(request, message)
        return redirect("accounts:two-factor")
