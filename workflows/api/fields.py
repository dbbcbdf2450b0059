"""Input primitives shared by every API serializer (the console's too): strict, bounded.

DRF's `CharField` turns `12345` into `"12345"` and its `JSONField` takes any JSON value of any
size; an API that stores what institutions type must refuse both with a message naming the
field. Limits live here so that every endpoint applies the same ones.
"""

from __future__ import annotations

import json

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from workflows.messages import render

# Longest free text (descriptions) and largest JSON document (a pipeline graph) accepted.
MAX_TEXT_LENGTH = 5_000
MAX_JSON_BYTES = 1024 * 1024
# Database ids are signed 64-bit integers (SQLite INTEGER, PostgreSQL bigint).
MAX_ID = 2**63 - 1


class StrictCharField(serializers.CharField):
    """Text only: a number, a boolean or a list is refused rather than turned into text."""

    default_error_messages = {"invalid": "Must be text, not {kind}."}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", MAX_TEXT_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", kind=_kind(data))
        return super().to_internal_value(data)


class JSONObjectField(serializers.JSONField):
    """A JSON object (never a list or a scalar) of at most `max_bytes` once encoded."""

    default_error_messages = {
        "not_object": "Must be a JSON object, not {kind}.",
        "too_large": "The JSON document is {size} bytes; the limit is {limit} bytes.",
    }

    def __init__(self, max_bytes: int = MAX_JSON_BYTES, **kwargs) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            self.fail("not_object", kind=_kind(data))
        size = len(json.dumps(data, separators=(",", ":")).encode())
        if size > self.max_bytes:
            self.fail("too_large", size=size, limit=self.max_bytes)
        return data


def query_id(query_params, name: str) -> int | None:
    """The positive database id in query parameter `name`, None if absent; 400 if not an id."""
    value = query_params.get(name)
    if value in (None, ""):
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise ValidationError({name: f"'{value[:40]}' is not a {name} id."}, code="invalid")
    return int(value)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


class StoredMessageField(serializers.CharField):
    """A column holding a stored message (`workflows.messages`), read-only, worded in the
    reader's language (the request's active one)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return render(value)


class IdField(serializers.IntegerField):
    """A database id in a body: a positive integer the database can hold."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
