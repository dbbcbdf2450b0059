"""Fallback for unknown URLs under /api/v1/: the API's error shape rather than an HTML page."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt


# It changes nothing, so a POST without a CSRF token gets the JSON 404, not an HTML 403.
@csrf_exempt
def endpoint_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return JsonResponse(
        {"detail": f"No API endpoint at '{request.path}'.", "code": "not_found"}, status=404
    )
