"""Account pages: the API token page (login and logout are Django's views with our template)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from console.accounts.services import create_token


@login_required
@require_http_methods(["GET", "POST"])
def token(request: HttpRequest) -> HttpResponse:
    """Create or rotate the user's API token; the key is shown once, right after creation."""
    new_key = create_token(request, request.user) if request.method == "POST" else None
    existing = Token.objects.filter(user=request.user).first()
    context = {"new_key": new_key, "existing": existing}
    return render(request, "accounts/token.html", context)
