"""Forms of the dataset pages; the services re-validate everything they are given."""

from django import forms
from django.conf import settings

from console.datasets.models import Authorization, Dataset
from console.datasets.uploads import limit_message
from console.projects.models import Project


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        # The dataset service explains an empty file better than "The submitted file is empty".
        allow_empty_file=True,
        help_text="UTF-8 (with or without BOM) or GBK, with a header row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    name = forms.CharField(
        max_length=120, help_text="Unique within your node, e.g. 'customers-2024'."
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the rows are and where they come from.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        # The streaming upload handler puts a refusal in place of a file over the limit.
        if rejection := getattr(uploaded, "rejection", None):
            raise forms.ValidationError(rejection)
        if uploaded.size and uploaded.size > settings.PRIVPAD_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(limit_message(uploaded.size))
        return uploaded


class ColumnRolesForm(forms.Form):
    """A role for every column of the dataset, and the owner's confirmation of warnings.

    Role fields are named by column position (`role_0`, `role_1`, ...) so that arbitrary column
    names never become HTML attribute names or form keys. `initial_roles` pre-fills them
    (suggested roles, or the roles of the version being edited); the owner submits them.
    `confirm` is set by the "... anyway" button of the confirm step that role warnings open.
    """

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, dataset: Dataset, *args, initial_roles=None, reasons=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        self.reasons = reasons or {}  # why a pre-filled role was suggested, by column
        initial_roles = initial_roles or {}
        for index, column in enumerate(dataset.columns):
            self.fields[f"role_{index}"] = forms.ChoiceField(
                label=column["name"],
                choices=Authorization.Role.choices,
                initial=initial_roles.get(column["name"], Authorization.Role.FEATURE),
            )

    def role_fields(self) -> list[tuple[dict, forms.BoundField, str]]:
        """(column, its role field, why its role was suggested or "") in file order."""
        return [
            (column, self[f"role_{index}"], self.reasons.get(column["name"], ""))
            for index, column in enumerate(self.dataset.columns)
        ]

    def column_roles(self) -> dict[str, str]:
        return {
            column["name"]: self.cleaned_data[f"role_{index}"]
            for index, column in enumerate(self.dataset.columns)
        }


class AuthorizeForm(ColumnRolesForm):
    """Choose a project of the owning node and a role for every column of the dataset."""

    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        empty_label="Choose a project…",
        error_messages={"invalid_choice": "Choose an active project your node is a member of."},
    )
    field_order = ["project"]

    def __init__(self, dataset: Dataset, *args, **kwargs) -> None:
        super().__init__(dataset, *args, **kwargs)
        self.fields["project"].queryset = authorizable_projects(dataset)


def authorizable_projects(dataset: Dataset):
    """Active projects the owning node belongs to where the dataset is not yet authorised."""
    active = Authorization.objects.filter(dataset=dataset, revoked_at__isnull=True)
    return (
        Project.objects.filter(memberships__node_id=dataset.node_id, status=Project.Status.ACTIVE)
        .exclude(pk__in=active.values("project_id"))
        .distinct()
        .order_by("name")
    )
