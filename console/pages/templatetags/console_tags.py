"""Small display filters of the console templates."""

from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    """12345 -> '12,345'; anything that is not an integer is shown unchanged."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


@register.filter
def detail_items(detail) -> list[tuple[str, str]]:
    """An audit event's detail as (label, text) pairs: `{"roles": {"id": 1}}` -> roles: id 1."""
    if not isinstance(detail, dict):
        return []
    return [(str(key).replace("_", " "), _plain(value)) for key, value in detail.items()]


def _plain(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    return str(value)


@register.filter
def duration_until(start, end) -> str:
    """Seconds from `start` to `end` as "4.2 s", "3.5 min" or "1.2 h"."""
    if not start or not end:
        return ""
    seconds = (end - start).total_seconds()
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
