"""The second-factor page of my account, and the node's requirement on the people page."""

from __future__ import annotations

from base64 import b32encode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.accounts import twofactor
from console.accounts.login_views import CodeForm
from console.accounts.models import Passkey
from console.pages.errors import error_text


class DisableForm(forms.Form):
    password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (secret and otpauth URI shown as text), or manage it."""
    user = request.user
    action = request.POST.get("action", "") if request.method == "POST" else ""
    try:
        if action == "enrol":
            codes = twofactor.confirm_enrolment(request, request.POST.get("code", ""))
            return _show_codes(request, codes, _("The second factor is on."))
        if action == "recovery_codes":
            codes = twofactor.regenerate_recovery_codes(request)
            return _show_codes(
                request, codes, _("New recovery codes: the old ones no longer work.")
            )
        if action == "disable":
            twofactor.disable(request, request.POST.get("password", ""))
            messages.success(request, _("The second factor is off."))
            return redirect("accounts:two-factor")
    except (ValidationError, PermissionDenied) as error:
        text = error_text(error) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    context = {
        "enrolled": twofactor.has_two_factor(user),
        "required": twofactor.node_requires_two_factor(user),
        "code_form": _enrolment_code_form(),
        "disable_form": DisableForm(),
        "passkeys": Passkey.objects.filter(user=user),
    }
    context["app_enrolled"] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if not context["app_enrolled"]:
        device = twofactor.pending_device(user)
        context["secret"] = _grouped(b32encode(device.bin_key).decode())
        context["otpauth_uri"] = device.config_url
    return render(request, "accounts/two_factor.html", context)


def _enrolment_code_form() -> CodeForm:
    form = CodeForm()
    form.fields["code"].help_text = _("The 6 digits the app shows now for this account.")
    form.fields["code"].widget.attrs.pop("autofocus", None)  # a settings page: no jump
    return form


def _show_codes(request: HttpRequest, codes: list[str], message: str) -> HttpResponse:
    messages.success(request, message)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
@require_POST
def node_requirement(request: HttpRequest) -> HttpResponse:
    node = request.user.node
    if node is None:
        raise PermissionDenied(_("Platform admins set a node's rules as one of its admins."))
    required = request.POST.get("require_two_factor") == "on"
    twofactor.set_node_requirement(request, node, required)
    if required:
        message = _("Node %(node)s requires a second factor.")
    else:
        message = _("Node %(node)s no longer requires a second factor.")
    messages.success(request, message % {"node": node.display_name})
    return redirect("accounts:people")
