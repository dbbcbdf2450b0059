"""Forms of the account and people pages; the services check every rule again."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.accounts.models import ApiToken, User
from console.accounts.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from console.nodes.models import Node

ASSIGNABLE_BY_NODE_ADMIN = [c for c in User.Role.choices if c[0] != User.Role.NODE_ADMIN]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What will use it, e.g. 'nightly scoring notebook'."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        initial=DEFAULT_EXPIRY_DAYS,
    )


class PersonCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=ASSIGNABLE_BY_NODE_ADMIN, initial=User.Role.ANALYST
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to generate one; it is shown once, for you to hand over."),
    )

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if actor.is_superuser:
            self.fields["role"].choices = User.Role.choices
            self.fields["node"] = forms.ModelChoiceField(
                label=_("Node"),
                queryset=Node.objects.all(),
                to_field_name="name",
                empty_label=None,
            )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to generate one; it is shown once."),
    )
