"""The new-pipeline form; the API and services re-validate what it gives them."""

from django import forms

from workflows.starters import STARTERS


class NewPipelineForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="What the pipeline computes, for the members.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    template = forms.ChoiceField(
        choices=[(key, starter.label) for key, starter in STARTERS.items()],
        initial="blank",
        widget=forms.RadioSelect,
        help_text="Templates are filled from the project's authorised datasets and column roles.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the pipeline a name.")
        return name


class EditorsForm(forms.Form):
    """Who besides its creator may change a pipeline: users of the project's member nodes."""

    editors = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Editors change, rename and delete the pipeline; every member reads and runs it.",
    )

    def __init__(self, *args, candidates: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["editors"].choices = [
            (user.get_username(), f"{user.get_username()} ({user.node.name})")
            for user in candidates
        ]
