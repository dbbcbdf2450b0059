"""Account use cases: API tokens (DRF authtoken), one per user, rotated on each request."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from console.audit.log import Action, record


def create_token(request, user) -> str:
    """Create or rotate `user`'s API token and return its key (shown once, never logged).

    Users rotate their own token; platform admins may issue one for anybody. `request` is None
    when called from `manage.py create_api_token` (an operator on the server).
    """
    if request is not None:
        actor = request.user
        if actor.pk != user.pk and not actor.is_superuser:
            raise PermissionDenied(_("Only platform admins may create tokens for other users."))
    with transaction.atomic():
        rotated = Token.objects.filter(user=user).delete()[0] > 0
        token = Token.objects.create(user=user)
        # The target is the user, never the token: its string form is the secret key.
        record(
            request,
            Action.TOKEN_CREATE,
            user=request.user if request is not None else user,
            target=user,
            node=user.node,
            rotated=rotated,
            via="api" if request is not None else "command",
        )
    return token.key
