"""Small wording helpers for messages written in Python."""


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 contact", "8 contacts" — a number with the right form of its noun."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
