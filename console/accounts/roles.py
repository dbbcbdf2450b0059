"""What each role and each token scope may do: one table, read by the API and the services.

Roles (per user, on their node):
- node admin: everything on the node, manages its users, decides on disclosures;
- approver: an analyst who also decides on disclosures of the node's data (the
  `workflows.decide_approval` permission the disclosure consent checks is granted by this role);
- analyst: uploads, authorises, edits pipelines and runs them;
- viewer: opens projects, pipelines and results; never runs or edits.

An action needs one of three levels, the same words as token scopes: `read` (look), `run`
(start or cancel a run), `admin` (any change). A request may act at a level when both the
user's role and, for token requests, the token's scope reach it.
"""

from __future__ import annotations

from workflows.ownership import ensure_not_read_only

READ, RUN, ADMIN = "read", "run", "admin"
LEVELS = {READ: 0, RUN: 1, ADMIN: 2}

# Django permissions that a role grants on top of its defaults (see `RolePermissionBackend`).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"workflows.decide_approval"}),
    "approver": frozenset({"workflows.decide_approval"}),
}


def role_ceiling(user) -> str:
    """The highest level the user's role allows."""
    return READ if getattr(user, "is_read_only", False) else ADMIN


def allows(granted: str, needed: str) -> bool:
    return LEVELS[granted] >= LEVELS[needed]


def ensure_may_change(user, what: str = "change anything") -> None:
    """Refuse viewers (read-only) any change or run; services call this before writing."""
    # The rule lives in workflows (which cannot import the console) and is shared from there.
    ensure_not_read_only(user, what)


class RolePermissionBackend:
    """Grant the Django permissions of `ROLE_PERMISSIONS` to active users holding the role."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if not getattr(user_obj, "is_active", False) or getattr(user_obj, "node_id", None) is None:
            return False
        return perm in ROLE_PERMISSIONS.get(getattr(user_obj, "role", ""), frozenset())
