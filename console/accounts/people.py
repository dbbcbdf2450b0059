"""Managing a node's people: create, set role, (de)activate, reset password. Every change audited.

Who manages whom: a node admin manages the approvers, analysts and viewers of their own node;
a platform admin manages every non-superuser, node admins included, and creates a node's first
admin. Nobody changes their own role or deactivates themselves (a node cannot lose its last
admin by accident). Users that an actor may not manage answer 404, as if they did not exist.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from console.accounts.login_sessions import end_all_sessions
from console.accounts.models import User
from console.accounts.twofactor import remove_factors
from console.audit.log import Action, actor_of, record
from console.nodes.models import Node

ROLES = tuple(User.Role.values)


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def may_manage_people(actor) -> bool:
    return bool(actor.is_authenticated and (actor.is_superuser or actor.is_node_admin))


def people_for(actor):
    """The users `actor` may see in the people pages: all (platform admin) or their node's."""
    if not may_manage_people(actor):
        raise PermissionDenied(_("Only node admins and platform admins manage users."))
    users = User.objects.select_related("node").order_by("node__name", "username")
    return users if actor.is_superuser else users.filter(node_id=actor.node_id)


def get_person(request, pk) -> User:
    """A user the requester may see; 404 otherwise."""
    if not str(pk).isdigit():
        raise Http404(_("No such user."))
    person = people_for(request.user).filter(pk=int(pk)).first()
    if person is None:
        raise Http404(_("No such user."))
    return person


def ensure_may_manage(actor, person: User) -> None:
    if actor.pk == person.pk:
        raise PermissionDenied(_("You cannot change your own role or account state here."))
    if person.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins manage platform admins."))
    if person.is_node_admin and not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins manage node admins."))


def _clean_role(actor, role) -> str:
    if role not in ROLES:
        raise _field_error(
            "role", f"Unknown role {role!r}; roles are {', '.join(ROLES)}.", "invalid_choice"
        )
    if role == User.Role.NODE_ADMIN and not actor.is_superuser:
        raise PermissionDenied(_("Only platform admins appoint node admins."))
    return role


def _target_node(actor, node) -> Node:
    if not actor.is_superuser:
        named = node.name if isinstance(node, Node) else str(node or "")
        if named and named != actor.node.name:
            raise PermissionDenied(_("Node admins create users of their own node only."))
        return actor.node
    if not isinstance(node, Node):
        node = Node.objects.filter(name=str(node or "")).first()
    if node is None:
        raise _field_error("node", _("Choose the node the user acts for."), "required")
    return node


def _clean_username(username) -> str:
    username = str(username or "").strip()
    if not username:
        raise _field_error("username", _("A user needs a username."), "required")
    if len(username) > 150:
        raise _field_error("username", _("A username has at most 150 characters."), "max_length")
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise _field_error("username", error.messages[0], "invalid") from error
    if User.objects.filter(username__iexact=username).exists():
        message = _("A user named '%(username)s' already exists.") % {"username": username}
        raise _field_error("username", message, "unique")
    return username


def _clean_password(password, user: User | None = None) -> tuple[str, bool]:
    """The given password checked by the validators, or a generated one (True: generated)."""
    if not password:
        return secrets.token_urlsafe(12), True
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise _field_error("password", " ".join(error.messages), "weak_password") from error
    return password, False


def create_person(request, *, username, role, node=None, email="", password="") -> tuple[User, str]:
    """Create a user; return it and the initial password if one was generated (else "")."""
    actor = request.user
    if not may_manage_people(actor):
        raise PermissionDenied(_("Only node admins and platform admins create users."))
    username, role = _clean_username(username), _clean_role(actor, role)
    target_node = _target_node(actor, node)
    candidate = User(username=username, email=str(email or "")[:254], node=target_node)
    password, generated = _clean_password(password, candidate)
    with transaction.atomic():
        person = User.objects.create_user(
            username=username, password=password, email=candidate.email, node=target_node, role=role
        )
        record(actor_of(request), Action.USER_CREATE, target=person, node=target_node, role=role)
    return person, password if generated else ""


def update_person(request, person: User, *, role=None, is_active=None) -> User:
    """Change a user's role and/or active state; deactivation signs them out everywhere."""
    actor = request.user
    ensure_may_manage(actor, person)
    changes = {}
    if role is not None and role != person.role:
        changes["role"] = [person.role, _clean_role(actor, role)]
    if is_active is not None and bool(is_active) != person.is_active:
        changes["is_active"] = [person.is_active, bool(is_active)]
    if not changes:
        message = _("Nothing to change: give a new role or active state.")
        raise _field_error("detail", message, "noop")
    with transaction.atomic():
        for field, (_old, new) in changes.items():
            setattr(person, field, new)
        person.save(update_fields=list(changes))
        record(
            actor_of(request), Action.USER_UPDATE, target=person, node=person.node, changes=changes
        )
    if not person.is_active:
        end_all_sessions(person)
    return person


def reset_two_factor(request, person: User) -> None:
    """Remove a user's authenticator apps, passkeys and recovery codes (a lost phone); they sign
    in with the password alone, or enrol again at once if their node requires a factor."""
    ensure_may_manage(request.user, person)
    with transaction.atomic():
        removed = remove_factors(person)
        record(
            actor_of(request),
            Action.TWO_FACTOR_DISABLE,
            target=person,
            node=person.node,
            by="admin",
        )
    if not removed:
        message = _("%(username)s has no second factor.") % {"username": person.username}
        raise _field_error("detail", message, "noop")


def reset_password(request, person: User, password: str = "") -> str:
    """Set a new password (generated when none is given), sign the user out; return it if new."""
    ensure_may_manage(request.user, person)
    password, generated = _clean_password(password, person)
    with transaction.atomic():
        person.set_password(password)
        person.save(update_fields=["password"])
        record(actor_of(request), Action.PASSWORD_RESET, target=person, node=person.node)
    end_all_sessions(person)
    return password if generated else ""
