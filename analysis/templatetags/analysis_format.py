"""Number formatting for the dashboard: views pass raw numbers, templates format."""

import math

from django import template

register = template.Library()
# Numbers are written with the minus sign U+2212, never a hyphen.
MINUS = "\u2212"

DASH = "—"


def _missing(value) -> bool:
    if value is None or value == "":
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


@register.filter
def num(value, digits: int = 2) -> str:
    """A number with `digits` decimals; a dash when there is none."""
    if _missing(value):
        return DASH
    return f"{float(value):.{int(digits)}f}".replace("-", MINUS)


@register.filter
def signed(value, digits: int = 2) -> str:
    """A difference with its sign (+0.42, −0.10)."""
    if _missing(value):
        return DASH
    text = f"{float(value):+.{int(digits)}f}"
    return text.replace("-", MINUS)


@register.filter
def pct(value, digits: int = 0) -> str:
    """A share 0–1 as a percentage."""
    if _missing(value):
        return DASH
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def points(value) -> str:
    """A difference of two shares 0–1 in percentage points, signed (the unit
    is written beside it)."""
    if _missing(value):
        return DASH
    text = f"{float(value) * 100:+.0f}"
    return text.replace("-", "−")


@register.filter
def pvalue(value) -> str:
    if _missing(value):
        return DASH
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def interval(row, prefix: str = "ci") -> str:
    """ "[low, high]" from row[prefix_low], row[prefix_high]."""
    low, high = row.get(f"{prefix}_low"), row.get(f"{prefix}_high")
    if _missing(low) or _missing(high):
        return DASH
    return f"[{float(low):.2f}, {float(high):.2f}]".replace("-", MINUS)


@register.filter
def get(mapping, key):
    """mapping[key], for dicts keyed by a variable."""
    if mapping is None:
        return None
    return mapping.get(key)
