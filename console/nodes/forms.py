"""The node registration form and the invitation form (platform admins only)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.nodes.invitations import MAX_TEXT
from console.nodes.models import Node


class NodeForm(forms.ModelForm):
    class Meta:
        model = Node
        fields = ["name", "display_name", "institution", "kind", "address"]
        help_texts = {
            "name": "Letters, digits, dashes; used in URLs and storage, e.g. 'alice'.",
            "display_name": "How the node appears to everyone, e.g. 'Alice Bank'.",
            "address": (
                "Only for remote nodes, and recorded only: this embedded console runs every "
                "node's part itself. Another institution's own installation is added by pairing "
                "(network mode, `manage.py node accept`)."
            ),
        }


class AcceptInvitationForm(forms.Form):
    """Another node's invitation, pasted as text or uploaded as the file it came in."""

    text = forms.CharField(
        label=_("Invitation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "The line starting with privpad-invitation/1 that the other node's admin sent."
        ),
    )
    file = forms.FileField(label=_("…or the invitation file"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("text", "file"):  # one of the two is needed: neither is marked optional
            self.fields[name].one_of_two = True

    def clean(self) -> dict:
        data = super().clean()
        text, upload = data.get("text", "").strip(), data.get("file")
        if bool(text) == bool(upload):
            raise forms.ValidationError(_("Paste the invitation or upload its file (one of them)."))
        if upload is not None:
            if upload.size > 4 * MAX_TEXT:
                raise forms.ValidationError(_("That file is too large to be an invitation."))
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("That file is not a text invitation.")) from None
        data["invitation"] = text
        return data

    def invitation_text(self) -> str:
        return self.cleaned_data["invitation"]
