"""API token use cases: issue (the key is returned once), list, revoke. Every change audited."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.accounts.models import ApiToken
from console.accounts.tokens import digest_of, new_key
from console.audit.log import Action, record
from workflows.actors import Actor, Kind

NAME_MAX_LENGTH = 80
MAX_EXPIRY_DAYS = 365
DEFAULT_EXPIRY_DAYS = 90
SCOPES = tuple(ApiToken.Scope.values)


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def clean_token_request(name, scope, expires_in_days) -> tuple[str, str, int]:
    """Check a token's name, scope and lifetime; raise ValidationError naming the bad field."""
    name = str(name or "").strip()
    if not name:
        raise _field_error("name", _("A token needs a name (what will use it?)."), "required")
    if len(name) > NAME_MAX_LENGTH:
        raise _field_error(
            "name",
            _("A token name has at most %(count)d characters.") % {"count": NAME_MAX_LENGTH},
            "max_length",
        )
    if scope not in SCOPES:
        raise _field_error(
            "scope",
            _("Unknown scope %(scope)r; scopes are %(scopes)s.")
            % {"scope": scope, "scopes": ", ".join(SCOPES)},
            "invalid_choice",
        )
    try:
        days = int(expires_in_days)
    except (TypeError, ValueError):
        days = 0
    if isinstance(expires_in_days, bool) or not 1 <= days <= MAX_EXPIRY_DAYS:
        raise _field_error(
            "expires_in_days",
            _("A token expires after 1 to %(max)d days; got %(value)r.")
            % {"max": MAX_EXPIRY_DAYS, "value": expires_in_days},
            "invalid_expiry",
        )
    return name, scope, days


def create_token(
    actor: Actor,
    user,
    name: str = "API token",
    scope: str = ApiToken.Scope.READ,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
) -> tuple[ApiToken, str]:
    """Issue a token for `user`; return the row and its key (shown once, never stored or logged).

    Users issue their own tokens; platform admins (and the system actor of
    `manage.py create_api_token`, an operator on the server) may issue one for anybody.
    """
    if getattr(actor.user, "pk", None) != user.pk and not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins may create tokens for other users."))
    name, scope, days = clean_token_request(name, scope, expires_in_days)
    key, prefix = new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=digest_of(key),
            scope=scope,
            expires_at=timezone.now() + timedelta(days=days),
        )
        by_command = actor.kind == Kind.SYSTEM
        record(
            actor,
            Action.TOKEN_CREATE,
            user=user if by_command else actor.user,
            target=token,
            node=user.node,
            owner=user.get_username(),
            scope=scope,
            expires_at=token.expires_at.isoformat(),
            via="command" if by_command else "api",
        )
    return token, key


def tokens_of(user):
    return ApiToken.objects.filter(user=user)


def revoke_token(actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke one of the acting user's tokens (platform admins: anybody's)."""
    if token.user_id != getattr(actor.user, "pk", None) and not actor.is_superuser:
        raise PermissionDenied(_("You may revoke only your own tokens."))
    if token.revoked_at is not None:
        message = _("Token '%(name)s' is already revoked.") % {"name": token.name}
        raise _field_error("token", message, "revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(actor, Action.TOKEN_REVOKE, target=token, node=token.user.node)
    return token
