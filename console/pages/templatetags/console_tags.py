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
