"""The authorisation matrix, generated from the URL conf: every route x (owner, other member,
outsider, anonymous) answers as `RULES` says.

A route added to the URL conf without a rule here fails `test_every_route_has_a_rule`: whoever
adds a route decides, and writes down, who may use it. Each route is requested with GET by each
role; routes that change things are also sent their unsafe method by every role but the owner,
who must all be refused (the owner's side is tested with each feature).

Roles: the owner is alice's node admin (alice owns the project, the dataset, the pipeline and
the run's artifacts), the member is bob's admin (bob's node is in alice's project, the dataset
is authorised to it), the outsider is carol's admin (no shared project), and anonymous.
Outcomes: ok (2xx), redirect (3xx elsewhere), login (401, or a redirect to the login page),
hidden (404: as if it did not exist), forbidden (403: a party that sees the object but may not
do this), method (405), invalid (400: allowed, and the empty body refused).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.workflows.runs import run_now
from workflows.models import Artifact, Status

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

# route name -> GET outcome per role (owner, member, outsider, anonymous),
# and optionally the unsafe method every role but the owner must be refused.
RULES: dict[str, tuple] = {
    "pages:dashboard": (PUBLIC_PAGE,),
    "accounts:login": ((REDIRECT, REDIRECT, REDIRECT, OK),),
    "accounts:reauth": (PUBLIC_PAGE,),
    "accounts:logout": ((METHOD, METHOD, METHOD, METHOD),),
    "accounts:token": (PUBLIC_PAGE,),
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
    "api-tokens": (POST_ONLY,),
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
def world(credit_pipeline, credit, project, bob, alice_user, bob_user, carol_user):
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
    }
    clients = {"anonymous": Client()}
    for role, user in (("owner", alice_user), ("member", bob_user), ("outsider", carol_user)):
        clients[role] = Client()
        clients[role].force_login(user)
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
