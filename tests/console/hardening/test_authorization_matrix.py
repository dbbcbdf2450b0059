"""The authorisation matrix, generated from the URL conf: every route x (owner, other member,
outsider, anonymous, viewer) answers as `RULES` says (the viewer's column is derived from it:
see `VIEWER_GET` and `VIEWER_UNSAFE`).

A route added to the URL conf without a rule here fails `test_every_route_has_a_rule`: whoever
adds a route decides, and writes down, who may use it. Each route is requested with GET by each
role; routes that change things are also sent their unsafe method by every role but the owner,
who must all be refused (the owner's side is tested with each feature; the owner is named too
where it may not either, e.g. pairing, which is for platform admins).

Roles: the owner is alice's node admin (alice owns the project, the dataset, the pipeline and
the run's artifacts), the member is bob's admin (bob's node is in alice's project, the dataset
is authorised to it), the outsider is carol's admin (no shared project), and anonymous.
Where the answer depends on the user's role rather than on the objects (own-account pages,
people, pairing), a rule's method list may also name two extra roles: the analyst (alice's
node, not an admin) and platform (a platform admin); "get" there checks those roles' GET.
Own-account routes are requested with the owner's session, token and a passkey of another
alice user: everybody gets their own page, and nobody reaches another user's things.
Outcomes: ok (2xx), redirect (3xx elsewhere), login (401, or a redirect to the login page),
hidden (404: as if it did not exist), forbidden (403: a party that sees the object but may not
do this), method (405), invalid (400: allowed, and the empty body refused).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from console.accounts.models import LoginSession, Passkey, User
from console.accounts.services import create_token
from console.nodes.models import PeerRoute
from tests.console.conftest import make_user
from tests.workflows.runs import run_now
from workflows.actors import Actor
from workflows.models import Artifact, Status

OPERATOR = Actor.system("tests")  # an operator on the server, like the command

pytestmark = pytest.mark.django_db(transaction=True)
ROLES = ("owner", "member", "outsider", "anonymous")
OK, REDIRECT, LOGIN, HIDDEN, FORBIDDEN, METHOD, INVALID = (
    "ok",
    "redirect",
    "login",
    "hidden",
    "forbidden",
    "method",
    "invalid",
)
PUBLIC_PAGE = (OK, OK, OK, LOGIN)  # any signed-in user with a node
OWNER_MEMBER = (OK, OK, HIDDEN, LOGIN)
OWNER_ONLY = (OK, HIDDEN, HIDDEN, LOGIN)
POST_ONLY = (METHOD, METHOD, METHOD, LOGIN)
REFUSED = {"member": HIDDEN, "outsider": HIDDEN, "anonymous": LOGIN}
NOT_THE_OWNER = {"member": FORBIDDEN, "outsider": HIDDEN, "anonymous": LOGIN}
# Extra roles, named only in a rule's method list: alice's analyst (not an admin) and a
# platform admin, for routes whose answer depends on the user's role, not on the objects.
ANALYST_TOO = {"analyst": OK}
NOT_YOURS = {"member": HIDDEN, "outsider": HIDDEN, "analyst": HIDDEN, "anonymous": LOGIN}
PEOPLE_ADMINS = {"analyst": FORBIDDEN, "platform": OK}
NOT_THEIR_PERSON = {"member": HIDDEN, "outsider": HIDDEN, "analyst": FORBIDDEN, "anonymous": LOGIN}
ADMINS = ("owner", "member", "outsider", "analyst")
PLATFORM_ONLY = {**dict.fromkeys(ADMINS, FORBIDDEN), "anonymous": LOGIN}
NO_PENDING_SIGN_IN = dict.fromkeys(("owner", "member", "anonymous"), FORBIDDEN)

# route name -> GET outcome per role (owner, member, outsider, anonymous), then optionally
# (method, {role: outcome}) checks: the unsafe method every role but the owner must be refused,
# or "get" for the extra roles ("analyst": alice's analyst; "platform": a platform admin).
RULES: dict[str, tuple] = {
    "pages:dashboard": (PUBLIC_PAGE,),
    "accounts:login": ((REDIRECT, REDIRECT, REDIRECT, OK),),
    "accounts:reauth": (PUBLIC_PAGE,),
    "accounts:logout": ((METHOD, METHOD, METHOD, METHOD),),
    "nodes:list": (PUBLIC_PAGE,),
    "projects:list": (PUBLIC_PAGE,),
    "projects:create": (PUBLIC_PAGE,),
    "projects:detail": (OWNER_MEMBER,),
    "projects:edit": ((OK, HIDDEN, HIDDEN, LOGIN), ("post", REFUSED)),
    "projects:add_member": (POST_ONLY, ("post", REFUSED)),
    "projects:remove_member": (POST_ONLY, ("post", REFUSED)),
    "projects:archive": (POST_ONLY, ("post", REFUSED)),
    "datasets:list": (PUBLIC_PAGE,),
    "datasets:upload": (PUBLIC_PAGE,),
    "datasets:detail": (OWNER_MEMBER,),
    "datasets:preview": (OWNER_ONLY,),
    "datasets:authorize": (POST_ONLY, ("post", REFUSED)),
    "datasets:delete": (OWNER_ONLY, ("post", REFUSED)),
    "datasets:revoke": (OWNER_ONLY, ("post", REFUSED)),
    "audit:list": (PUBLIC_PAGE,),  # every role here is a node admin: his node's events
    "pipelines:create": (OWNER_MEMBER,),
    "pipelines:canvas": (OWNER_MEMBER,),
    "pipelines:run": (OWNER_MEMBER,),
    "api-me": (PUBLIC_PAGE,),
    "api-nodes": (PUBLIC_PAGE,),
    "api-node": (
        PUBLIC_PAGE,
        ("patch", {"member": FORBIDDEN, "outsider": FORBIDDEN, "anonymous": LOGIN}),
    ),
    "api-projects": (PUBLIC_PAGE,),
    "api-project": (OWNER_MEMBER, ("patch", NOT_THE_OWNER)),
    "api-project-members": (OWNER_MEMBER, ("post", NOT_THE_OWNER)),
    "api-project-member": (OWNER_MEMBER, ("delete", NOT_THE_OWNER)),
    "api-datasets": (PUBLIC_PAGE,),
    "api-dataset": (OWNER_MEMBER, ("delete", REFUSED)),
    "api-dataset-preview": (OWNER_ONLY,),
    "api-authorizations": (PUBLIC_PAGE,),
    "api-authorization": (OWNER_MEMBER,),
    "api-authorization-revoke": (POST_ONLY, ("post", REFUSED)),
    "api-audit": (PUBLIC_PAGE,),
    "workflows-api:components": (PUBLIC_PAGE,),
    "workflows-api:pipeline-templates": (PUBLIC_PAGE,),
    "workflows-api:pipelines": (PUBLIC_PAGE,),
    "workflows-api:pipeline-import": (POST_ONLY,),
    "workflows-api:pipeline": (OWNER_MEMBER, ("delete", {"outsider": HIDDEN, "anonymous": LOGIN})),
    "workflows-api:pipeline-export": (OWNER_MEMBER,),
    "workflows-api:pipeline-validate": (
        POST_ONLY,
        ("post", {"outsider": HIDDEN, "anonymous": LOGIN}),
    ),
    "workflows-api:pipeline-runs": (
        OWNER_MEMBER,
        ("post", {"outsider": HIDDEN, "anonymous": LOGIN}),
    ),
    "workflows-api:run": (OWNER_MEMBER,),
    "workflows-api:run-node": (OWNER_MEMBER,),
    "workflows-api:run-cancel": (POST_ONLY, ("post", {"outsider": HIDDEN, "anonymous": LOGIN})),
    "workflows-api:run-report": (OWNER_MEMBER,),
    "workflows-api:artifact": (OWNER_ONLY,),
    "workflows-api:artifact-download": (OWNER_ONLY,),
    # The owner's artifact here is a table, not a model: nobody gets a model zip of it.
    "workflows-api:artifact-model": ((HIDDEN, HIDDEN, HIDDEN, LOGIN),),
    "api-not-found": ((HIDDEN, HIDDEN, HIDDEN, HIDDEN),),
    "api-authorization-policy": (OWNER_MEMBER,),
    "api-authorization-versions": (POST_ONLY, ("post", REFUSED)),
    "api-dataset-role-suggestions": (OWNER_ONLY,),
    "datasets:edit_roles": (OWNER_ONLY,),
    "datasets:policy": (POST_ONLY, ("post", REFUSED)),
    "pipelines:editors": (OWNER_MEMBER,),
    "workflows-api:pipeline-editors": (OWNER_MEMBER,),
    "workflows-api:run-ledger": (OWNER_MEMBER,),
    "runs:list": (PUBLIC_PAGE,),
    "workflows-api:runs": (PUBLIC_PAGE,),
    "approvals:list": (PUBLIC_PAGE,),
    "workflows-api:approvals": (PUBLIC_PAGE,),
    # This world's run needed no approval: an approval id nobody has.
    "approvals:detail": ((HIDDEN, HIDDEN, HIDDEN, LOGIN),),
    "workflows-api:approval": ((HIDDEN, HIDDEN, HIDDEN, LOGIN),),
    "api-schema": (PUBLIC_PAGE,),
    "api-docs": (PUBLIC_PAGE,),
    # The language switcher (POST only) and the browser modules' translation catalogue serve
    # everybody, signed in or not: the login page has both.
    "accounts:set_language": ((METHOD,) * 4,),
    "javascript-catalog": ((OK,) * 4,),
    # The former single-token page sends everybody on to the token list.
    "accounts:token": ((REDIRECT, REDIRECT, REDIRECT, REDIRECT),),
    # Sign-in steps after the password: without a pending sign-in, back to the password step.
    "accounts:login-code": ((LOGIN, LOGIN, LOGIN, LOGIN),),
    "accounts:login-passkey": ((METHOD,) * 4, ("post", NO_PENDING_SIGN_IN)),
    "accounts:login-passkey-options": ((METHOD,) * 4, ("post", NO_PENDING_SIGN_IN)),
    # My own account: every signed-in user, an analyst too, gets their own.
    "accounts:account": (PUBLIC_PAGE, ("get", ANALYST_TOO)),
    "accounts:tokens": (PUBLIC_PAGE, ("get", ANALYST_TOO)),
    "accounts:two-factor": (PUBLIC_PAGE, ("get", ANALYST_TOO)),
    "accounts:passkey-options": (POST_ONLY, ("post", {"analyst": OK, "anonymous": LOGIN})),
    "accounts:passkey-register": (POST_ONLY, ("post", {"analyst": INVALID, "anonymous": LOGIN})),
    # ... and nobody else's: the session, token and passkey here are not theirs.
    "accounts:session-revoke": (POST_ONLY, ("post", NOT_YOURS)),
    "accounts:token-revoke": (POST_ONLY, ("post", NOT_YOURS)),
    "accounts:passkey-remove": (POST_ONLY, ("post", {"owner": HIDDEN, **NOT_YOURS})),
    "api-tokens": (PUBLIC_PAGE, ("get", ANALYST_TOO)),
    "api-sessions": (PUBLIC_PAGE, ("get", ANALYST_TOO)),
    "api-token": (POST_ONLY, ("delete", NOT_YOURS)),
    "api-session": (POST_ONLY, ("delete", NOT_YOURS)),
    # People: node admins (their node's users) and platform admins; the person is alice's
    # analyst, whom bob's and carol's admins do not see.
    "accounts:people": (PUBLIC_PAGE, ("get", PEOPLE_ADMINS), ("post", {"analyst": FORBIDDEN})),
    "accounts:person": (OWNER_ONLY, ("get", PEOPLE_ADMINS), ("post", NOT_THEIR_PERSON)),
    "accounts:node-two-factor": (
        POST_ONLY,
        ("post", {"analyst": FORBIDDEN, "platform": FORBIDDEN}),
    ),
    "api-users": (PUBLIC_PAGE, ("get", PEOPLE_ADMINS), ("post", {"analyst": FORBIDDEN})),
    "api-user": (OWNER_ONLY, ("get", PEOPLE_ADMINS), ("patch", NOT_THEIR_PERSON)),
    "api-user-reset-password": (POST_ONLY, ("post", NOT_THEIR_PERSON)),
    # Pairing and routes: platform admins only (every role above is a node admin). Reading
    # routes is for any signed-in user, like the nodes page; this installation has no identity.
    "nodes:invite": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:accept": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:revoke-invitation": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:route-health": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:route-switch": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "api-invitations": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "api-routes": (PUBLIC_PAGE, ("post", PLATFORM_ONLY)),
    "api-route": (PUBLIC_PAGE, ("get", ANALYST_TOO), ("patch", PLATFORM_ONLY)),
    "api-route-health": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:rotate-certificate": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "nodes:notify-rotation": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "api-node-identity-rotate": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "api-route-notify-rotation": (POST_ONLY, ("post", PLATFORM_ONLY)),
    "api-node-identity": ((HIDDEN, HIDDEN, HIDDEN, LOGIN),),
    # Shared projects (network mode): the owner node invites and proposes removals; a node's
    # admins vote on the ballots it received (none exists in this world: hidden for all).
    "federation:invite": (POST_ONLY, ("post", REFUSED)),
    "federation:propose_removal": (POST_ONLY, ("post", REFUSED)),
    "federation:decide": (POST_ONLY, ("post", REFUSED)),
    "api-project-invitations": (OWNER_MEMBER, ("post", NOT_THE_OWNER)),
    "api-project-removals": (POST_ONLY, ("post", NOT_THE_OWNER)),
    "api-project-remote-datasets": (OWNER_MEMBER,),
    "api-ballots": (PUBLIC_PAGE,),
    "api-ballot-decision": (POST_ONLY, ("post", REFUSED)),
    # SEMI2K's dealer node: the owner node proposes the project's source of Beaver triples
    # (members read it); a dealer node's users read the runs it served, each its own node's.
    "federation:choose_dealer": (POST_ONLY, ("post", REFUSED)),
    "api-project-triple-source": (OWNER_MEMBER, ("put", NOT_THE_OWNER)),
    "federation:dealer_services": (PUBLIC_PAGE,),
    "api-dealer-services": (PUBLIC_PAGE,),
}


def routes() -> dict[str, str]:
    """Route name -> path pattern, for every route of the URL conf but Django's admin."""

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = namespace + pattern.name if pattern.name else "api-not-found"
                yield name, prefix + str(pattern.pattern)

    return {
        name: path
        for name, path in walk(get_resolver().url_patterns, "/", "")
        if not path.startswith("/admin/")
    }


def test_every_route_has_a_rule():
    missing = sorted(set(routes()) - set(RULES))
    assert missing == [], f"routes without an authorisation rule: {missing}"
    assert sorted(set(RULES) - set(routes())) == []


@pytest.fixture
def world(
    credit_pipeline,
    credit,
    project,
    bob,
    alice_user,
    alice_member_user,
    bob_user,
    carol_user,
    platform_admin,
):
    run = run_now(credit_pipeline)
    assert run.status == Status.SUCCEEDED, run.message
    artifact = Artifact.objects.filter(node_run__run=run, owner_node=alice_user.node).first()
    authorization = credit.authorizations.get()
    values = {
        "pk": None,  # per route, below
        "project": project.pk,
        "node_id": bob.pk,
        "node_name": bob.name,
        "name": "alice",
        "node": "read",
        "public_id": "no-such-invitation",
    }
    objects = {
        "projects": project.pk,
        "pipelines/new": project.pk,
        "datasets/authorizations": authorization.pk,
        "authorizations": authorization.pk,
        "datasets": credit.pk,
        "pipelines/runs": run.pk,
        "pipelines": credit_pipeline.pk,
        "runs": run.pk,
        "artifacts": artifact.pk,
        "approvals": 999_999,
        "federation/projects": project.pk,
        "federation/ballots": 999_999,
        "ballots": 999_999,
    }
    clients = {"anonymous": Client()}
    signed_in = (
        ("owner", alice_user),
        ("member", bob_user),
        ("outsider", carol_user),
        ("analyst", alice_member_user),
        ("platform", platform_admin),
    )
    for role, user in signed_in:
        clients[role] = Client()
        clients[role].force_login(user)
    # The owner's own things: the other roles must not reach them by their ids.
    token, _key = create_token(OPERATOR, alice_user, name="matrix")
    # A passkey of a user who signs in nowhere here (a device would make its owner's
    # password-only session unverified).
    passkey = Passkey.objects.create(
        user=make_user("alice_keyholder", alice_user.node, role=User.Role.ANALYST),
        name="matrix key",
        credential_id="matrix",
        public_key=b"\\x00",
    )
    # A route named like the world's node, so that reading it is tested on something real.
    PeerRoute.objects.create(
        node=alice_user.node,
        address="alice.example:9443",
        fingerprint="0" * 64,
        certificate="(pinned certificate)",
        certificate_expires_at=timezone.now() + timedelta(days=30),
        origin=PeerRoute.Origin.INVITED,
    )
    objects.update(
        {
            "accounts/sessions": LoginSession.objects.filter(user=alice_user).get().pk,
            "sessions": LoginSession.objects.filter(user=alice_user).get().pk,
            "accounts/tokens": token.pk,
            "tokens": token.pk,
            "accounts/passkeys": passkey.pk,
            "accounts/people": alice_member_user.pk,
            "users": alice_member_user.pk,
        }
    )
    return {"values": values, "objects": objects, "clients": clients}


def concrete(path: str, world) -> str:
    """The route's path with its parameters filled in from the world."""
    import re

    if "^(?P<path>" in path:
        return path.split("^")[0] + "no/such/endpoint/"
    stem = path.removeprefix("/").removeprefix("api/v1/").split("/<")[0]
    values = dict(world["values"])
    values["pk"] = world["objects"].get(stem)
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)


def outcome(response) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status == 401 or (status == 302 and location.startswith("/accounts/login/")):
        return LOGIN
    named = {400: INVALID, 404: HIDDEN, 403: FORBIDDEN, 405: METHOD}
    return named.get(status, OK if status < 300 else REDIRECT)


def test_every_route_answers_each_role_as_its_rule_says(world):
    mismatches = []
    for name, path in sorted(routes().items()):
        url = concrete(path, world)
        expected_get, *unsafe = RULES[name]
        for role, expected in zip(ROLES, expected_get, strict=True):
            got = outcome(world["clients"][role].get(url))
            if got != expected:
                mismatches.append(f"GET {url} as {role}: {got}, expected {expected}")
        for method, refusals in unsafe:
            for role, expected in refusals.items():
                send = getattr(world["clients"][role], method)
                got = outcome(send(url, content_type="application/json"))
                if got != expected:
                    mismatches.append(
                        f"{method.upper()} {url} as {role}: {got}, expected {expected}"
                    )
    assert mismatches == [], "\n".join(mismatches)


# The viewer: a read-only user of alice's node (the owner's). Reading, the viewer gets what the
# analyst's rule says where one is given, else what the owner gets, but for the routes below
# (pages that create or administer something). Every unsafe method of `RULES` is refused
# (403) but where `VIEWER_UNSAFE` says how else it ends; whatever the answer, nothing changes.
VIEWER_GET = {
    "audit:list": HIDDEN,  # the audit log is for node admins
    "api-audit": FORBIDDEN,
    "api-user-reset-password": FORBIDDEN,  # people: node admins only, before the method
    "pipelines:create": FORBIDDEN,
    "projects:create": REDIRECT,  # to the projects list, which says viewers only read
    "datasets:upload": REDIRECT,
}
VIEWER_UNSAFE = {
    # Own account: the viewer's own things are theirs to manage; these are not theirs.
    "accounts:passkey-options": OK,
    "accounts:passkey-register": INVALID,
    "accounts:session-revoke": HIDDEN,
    "accounts:token-revoke": HIDDEN,
    "accounts:passkey-remove": HIDDEN,
    "api-session": HIDDEN,
    "api-token": HIDDEN,
    "federation:decide": HIDDEN,  # no ballot in this world
    # Forms answered with their errors (the service refuses a viewer once the form is valid).
    "projects:edit": OK,
    "datasets:authorize": INVALID,
    "datasets:policy": REDIRECT,
    "federation:invite": REDIRECT,
    "federation:propose_removal": REDIRECT,
    "federation:choose_dealer": REDIRECT,
    "projects:add_member": REDIRECT,
    "workflows-api:pipeline-validate": OK,  # validation changes nothing (read level)
}


def snapshot() -> dict:
    """What a change by the viewer would show in: every row of the objects of the world."""
    from console.datasets.models import Authorization, Dataset
    from console.projects.models import Project, ProjectMember
    from workflows.models import Approval, Pipeline, Run

    models = (Project, ProjectMember, Dataset, Authorization, Pipeline, Run, Approval, Artifact)
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    state["users"] = list(User.objects.order_by("pk").values("username", "role", "is_active"))
    state["tokens"] = list(ApiTokenRows())
    return state


def ApiTokenRows():  # noqa: N802 - reads like the other model names above
    from console.accounts.models import ApiToken

    return ApiToken.objects.order_by("pk").values("pk", "revoked_at", "scope")


def test_a_viewer_reads_as_the_rules_say_and_changes_nothing(world, alice_user):
    viewer = Client()
    viewer.force_login(make_user("alice_viewer", alice_user.node, role=User.Role.VIEWER))
    before, mismatches = snapshot(), []
    for name, path in sorted(routes().items()):
        url = concrete(path, world)
        owner_get, *unsafe = RULES[name]
        extra = dict(unsafe)
        expected = VIEWER_GET.get(name, extra.get("get", {}).get("analyst", owner_get[0]))
        got = outcome(viewer.get(url))
        if got != expected:
            mismatches.append(f"GET {url} as viewer: {got}, expected {expected}")
        for method in extra.keys() - {"get"}:
            got = outcome(getattr(viewer, method)(url, content_type="application/json"))
            expected = VIEWER_UNSAFE.get(name, FORBIDDEN)
            if got != expected:
                mismatches.append(f"{method.upper()} {url} as viewer: {got}, expected {expected}")
    assert mismatches == [], "\n".join(mismatches)
    assert snapshot() == before
