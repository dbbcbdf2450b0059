"""Optional second factor: TOTP (RFC 6238) authenticator apps plus single-use recovery codes.

Built on django-otp: a confirmed `TOTPDevice` is the authenticator app; a `StaticDevice` named
"Recovery codes" holds ten single-use codes (django-otp stores them as given, like the TOTP
secret, which the server must read to verify a code: the database is the secret's safe). Both
device kinds throttle wrong codes with exponential back-off. A node admin may require a second
factor for all of the node's users (`NodeSecurityPolicy`); they must enrol at their next request.
"""

from __future__ import annotations

import math
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.accounts.models import NodeSecurityPolicy
from console.audit.log import Action, actor_of, record

APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"
RECOVERY_CODES = 10


def has_two_factor(user) -> bool:
    """An authenticator app or a passkey (recovery codes alone are not a factor)."""
    from console.accounts.models import Passkey

    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return True
    return Passkey.objects.filter(user=user, confirmed=True).exists()


def node_requires_two_factor(user) -> bool:
    if getattr(user, "node_id", None) is None:
        return False
    return NodeSecurityPolicy.objects.filter(node_id=user.node_id, require_two_factor=True).exists()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator of an enrolment in progress (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def confirm_enrolment(request, code: str) -> list[str]:
    """Check the first code from the app, turn the second factor on; return recovery codes."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError(_("Start the enrolment again: no authenticator is waiting."), "stale")
    if not device.verify_token(_digits(code)):
        raise ValidationError(
            _("That code does not match: check the phone's clock and type the current code."),
            code="bad_code",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user)
        record(actor_of(request), Action.TWO_FACTOR_ENABLE, target=user)
    otp_login(request, device)  # this session is verified; the others must sign in again
    return codes


def new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE)
    codes = [secrets.token_hex(5) for _index in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def regenerate_recovery_codes(request) -> list[str]:
    if not has_two_factor(request.user):
        raise ValidationError(_("Turn on the second factor first."), code="not_enrolled")
    with transaction.atomic():
        codes = new_recovery_codes(request.user)
        record(
            actor_of(request),
            Action.TWO_FACTOR_ENABLE,
            target=request.user,
            recovery_codes="renewed",
        )
    return codes


def disable(request, password: str) -> None:
    """Turn the second factor off: apps, passkeys and recovery codes (password required;
    refused where the node requires a second factor)."""
    user = request.user
    if node_requires_two_factor(user):
        raise PermissionDenied(_("Your node requires a second factor: it cannot be turned off."))
    if not user.check_password(password or ""):
        message = _("Enter your current password to turn the second factor off.")
        raise ValidationError(message, "bad")
    remove_factors(user)
    record(actor_of(request), Action.TWO_FACTOR_DISABLE, target=user)


def remove_factors(user) -> int:
    """Delete the user's authenticator apps, passkeys and recovery codes; return how many."""
    from console.accounts.models import Passkey

    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += Passkey.objects.filter(user=user).delete()[0]
        StaticDevice.objects.filter(user=user).delete()
    return removed


def throttle_wait(user) -> int:
    """Seconds until the user's authenticator accepts another code (0: now).

    django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s, ...); a code entered
    earlier is refused whatever it is, so the sign-in page says how long to wait instead.
    """
    waits = [0]
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            waits.append(math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    return max(waits)


def verify_code(user, code: str):
    """The device that accepts `code` (an app code or an unused recovery code), else None."""
    code = str(code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if code.isdigit() and device.verify_token(code):
            return device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


def _digits(code: str) -> str:
    return str(code or "").strip().replace(" ", "")


def set_node_requirement(request, node, required: bool) -> NodeSecurityPolicy:
    """A node admin (or platform admin) requires, or stops requiring, a second factor."""
    actor = request.user
    if not (actor.is_superuser or (actor.is_node_admin and actor.node_id == node.pk)):
        raise PermissionDenied(_("Only the node's admins set its sign-in rules."))
    policy, _created = NodeSecurityPolicy.objects.get_or_create(node=node)
    if policy.require_two_factor != required:
        policy.require_two_factor = required
        policy.save(update_fields=["require_two_factor", "updated_at"])
        record(
            actor_of(request), Action.TWO_FACTOR_POLICY, target=node, node=node, required=required
        )
    return policy
