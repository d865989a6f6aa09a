"""Rate limits on the doors an attacker knocks on: survey links, login, password reset.

Fixed-window counters in the shared cache (the database cache by default, Redis
when configured), so every web process counts the same requests. A limit is a
window, never a lockout: once the window has passed, the person can try again,
so nobody can lock another person out for longer than one window — and the
per-address limit bounds how fast anyone can keep an account's window full.
"""

import hashlib
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@dataclass(frozen=True)
class Rule:
    name: str
    # One prefix or several: the rules of one name share their counters, so the
    # site's login and the admin's login are one door.
    path_prefix: str | tuple[str, ...]
    methods: tuple[str, ...]
    # Which part of the request is counted: "ip", or a POST field naming an account.
    key: str
    limit: int
    window: int  # seconds


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind a trusted proxy, the one it reports.

    The proxy appends the address it saw to X-Forwarded-For, after whatever the
    client sent in that header itself: only the last entry can be trusted.
    """
    if settings.RATE_LIMIT_TRUST_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def rules() -> list[Rule]:
    return [
        Rule(
            **{
                **rule,
                "path_prefix": rule["path_prefix"]
                if isinstance(rule["path_prefix"], str)
                else tuple(rule["path_prefix"]),
            }
        )
        for rule in settings.RATE_LIMITS
    ]


def account_identity(typed: str) -> str:
    """The account a typed name stands for, as authentication sees it.

    Django's login form applies NFKC to the name, and addresses are matched
    without regard to case: a fullwidth "ｓ" or a capital letter must land on
    the same counter as the plain spelling, or a locked account is one
    look-alike away from a fresh window.
    """
    return unicodedata.normalize("NFKC", typed).strip().casefold()


def rate_limit_hit(rule: Rule, identity: str, now: float | None = None) -> int | None:
    """Count one request; the seconds to wait if it is over the limit, else None."""
    now = time.time() if now is None else now
    window_start = int(now // rule.window) * rule.window
    # The identity is whatever the client typed: hashed, so no length or character
    # (a NUL, which PostgreSQL refuses) can break the cache key.
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()
    key = f"ratelimit:{rule.name}:{digest}:{window_start}"
    cache.add(key, 0, timeout=rule.window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=rule.window + 5)
        count = 1
    if count > rule.limit:
        return max(1, int(window_start + rule.window - now))
    return None


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.RATE_LIMITS_ENABLED:
            for rule in rules():
                if request.method not in rule.methods or not request.path.startswith(
                    rule.path_prefix
                ):
                    continue
                if rule.key == "ip":
                    identity = client_ip(request)
                else:
                    identity = account_identity(request.POST.get(rule.key, ""))
                    if not identity:
                        continue
                retry_after = rate_limit_hit(rule, identity)
                if retry_after is not None:
                    return too_many_requests(request, retry_after)
        return self.get_response(request)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = max(1, round(retry_after / 60))
    response = render(request, "429.html", {"retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
