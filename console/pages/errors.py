"""Turn a service-layer ValidationError into form errors or a flash message text."""

from django import forms
from django.core.exceptions import ValidationError


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach the error to the fields it names (when the form has them), else to the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
