"""API token keys and the DRF authentication that checks them.

A key is `pp_<prefix>_<secret>`: 8 hex characters of prefix shown in lists, 43 characters of
URL-safe randomness (256 bits). Only the SHA-256 digest of the whole key is stored, so a copy of
the database authenticates nobody. Clients send `Authorization: Token <key>` (the header of
DRF's former single token, so scripts keep working once they have a new key).
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from console.accounts.models import ApiToken

KEY_PREFIX = "pp_"


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh `(key, prefix)`."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def node_is_disabled(user) -> bool:
    node = getattr(user, "node", None)
    return node is not None and node.status == node.Status.DISABLED


class ApiTokenAuthentication(TokenAuthentication):
    """Authenticate `Token <key>` against hashed, unexpired, unrevoked tokens of active users."""

    model = ApiToken

    def authenticate_credentials(self, key: str):
        token = (
            ApiToken.objects.select_related("user", "user__node")
            .filter(digest=digest_of(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if node_is_disabled(token.user):
            raise exceptions.AuthenticationFailed(_("The user's node is disabled."))
        # One write per minute at most: a busy script should not turn reads into writes.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
