"""JSON endpoints the passkey script calls: register (signed in) and sign in (after password).

The browser's WebAuthn API needs a script; these answer it with JSON. Errors are
`{"detail": ...}` with status 400 (a failed check), 403 or 404.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.accounts import passkeys, webauthn
from console.accounts.login_views import finish_sign_in, pending_sign_in
from console.audit.log import Action, Outcome, actor_of, record
from console.pages.errors import error_text

MAX_BODY_BYTES = 64 * 1024


def _json_body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise ValidationError(_("The passkey answer is too large."), "too_large")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(_("The passkey answer is not JSON."), "bad_json") from error
    if not isinstance(body, dict):
        raise ValidationError(_("The passkey answer must be a JSON object."), "bad_json")
    return body


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


@login_required
@require_POST
def registration_options(request: HttpRequest) -> JsonResponse:
    return JsonResponse(passkeys.registration_options(request))


@login_required
@require_POST
def register(request: HttpRequest) -> JsonResponse:
    try:
        body = _json_body(request)
        codes = passkeys.add_passkey(request, body.get("name"), body)
    except ValidationError as error:
        return _error(error_text(error))
    return JsonResponse({"recovery_codes": codes}, status=201)


@login_required
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        passkey = passkeys.remove_passkey(request, pk)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Passkey '%(name)s' was removed.") % {"name": passkey.name})
    return redirect("accounts:two-factor")


@require_POST
def sign_in_options(request: HttpRequest) -> JsonResponse:
    found = pending_sign_in(request)
    if found is None:
        return _error("Sign in with your password first.", 403)
    options = passkeys.sign_in_options(request, found[1])
    if options is None:
        return _error("This account has no passkey.", 404)
    return JsonResponse(options)


@require_POST
def sign_in(request: HttpRequest) -> JsonResponse:
    found = pending_sign_in(request)
    if found is None:
        return _error("Sign in with your password first.", 403)
    pending, user = found
    try:
        passkey = passkeys.verify_sign_in(request, user, _json_body(request))
    except (webauthn.WebAuthnError, ValidationError) as error:
        text = error_text(error) if isinstance(error, ValidationError) else str(error)
        record(
            actor_of(request),
            Action.LOGIN_FAILED,
            outcome=Outcome.FAILED,
            username=user.username,
            factor="passkey",
        )
        return _error(_("The passkey did not sign you in: %(error)s.") % {"error": text})
    response = finish_sign_in(request, pending, user, passkey)
    return JsonResponse({"redirect": response["Location"] or reverse("pages:dashboard")})
