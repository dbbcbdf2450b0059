"""How a value that is not there is shown, the same way on every page and in every report.

A missing value is an em dash for the eye and the word "missing" for a screen reader (which
would otherwise read nothing, or "dash"): `{{ value|or_missing }}`, or `{% missing %}`.
The canvas scripts build the same markup (`missingValue()` in static/console/js/lib/format.js).
"""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


def missing_mark() -> SafeString:
    """The mark, its spoken word in the active language."""
    return format_html(
        '<span class="missing"><span aria-hidden="true">—</span>'
        '<span class="visually-hidden">{}</span></span>',
        gettext("missing"),
    )


def is_missing(value) -> bool:
    """None, empty text and NaN count as missing; 0 and False are values."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, float) and value != value


@register.filter
def or_missing(value) -> SafeString:
    """The value, escaped; or the missing-value mark."""
    return missing_mark() if is_missing(value) else conditional_escape(value)


@register.simple_tag
def missing() -> SafeString:
    return missing_mark()
