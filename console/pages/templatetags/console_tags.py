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
