"""Template access to an organization's checked accent colour."""

from django import template

from surveys.branding import accent_colors as _accent_colors

register = template.Library()


@register.simple_tag
def accent_colors(value: str) -> dict[str, str] | None:
    """{"accent", "text"} for a valid "#rrggbb", else None (nothing is rendered)."""
    return _accent_colors(value)
