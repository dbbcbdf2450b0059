"""Fallback for unknown URLs under /api/v1/: the API's error shape rather than an HTML page."""

from django.http import HttpRequest, JsonResponse


def endpoint_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return JsonResponse(
        {"detail": f"No API endpoint at '{request.path}'.", "code": "not_found"}, status=404
    )
