"""Forms of the project pages; the services re-validate everything they are given."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.nodes.models import Node
from console.projects.models import Project


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=120, help_text=_("A short name the other members recognise."))
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the members want to compute together, and why."),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the project a name."))
        return name


class AddMemberForm(forms.Form):
    node = forms.ModelChoiceField(
        queryset=Node.objects.none(),
        empty_label=_("Choose a node…"),
        error_messages={"invalid_choice": "Choose one of the nodes that are not members yet."},
    )

    def __init__(self, project: Project, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = Node.objects.exclude(memberships__project=project)
