"""Filters of the audit log page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.audit.models import AuditEvent


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        required=False, choices=[("", _("All actions")), *AuditEvent.Action.choices]
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", _("All outcomes")), *AuditEvent.Outcome.choices]
    )

    def filter(self, events):
        if not self.is_valid():
            return events
        for field in ("action", "outcome"):
            if value := self.cleaned_data.get(field):
                events = events.filter(**{field: value})
        return events
