"""OpenAPI helpers shared by the API modules: the error body and its usual statuses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every API error: a human message and a machine code (plus per-field errors on 400)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.JSONField(
        required=False, help_text="Per-field messages (validation errors only)."
    )


_MEANINGS = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Unknown, or not visible to you",
    409: "The project is archived (read-only)",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the given error statuses; 401 is always included."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_MEANINGS[code])
        for code in sorted({401, *statuses})
    }
