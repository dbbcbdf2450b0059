"""Account pages: sign-in, re-authentication and the API token page (logout is Django's)."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from console.accounts.authentication import node_disabled
from console.accounts.services import create_token
from console.accounts.sessions import mark_authenticated, require_recent_login


class SignInForm(AuthenticationForm):
    """Django's sign-in form, saying why the right password of a disabled node's user fails."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            user = self._user_with_these_credentials()
            if user is not None and node_disabled(user):
                raise forms.ValidationError(
                    f"Your node “{user.node}” is disabled: its users cannot sign in. "
                    "Ask the platform admin.",
                    code="node_disabled",
                ) from None
            raise

    def _user_with_these_credentials(self):
        from django.contrib.auth import get_user_model

        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        user = get_user_model()._default_manager.filter(username=username).first()
        return user if user is not None and password and user.check_password(password) else None


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autofocus": True}))


@login_required
@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Ask for the password again before a sensitive action; back to `next` afterwards."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if request.user.check_password(form.cleaned_data["password"]):
            mark_authenticated(request)
            return redirect(next_url)
        user_login_failed.send(
            sender=__name__, credentials={"username": request.user.get_username()}, request=request
        )
        form.add_error("password", "That is not your password.")
    return render(request, "accounts/reauth.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
@require_recent_login(unsafe_only=True)
def token(request: HttpRequest) -> HttpResponse:
    """Create or rotate the user's API token; the key is shown once, right after creation."""
    new_key = create_token(request, request.user) if request.method == "POST" else None
    existing = Token.objects.filter(user=request.user).first()
    context = {"new_key": new_key, "existing": existing}
    return render(request, "accounts/token.html", context)
