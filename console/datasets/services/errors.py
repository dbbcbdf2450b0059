"""Validation errors of the dataset services that name the form or API field at fault."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str, message: str, code: str) -> ValidationError:
    """An error attached to a form/API field that keeps its code (a plain dict drops it)."""
    return ValidationError({field: ValidationError(message, code=code)})
