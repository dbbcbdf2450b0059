"""One error shape for the whole API: `{"detail": <message>, "code": <machine code>}`.

Field validation errors keep their per-field messages under `errors` and are summarised in
`detail`, so clients can show one line and still highlight fields.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


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


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"detail": _first_message(exc.detail), "code": _code_of(exc), "errors": exc.detail}
    else:
        body = {"detail": _first_message(exc.detail), "code": _code_of(exc)}
    if (
        response.status_code == status.HTTP_403_FORBIDDEN
        and not context["request"].user.is_authenticated
    ):
        # DRF answers 403 to anonymous session clients; they are unauthenticated, say so.
        response.status_code = status.HTTP_401_UNAUTHORIZED
        body = {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        }
    return Response(body, status=response.status_code, headers=dict(response.items()))
