"""Tokens that are derived, not stored: base64url(HMAC-SHA256(SECRET_KEY,
"<purpose>:<parts…>:<created_at in UTC, microseconds>")).

Only a token's SHA-256 is kept (`surveys.models.token_hash`); whoever must
mail it again re-derives it from the row. 43 characters, as unguessable as
`secrets.token_urlsafe(32)` without the key; a leaked database dump reveals
none. Keys in SECRET_KEY_FALLBACKS still re-derive older tokens.
"""

import base64
import hashlib
import hmac
from datetime import UTC

from django.conf import settings

from surveys.models import token_hash


def keyed_token(key: str | bytes, purpose: str, *parts, created_at) -> str:
    stamp = created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    message = ":".join([purpose, *map(str, parts), stamp]).encode()
    key_bytes = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key_bytes, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_token(purpose: str, *parts, created_at) -> str:
    """A new token, with the current secret key."""
    return keyed_token(settings.SECRET_KEY, purpose, *parts, created_at=created_at)


def rederived_token(stored_hash: str, purpose: str, *parts, created_at) -> str | None:
    """The token whose hash is stored, made again with the current key or a
    fallback; None if no key known now made it."""
    for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        token = keyed_token(key, purpose, *parts, created_at=created_at)
        if hmac.compare_digest(token_hash(token), stored_hash):
            return token
    return None
