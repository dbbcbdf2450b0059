"""Passkey use cases: registration and sign-in options, adding, using and removing passkeys.

The checks themselves are in `console.accounts.webauthn`; this module keeps the rows, the
session challenge, the audit entries and the rules (name, ownership, the node's requirement).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.accounts import webauthn
from console.accounts.models import Passkey
from console.accounts.twofactor import new_recovery_codes, node_requires_two_factor
from console.audit.log import Action, actor_of, record

NAME_MAX_LENGTH = 64
TIMEOUT_MS = 120_000


def _descriptor(passkey: Passkey) -> dict:
    return {"type": "public-key", "id": passkey.credential_id}


def registration_options(request) -> dict:
    """What `navigator.credentials.create()` needs (binary fields as base64url)."""
    user = request.user
    rp = webauthn.RelyingParty.of(request)
    return {
        "challenge": webauthn.new_challenge(request.session),
        "rp": {"id": rp.rp_id, "name": "PrivPad"},
        "user": {
            "id": webauthn.b64url_encode(f"privpad-user-{user.pk}".encode()),
            "name": user.get_username(),
            "displayName": user.get_username(),
        },
        "pubKeyCredParams": [{"type": "public-key", "alg": webauthn.COSE_ES256}],
        "timeout": TIMEOUT_MS,
        "attestation": "none",
        "authenticatorSelection": {"userVerification": "preferred", "residentKey": "discouraged"},
        "excludeCredentials": [_descriptor(p) for p in Passkey.objects.filter(user=user)],
    }


def add_passkey(request, name, body: dict) -> list[str]:
    """Store a verified new passkey; return fresh recovery codes if the user had none."""
    name = str(name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        message = _("Name the passkey (1 to %(max)d characters).") % {"max": NAME_MAX_LENGTH}
        raise ValidationError(message, "name")
    try:
        credential = webauthn.verify_registration(
            request.session, webauthn.RelyingParty.of(request), body
        )
    except webauthn.WebAuthnError as error:
        message = _("The passkey was not added: %(error)s.") % {"error": error}
        raise ValidationError(message, "webauthn") from error
    if Passkey.objects.filter(credential_id=credential.credential_id).exists():
        raise ValidationError(_("This passkey is already registered."), "duplicate")
    user = request.user
    with transaction.atomic():
        passkey = Passkey.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=credential.credential_id,
            public_key=credential.public_key_der,
            sign_count=credential.sign_count,
        )
        codes = [] if StaticDevice.objects.filter(user=user).exists() else new_recovery_codes(user)
        record(actor_of(request), Action.TWO_FACTOR_ENABLE, target=user, passkey=name)
    otp_login(request, passkey)  # this session proved the new factor
    return codes


def remove_passkey(request, pk) -> Passkey:
    passkey = (
        Passkey.objects.filter(pk=pk, user=request.user).first() if str(pk).isdigit() else None
    )
    if passkey is None:
        raise Http404(_("No such passkey."))
    others = Passkey.objects.filter(user=request.user).exclude(pk=passkey.pk).exists()
    app = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    if not (others or app) and node_requires_two_factor(request.user):
        raise PermissionDenied(_("Your node requires a second factor: keep at least one."))
    with transaction.atomic():
        passkey.delete()
        if not (others or app):
            StaticDevice.objects.filter(user=request.user).delete()
        record(
            actor_of(request), Action.TWO_FACTOR_DISABLE, target=request.user, passkey=passkey.name
        )
    return passkey


def sign_in_options(request, user) -> dict | None:
    """What `navigator.credentials.get()` needs for the pending user (None: no passkeys)."""
    passkeys = list(Passkey.objects.filter(user=user, confirmed=True))
    if not passkeys:
        return None
    return {
        "challenge": webauthn.new_challenge(request.session),
        "rpId": webauthn.RelyingParty.of(request).rp_id,
        "allowCredentials": [_descriptor(p) for p in passkeys],
        "userVerification": "preferred",
        "timeout": TIMEOUT_MS,
    }


def verify_sign_in(request, user, body: dict) -> Passkey:
    """The user's passkey that signed this answer (raise WebAuthnError if none did)."""
    passkey = Passkey.objects.filter(
        user=user, confirmed=True, credential_id=str(body.get("id", ""))
    ).first()
    if passkey is None:
        webauthn.new_challenge(request.session)  # spend the challenge all the same
        raise webauthn.WebAuthnError("this passkey is not registered for the account")
    rp = webauthn.RelyingParty.of(request)
    count = webauthn.verify_assertion(
        request.session, rp, body, bytes(passkey.public_key), passkey.sign_count
    )
    passkey.sign_count, passkey.last_used_at = count, timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey
