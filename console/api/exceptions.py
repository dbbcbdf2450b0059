"""One error shape for the whole API: `{"detail": <message>, "code": <machine code>}`.

Field validation errors keep their per-field messages under `errors` and are summarised in
`detail`, so clients can show one line and still highlight fields.

Statuses: 400 invalid input (DRF's or Django's `ValidationError`, raised by the services;
malformed or too deeply nested JSON; a pipeline refused by validation, with its `problems`),
401 no or bad credentials (session and token clients alike), 403 not allowed (`not_editor`: a
pipeline only its creator and editors change; `not_approver`: a disclosure decision by a user
who does not decide for that party), 404 unknown or not visible, 405 wrong method,
409 a change to an archived (read-only) project, or a run waiting for the approval of its
disclosure plan (`approval_required` / `approval_rejected`, with `approvals`), or a decision
an approval already has (`already_decided`), 413 a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, 429 too many failed sign-ins or bad tokens (with the wait), and
500 (logged) for anything unexpected.

This is the one place where exceptions become responses: views and services raise (Django's,
DRF's or workflows' exceptions) and never build error bodies themselves.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler, set_rollback

from workflows import ownership
from workflows import services as workflow_services
from workflows.disclosure import consent
from workflows.disclosure.consent import ConsentMissing
from workflows.downloads import UnencodableCSV

logger = logging.getLogger(__name__)

# Service errors with this code answer 409 Conflict (see console.projects.services).
CONFLICT_CODES = frozenset({"project_archived"})


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"The request body is larger than the limit of {limit:,} bytes.")


class NotEditor(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_editor"


class ApprovalNeeded(exceptions.APIException):
    """409: the parties whose approval of the disclosure plan a run waits for (or who
    rejected it); `approvals` lists them."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, missing: ConsentMissing, request) -> None:
        from workflows.api.disclosure import ApprovalSerializer

        code = "approval_rejected" if missing.rejected else "approval_required"
        super().__init__(str(missing).capitalize() + ".", code)
        context = {"request": request}
        self.approvals = ApprovalSerializer(missing.approvals, many=True, context=context).data


class NodesDown(exceptions.APIException):
    """A run across nodes that could not start; `nodes` names each node and why."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "nodes_unavailable"

    def __init__(self, unavailable) -> None:
        super().__init__(str(unavailable))  # worded in the reader's language
        self.nodes = {node: str(reason) for node, reason in unavailable.reasons.items()}


class InvalidPipeline(exceptions.APIException):
    """A run refused by validation; `problems` lists each one, naming its node."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_pipeline"

    def __init__(self, refused: workflow_services.RunRefused) -> None:
        super().__init__(str(refused))
        self.problems = [problem.to_dict() for problem in refused.problems]


def _first_message(data) -> str:
    if isinstance(data, dict):
        for field, value in data.items():
            message = _first_message(value)
            return message if field in {"non_field_errors", "detail"} else f"{field}: {message}"
        return "Invalid input."
    if isinstance(data, list):
        return _first_message(data[0]) if data else "Invalid input."
    return str(data)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    while isinstance(codes, dict | list):
        if not codes:
            return exc.default_code
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _from_workflows(exc: Exception, request) -> Exception:
    """Translate the pipeline services' own exceptions into DRF's."""
    if isinstance(exc, ownership.NotEditor):
        return NotEditor(str(exc))
    if isinstance(exc, ConsentMissing):
        return ApprovalNeeded(exc, request)
    if isinstance(exc, workflow_services.ProjectArchived):
        return Conflict(str(exc), "project_archived")
    if isinstance(exc, workflow_services.RunRefused):
        return InvalidPipeline(exc)
    if isinstance(exc, consent.NotApprover):
        return exceptions.PermissionDenied(str(exc), "not_approver")
    if isinstance(exc, consent.AlreadyDecided):
        return Conflict(str(exc), "already_decided")
    from console.federation.initiate import NodesUnavailable

    if isinstance(exc, NodesUnavailable):
        return NodesDown(exc)
    if isinstance(exc, UnencodableCSV):
        return exceptions.ValidationError({"encoding": [str(exc)]})
    return exc


def _from_django(exc: Exception) -> Exception:
    """Translate Django's exceptions (raised by services and access helpers) into DRF's."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ValidationError(str(exc), "too_many_fields")
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        validation = exceptions.ValidationError(as_serializer_error(exc))
        code = _code_of(validation)
        if code in CONFLICT_CODES:
            return Conflict(_first_message(validation.detail), code)
        return validation
    return exc


def api_exception_handler(exc, context):
    exc = _from_django(_from_workflows(exc, context.get("request")))
    response = exception_handler(exc, context)
    if response is None:
        # A bug, not a client error: keep the traceback in the log, answer in the API's shape.
        logger.error("Unhandled API error", exc_info=(type(exc), exc, exc.__traceback__))
        set_rollback()
        return Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        body = {"detail": _first_message(exc.detail), "code": _code_of(exc), "errors": exc.detail}
    else:
        body = {"detail": _first_message(exc.detail), "code": _code_of(exc)}
    if isinstance(exc, InvalidPipeline):
        body["problems"] = exc.problems
    if isinstance(exc, ApprovalNeeded):
        body["approvals"] = exc.approvals
    if isinstance(exc, NodesDown):
        body["nodes"] = exc.nodes
    headers = dict(response.items())
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # DRF answers 403 when the first authenticator (session) offers no challenge; the
        # client is unauthenticated: say so, and offer the token scheme. (A CSRF failure stays
        # a 403: the client is known, the request is refused.)
        response.status_code = status.HTTP_401_UNAUTHORIZED
        headers["WWW-Authenticate"] = 'Token realm="api"'
    return Response(body, status=response.status_code, headers=headers)
