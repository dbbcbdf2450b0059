"""Account pages: my account (password, sessions, API tokens, language), people (node admins)
and re-authentication before sensitive actions.

Login and logout are Django's views with our template. Every page reads and writes through the
services of this app, which check who may do what.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.accounts import login_sessions, people, twofactor
from console.accounts.forms import (
    ASSIGNABLE_BY_NODE_ADMIN,
    PasswordResetForm,
    PersonCreateForm,
    RoleForm,
    TokenForm,
)
from console.accounts.services import create_token, revoke_token, tokens_of
from console.accounts.sessions import mark_authenticated, require_recent_login
from console.audit.log import Action, actor_of, record
from console.pages.errors import add_service_errors, error_text
from workflows.actors import Actor


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autofocus": True}))


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """My account: change password, and my signed-in sessions."""
    form = PasswordChangeForm(request.user, request.POST or None)
    # Django focuses the old password; on an overview page that would skip the skip link.
    form.fields["old_password"].widget.attrs.pop("autofocus", None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)  # keep this session, not the others
        record(actor_of(request), Action.PASSWORD_CHANGE, target=request.user)
        messages.success(request, _("Your password was changed."))
        return redirect("accounts:account")
    context = {
        "form": form,
        "sessions": login_sessions.sessions_of(request.user),
        "two_factor": twofactor.has_two_factor(request.user),
    }
    return render(request, "accounts/account.html", context)


@login_required
@require_POST
def session_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    login_sessions.revoke_session(request, pk)
    messages.success(request, _("The session was signed out."))
    return redirect("accounts:account")


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
def tokens(request: HttpRequest) -> HttpResponse:
    """My API tokens: create one (its key is shown once, on this response only) or revoke."""
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = create_token(
                Actor.from_request(request), request.user, **form.cleaned_data
            )
            form = TokenForm()
        except ValidationError as error:
            add_service_errors(form, error)
    context = {"form": form, "new_key": new_key, "tokens": tokens_of(request.user)}
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens_of(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404(_("No such token."))
    try:
        revoke_token(Actor.from_request(request), token)
        messages.success(
            request,
            _("Token '%(name)s' was revoked: it no longer works.") % {"name": token.name},
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    return redirect("accounts:tokens")


@login_required
@require_http_methods(["GET", "POST"])
def people_list(request: HttpRequest) -> HttpResponse:
    """The users of my node (platform admins: of every node), and a form to add one."""
    users = people.people_for(request.user)
    form = PersonCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person, password = people.create_person(request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _created(request, person, password)
    context = {
        "users": users,
        "form": form,
        "with_two_factor": set(
            TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list(
                "user_id", flat=True
            )
        ),
        "requires_two_factor": twofactor.node_requires_two_factor(request.user),
    }
    return render(request, "accounts/people.html", context)


def _created(request: HttpRequest, person, password: str) -> HttpResponse:
    messages.success(request, _("User '%(username)s' was created.") % {"username": person.username})
    if password:
        # The generated password is rendered once, in this response, never stored in clear.
        context = {"person": person, "new_password": password}
        return render(request, "accounts/person_password.html", context)
    return redirect("accounts:person", pk=person.pk)


@login_required
@require_http_methods(["GET", "POST"])
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """One user: change their role, (de)activate them, reset their password."""
    target = people.get_person(request, pk)
    role_form = RoleForm(initial={"role": target.role})
    if not request.user.is_superuser:
        role_form.fields["role"].choices = ASSIGNABLE_BY_NODE_ADMIN  # never offer "Node admin"
    reset_form = PasswordResetForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            response = _apply(request, target, action)
        except ValidationError as error:
            messages.error(request, error_text(error))
            response = None
        except PermissionDenied as error:
            messages.error(request, str(error))
            response = None
        if response is not None:
            return response
        return redirect("accounts:person", pk=target.pk)
    context = {
        "person": target,
        "role_form": role_form,
        "reset_form": reset_form,
        "may_change": _may_change(request.user, target),
        "has_two_factor": twofactor.has_two_factor(target),
    }
    return render(request, "accounts/person.html", context)


def _may_change(actor, target) -> bool:
    try:
        people.ensure_may_manage(actor, target)
    except PermissionDenied:
        return False
    return True


def _apply(request: HttpRequest, target, action: str) -> HttpResponse | None:
    """Carry out one POSTed action; a response only when a new password must be shown."""
    if action == "role":
        form = RoleForm(request.POST)
        role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role")
        people.update_person(request, target, role=role)
        messages.success(
            request,
            _("%(username)s is now %(role)s.")
            % {"username": target.username, "role": target.get_role_display()},
        )
    elif action in ("deactivate", "activate"):
        people.update_person(request, target, is_active=action == "activate")
        if action == "activate":
            done = _("%(username)s was activated.")
        else:
            done = _("%(username)s was deactivated.")
        messages.success(request, done % {"username": target.username})
    elif action == "reset_two_factor":
        people.reset_two_factor(request, target)
        messages.success(
            request,
            _("The second factor of %(username)s was removed.") % {"username": target.username},
        )
    elif action == "reset_password":
        password = people.reset_password(request, target, request.POST.get("password", ""))
        messages.success(
            request, _("The password of %(username)s was reset.") % {"username": target.username}
        )
        if password:
            context = {"person": target, "new_password": password}
            return render(request, "accounts/person_password.html", context)
    else:
        raise ValidationError(
            _("Unknown action %(action)r.") % {"action": action}, code="invalid_action"
        )
    return None


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
