"""The API permission every view carries: role and token scope reach the level the action needs.

A view names the level of its unsafe methods with `required_scope` (`"run"` for starting and
cancelling runs, `"read"` for a POST that changes nothing, like validation); otherwise safe
methods need `read` and anything else `admin`. Session requests are limited by the role only.

Views of the user's own account (`own_account = True`: tokens, sessions) are open to every role,
a viewer included, but a token still needs the `admin` scope there: a read token must not mint
an admin one.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from console.accounts.models import ApiToken
from console.accounts.people import may_manage_people
from console.accounts.roles import ADMIN, READ, allows, role_ceiling


def needed_level(request, view) -> str:
    if request.method in SAFE_METHODS:
        return READ
    return getattr(view, "required_scope", ADMIN)


class RoleAndScope(BasePermission):
    message = "Your role or your token's scope does not allow this action."

    def has_permission(self, request, view) -> bool:
        needed = needed_level(request, view)
        own_account = getattr(view, "own_account", False)
        if not own_account and not allows(role_ceiling(request.user), needed):
            self.message = "Viewers have read-only access: they may not run or change anything."
            return False
        token = request.auth
        if isinstance(token, ApiToken) and not allows(token.scope, needed):
            self.message = f"This token's scope is '{token.scope}'; this action needs '{needed}'."
            return False
        return True


class ManagesPeople(BasePermission):
    """The people API is for node admins and platform admins: anybody else is refused before
    their request body is even read (a 403, not a 400 that teaches what a valid body is)."""

    message = "Only node admins and platform admins manage users."

    def has_permission(self, request, view) -> bool:
        return may_manage_people(request.user)
