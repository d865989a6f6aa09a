"""The emails customers receive: invitations and reminders, HTML and plain text.

Every header value that comes from people's input (contact names, organization
names, study names) goes through `header_text`, so no line break can smuggle in a
header of its own.
"""

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from surveys.branding import accent_colors
from surveys.models import Case, DataExport, Invitation


def header_text(value: str, limit: int = 200) -> str:
    """A single line fit for a header: control characters out, whitespace collapsed."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value)
    return " ".join(cleaned.split())[:limit]


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def survey_links(token: str) -> dict[str, str]:
    return {
        "survey_url": absolute_url(reverse("survey", args=[token])),
        "opt_out_url": absolute_url(reverse("survey_opt_out", args=[token])),
    }


def invitation_message(
    invitation: Invitation, *, token: str, reminder: bool = False, connection=None
) -> EmailMultiAlternatives:
    """The invitation (or reminder) mail for one invitation, ready to send.

    Input: the invitation with its study, organization and contact loaded, and its
    token (never stored; see surveys.services.invitations.invitation_token).
    """
    study = invitation.study
    organization = study.organization
    contact = invitation.contact
    context = {
        "organization": organization,
        "study": study,
        "contact": contact,
        "reminder": reminder,
        "logo_url": absolute_url(
            reverse("organization_logo", args=[organization.logo_key])
        )
        if organization.logo_key
        else "",
        "accent": accent_colors(organization.accent_color),
        **survey_links(token),
    }
    subject = header_text(
        render_to_string("emails/invitation_subject.txt", context), limit=180
    )
    text = render_to_string("emails/invitation_body.txt", context)
    html = render_to_string("emails/invitation_body.html", context)
    _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    from_email = formataddr((header_text(organization.name), from_address))
    to = formataddr((header_text(contact.name), contact.email))
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[to],
        connection=connection,
        headers={
            # Mail clients offer a one-click unsubscribe on this header.
            "List-Unsubscribe": f"<{context['opt_out_url']}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def data_export_message(
    export: DataExport, *, token: str, connection=None
) -> EmailMultiAlternatives:
    """The mail that gives a contact the single-use link to their own data."""
    contact = export.contact
    organization = contact.organization
    context = {
        "organization": organization,
        "contact": contact,
        "export": export,
        "url": absolute_url(reverse("my_data", args=[token])),
    }
    subject = header_text(f"Your data held by {organization.name}", limit=180)
    text = render_to_string("emails/data_export.txt", context)
    html = render_to_string("emails/data_export.html", context)
    _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((header_text(organization.name), from_address)),
        to=[formataddr((header_text(contact.name), contact.email))],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def _member_message(
    user, subject: str, template: str, context: dict, connection=None
) -> EmailMultiAlternatives:
    """A mail to a member of an organization (a case owner)."""
    _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    name = header_text(user.get_full_name() or "")
    message = EmailMultiAlternatives(
        subject=header_text(subject, limit=180),
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=formataddr(("GapSurvey", from_address)),
        to=[formataddr((name, user.email))],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string(f"emails/{template}.html", context), "text/html"
    )
    return message


def case_assigned_message(case: Case, connection=None) -> EmailMultiAlternatives:
    """The mail telling an owner a follow-up case is theirs: the link, why,
    by when; nothing of the customer (the case page shows that, after login)."""
    context = {
        "case": case,
        "organization": case.organization,
        "url": absolute_url(reverse("case_detail", args=[case.pk])),
    }
    return _member_message(
        case.owner,
        f"Follow-up case #{case.pk} is yours: {case.study.name}",
        "case_assigned",
        context,
        connection,
    )


def followup_digest_message(user, cases: list[Case], connection=None):
    """An owner's overdue cases of one organization, once a day."""
    from surveys.text import count

    context = {
        "cases": [
            (case, absolute_url(reverse("case_detail", args=[case.pk])))
            for case in cases
        ],
        "organization": cases[0].organization,
        "overdue": count(len(cases), "overdue case"),
        "url": absolute_url(reverse("my_cases")),
    }
    return _member_message(
        user,
        f"{context['overdue'].capitalize()} to follow up",
        "followup_digest",
        context,
        connection,
    )


def case_closing_message(case: Case, connection=None) -> EmailMultiAlternatives:
    """The owner's short note to a customer whose case was resolved."""
    organization = case.organization
    contact = case.contact
    context = {"case": case, "organization": organization, "contact": contact}
    _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    message = EmailMultiAlternatives(
        subject=header_text(f"About your answers to {case.study.respondent_title}"),
        body=render_to_string("emails/case_closing.txt", context),
        from_email=formataddr((header_text(organization.name), from_address)),
        to=[formataddr((header_text(contact.name), contact.email))],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("emails/case_closing.html", context), "text/html"
    )
    return message
