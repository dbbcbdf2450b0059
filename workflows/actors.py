"""Who a service acts for: an `Actor`, never an HttpRequest.

Console and workflow services (projects, datasets, nodes and pairing, pipelines, runs,
approvals) take the actor as their first argument, check once what it may do, and write the
audit log in its name (`console.audit.log.record`). Pages and the API build it from their
request (`Actor.from_request`); management commands and node-to-node calls, which have no
request, build it directly. It lives in `workflows` because both layers act for it and
workflows never imports the console.

Who can be an actor, and what each may do:

- **user**: a signed-in user of this node (browser session or API token). May do what their
  role allows on their node (`console.accounts.roles`: viewers read only, analysts change,
  node admins and approvers decide disclosures) and what their node's project memberships
  allow; platform admins (superusers) manage nodes and see every project's metadata. When
  the actor comes from a request it carries the client's address and user agent, and the
  audit log records the address. A command may act as a user too (`Actor.for_user`: the demo
  loader uploads alice's table as alice); it then carries no address.
- **peer**: a paired node calling over the node link (`console.nodes.link`). Nothing a peer
  says about itself is trusted: it is authenticated by the certificate it presents in the
  mutual-TLS handshake, which must be the one pinned in its `PeerRoute` (gRPC verifies the
  chain; the service maps the certificate's fingerprint to the route); the call's envelope
  must name that node as its sender, carry a fresh timestamp and a nonce never seen from that
  certificate (replays are refused), and the route must be enabled. Only then does the link
  give its handlers `Actor.peer(route.node)` (`console.nodes.link.service.peer_actor`). A
  peer acts for its node and nothing more: it has no user and no role here, is never a
  platform admin, and sees what its node's project memberships allow. Services whose effect
  is a user's own act (uploading, creating a project, editing a pipeline, starting a run,
  deciding a disclosure) refuse it (`require_user`).
- **system**: this installation's own code with no one behind it: a management command such
  as `manage.py node` or `create_api_token`. Whoever runs `manage.py` on the host already holds
  the database and the keys, so it may do anything a platform admin may; it is audited under
  its name (e.g. "manage.py").
- **anonymous**: a request with no signed-in user (a failed sign-in). It may do nothing and
  is only ever audited, with its address.

Access rules read four facts of an actor, named as on the user model so that one rule serves
users and actors alike: `is_authenticated`, `is_superuser` (platform admin), `node_id` (the
node acted for) and `is_read_only`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext


class Kind(StrEnum):
    USER = "user"
    PEER = "peer"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    kind: Kind
    # The user acted for (USER only); the paired node acted for (PEER only). `node` is the
    # node acted for either way.
    user: Any = None
    peer_node: Any = None
    # How the audit log names a system actor ("manage.py"); users and peers are named by
    # their username and node.
    label: str = ""
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def for_user(cls, user, *, ip_address: str | None = None, user_agent: str = "") -> Actor:
        """Act as `user` (a command acting for a user passes no address)."""
        return cls(Kind.USER, user, None, "", ip_address, user_agent)

    @classmethod
    def from_request(cls, request) -> Actor:
        """The request's signed-in user (anonymous if none), with its address and agent."""
        ip_address = request.META.get("REMOTE_ADDR") or None
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return cls(Kind.ANONYMOUS, ip_address=ip_address, user_agent=user_agent)
        return cls.for_user(user, ip_address=ip_address, user_agent=user_agent)

    @classmethod
    def peer(cls, node) -> Actor:
        """A paired node, once the node link has authenticated its call (see the module)."""
        return cls(Kind.PEER, peer_node=node)

    @classmethod
    def system(cls, label: str) -> Actor:
        """This installation's own code (`label` names it in the audit log)."""
        return cls(Kind.SYSTEM, label=label)

    @property
    def is_authenticated(self) -> bool:
        return self.kind != Kind.ANONYMOUS

    @property
    def is_superuser(self) -> bool:
        """A platform admin: a superuser, or the system."""
        return self.kind == Kind.SYSTEM or bool(getattr(self.user, "is_superuser", False))

    @property
    def node(self):
        """The node acted for: the user's, the peer, or None (system, anonymous)."""
        return self.user.node if self.user is not None else self.peer_node

    @property
    def node_id(self) -> int | None:
        if self.user is not None:
            return self.user.node_id
        return getattr(self.peer_node, "pk", None)

    @property
    def is_read_only(self) -> bool:
        return bool(getattr(self.user, "is_read_only", False))

    @property
    def name(self) -> str:
        """How the audit log and messages name the actor."""
        if self.kind == Kind.USER:
            return self.user.get_username()
        if self.kind == Kind.PEER:
            return f"node:{self.node.name}"
        return self.label

    def require_user(self, what: str):
        """The user acted for; PermissionDenied naming `what` for actors that are none."""
        if self.kind != Kind.USER:
            raise PermissionDenied(
                gettext("Only a user of this node may %(what)s; %(actor)s is not one.")
                % {"what": what, "actor": self}
            )
        return self.user

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()
