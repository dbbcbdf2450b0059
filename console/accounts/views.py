"""Account pages: the API token page (login and logout are Django's views with our template)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import i18n as i18n_views
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


@require_http_methods(["POST"])
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's `set_language` (cookie, safe redirect), and for a signed-in user also the saved
    preference, so the choice follows them to every device they sign in from."""
    response = i18n_views.set_language(request)
    language = request.POST.get(i18n_views.LANGUAGE_QUERY_PARAMETER, "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response
