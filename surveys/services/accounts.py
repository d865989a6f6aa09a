"""Accounts: people are users keyed by email; new ones choose their password
through a one-time, expiring link made by Django's token generator."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def set_password_link(user: AbstractBaseUser) -> str:
    """An absolute link to choose a password; it works once and expires after
    PASSWORD_RESET_TIMEOUT seconds (Django's token changes with the password)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


def user_get_or_create(*, email: str, first_name: str = "", last_name: str = ""):
    """The user with this email (case-insensitive), created without a usable
    password if there is none. Returns (user, created)."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip()
    user = User.objects.filter(email__iexact=email).order_by("id").first()
    if user is not None:
        return user, False
    user = User(
        username=email.lower(), email=email, first_name=first_name, last_name=last_name
    )
    user.set_unusable_password()
    user.save()
    return user, True
