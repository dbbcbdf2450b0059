"""Every API error is {"detail", "code"} with the right status: the handler and real requests."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.test import Client
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from console.api.exceptions import api_exception_handler
from console.projects.models import Project
from tests.console.api.helpers import assert_error


def handle(exc):
    request = APIRequestFactory().get("/api/v1/")
    response = api_exception_handler(exc, {"request": request, "view": None})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (Http404("No such project."), 404, {"detail": "No such project.", "code": "not_found"}),
        (Http404(), 404, {"detail": "Not found.", "code": "not_found"}),
        (PermissionDenied("Nope."), 403, {"detail": "Nope.", "code": "permission_denied"}),
        (
            exceptions.MethodNotAllowed("PUT"),
            405,
            {"detail": 'Method "PUT" not allowed.', "code": "method_not_allowed"},
        ),
        (
            exceptions.NotAuthenticated(),
            401,
            {
                "detail": "Authentication credentials were not provided.",
                "code": "not_authenticated",
            },
        ),
        (
            DjangoValidationError("Archived.", code="project_archived"),
            409,
            {"detail": "Archived.", "code": "project_archived"},
        ),
        (RuntimeError("boom"), 500, {"detail": "Internal server error.", "code": "server_error"}),
    ],
)
def test_the_handler_maps_exceptions(exc, status, body):
    assert handle(exc) == (status, body)


def test_the_handler_summarises_field_errors():
    status, body = handle(exceptions.ValidationError({"name": ["This field is required."]}))
    assert status == 400
    assert body["detail"] == "name: This field is required."
    assert body["code"] == "invalid"
    assert body["errors"] == {"name": ["This field is required."]}


def test_the_handler_keeps_django_validation_codes():
    error = DjangoValidationError({"node": DjangoValidationError("Unknown.", code="unknown_node")})
    status, body = handle(error)
    assert (status, body["detail"], body["code"]) == (400, "node: Unknown.", "unknown_node")


def test_the_handler_reads_non_field_errors_plainly():
    status, body = handle(DjangoValidationError("Plain message."))
    assert (status, body["detail"], body["code"]) == (400, "Plain message.", "invalid")


def test_it_answers_400_in_shape(api_alice):
    assert_error(api_alice.post("/api/v1/projects/", {}, format="json"), 400, "required")


def test_it_answers_400_to_malformed_json(api_alice):
    response = api_alice.post(
        "/api/v1/projects/", data="{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_it_answers_401_to_anonymous_session_clients(anon_client):
    response = anon_client.get("/api/v1/projects/")
    assert_error(response, 401, "not_authenticated")
    assert "Token" in response["WWW-Authenticate"]


def test_it_answers_403_in_shape(api_alice):
    assert_error(api_alice.post("/api/v1/nodes/", {"name": "x"}, format="json"), 403)


def test_it_answers_403_not_401_to_a_csrf_failure(alice_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_user)
    body = assert_error(client.post("/api/v1/projects/", {"name": "x"}), 403, "permission_denied")
    assert "CSRF" in body["detail"]
    assert not Project.objects.exists()


def test_a_session_client_with_csrf_token_may_write(alice_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_user)
    token = "a" * 32  # the cookie the login page would have set, echoed in the header
    client.cookies["csrftoken"] = token
    response = client.post("/api/v1/projects/", {"name": "x"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.json()


def test_it_answers_404_in_shape(api_alice):
    assert_error(api_alice.get("/api/v1/projects/0/"), 404, "not_found")


def test_it_answers_unknown_endpoints_with_a_json_404(api_alice, anon_client):
    body = assert_error(api_alice.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert "/api/v1/no-such-thing/" in body["detail"]
    assert_error(anon_client.post("/api/v1/projects/1/nope/"), 404, "not_found")


def test_it_answers_405_in_shape(api_alice):
    assert_error(api_alice.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_it_answers_409_in_shape(api_alice, project):
    project.status = Project.Status.ARCHIVED
    project.save()
    url = f"/api/v1/projects/{project.pk}/"
    assert_error(api_alice.patch(url, {"name": "x"}, format="json"), 409, "project_archived")
