"""Schemathesis over the OpenAPI schema, as a node admin, a plain member and an outsider.

Every operation gets a bounded number of generated requests per user (`EXAMPLES`), sent to the
console through WSGI in-process with a real API token. Every response must be a non-5xx whose
status the schema documents and whose body conforms to the documented schema.
The whole module stays within about a minute on two cores.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.console.accounts.conftest import token_for
from tests.console.api.helpers import authorize, make_dataset

# WSGI closes the database connection after each request: transactional tests reconnect.
pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Revoking the fuzzer's own token or session would turn every later request into a failed
# sign-in (and, after ten, a lockout): those two operations are tested in tests/console/accounts.
SELF_REVOKING = {"DELETE /api/v1/tokens/{id}/", "DELETE /api/v1/sessions/{id}/"}


@pytest.fixture(scope="module")
def operations():
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    schema = schemathesis.openapi.from_dict(json.loads(out.getvalue()))
    found = [result.ok() for result in schema.get_all_operations()]
    return [operation for operation in found if operation.label not in SELF_REVOKING]


@pytest.fixture
def world(alice, bob, carol, project, alice_user, alice_member_user, carol_user):
    """alice (admin and member) with a dataset shared to the project; carol an outsider."""
    authorize(make_dataset(alice), project, alice_user)
    make_dataset(carol, name="claims")
    return {"admin": alice_user, "member": alice_member_user, "outsider": carol_user}


@pytest.mark.parametrize("role", ["admin", "member", "outsider"])
def test_no_operation_answers_5xx_or_off_schema(operations, world, role, storage):
    app = get_wsgi_application()
    headers = {"Authorization": f"Token {token_for(world[role])}"}
    failures = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(app=app, headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as failure:  # noqa: BLE001 - every operation is reported, not the first
            failures.append(f"{operation.label}: {str(failure)[:600]}")
    assert failures == [], "\n\n".join(failures)
