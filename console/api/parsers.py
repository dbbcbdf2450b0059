"""A JSON parser with bounds: nesting depth, and the body size Django enforces.

The standard library parses recursively: a body nested a few thousand levels deep raises
RecursionError (a 500) or, just under the interpreter's limit, parses and then breaks whatever
walks the value next (serializers, the database adapter). Nothing PrivPad accepts is nested
deeper than a pipeline graph's parameters, so a small depth bound refuses such bodies up front.
The size bound is Django's DATA_UPLOAD_MAX_MEMORY_SIZE, read through `request.body`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

DEFAULT_MAX_DEPTH = 32


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether `value` nests lists/objects deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            if depth > limit:
                return True
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)
    return False


def too_deep(limit: int) -> str:
    return _("JSON parse error - nested more than %(limit)s levels deep.") % {"limit": limit}


class BoundedJSONParser(JSONParser):
    """JSON bodies refused with 400 when malformed or nested deeper than the limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "PRIVPAD_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep(limit), "json_too_deep") from None
        if json_depth_exceeds(data, limit):
            raise ParseError(too_deep(limit), "json_too_deep")
        return data
