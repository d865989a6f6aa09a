"""Issue 19.3: the organization's face, not the tool's. A logo (PNG or JPEG only,
size-limited, re-encoded, served with a safe content type), an accent colour
(#rrggbb only, rendered safely), and the study's public title for respondents in
the mail subject and on the customer pages; no app tagline there."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from surveys.emails import invitation_message
from surveys.forms.answers import item_field_name
from surveys.models import Organization, OrganizationLogo
from surveys.services.organizations import (
    BrandingError,
    organization_branding_update,
)
from tests import factories

pytestmark = pytest.mark.django_db

TAGLINE = "the distance between the service you believe you give"


def image_bytes(fmt: str = "PNG", size=(120, 40), mode="RGB", **save) -> bytes:
    buffer = io.BytesIO()
    colour = (200, 30, 30) if mode == "RGB" else 1
    Image.new(mode, size, colour).save(buffer, fmt, **save)
    return buffer.getvalue()


def upload(data: bytes, name="logo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def brand(client, **data):
    return client.post(reverse("organization_branding"), data)


@pytest.fixture
def invited(study_a):
    return factories.make_invitation(study_a, sent_at=timezone.now())


# --- the logo ---


@pytest.mark.parametrize("fmt, kind", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_png_or_jpeg_logo_is_kept_re_encoded(alice_client, org_a, fmt, kind):
    original = image_bytes(fmt)
    page = brand(alice_client, logo=upload(original), accent_color="")
    assert page.status_code == 302
    org_a.refresh_from_db()
    assert org_a.logo.content_type == kind
    stored = bytes(org_a.logo.data)
    assert stored != original  # re-encoded, not the uploaded bytes
    assert Image.open(io.BytesIO(stored)).format == fmt
    assert org_a.logo_key == org_a.logo.key


def set_logo(organization, user, data: bytes | None = None):
    """The organization as saved with this logo (a small PNG by default)."""
    return organization_branding_update(
        organization=organization,
        actor=user,
        logo=upload(data or image_bytes()),
        accent_color="",
    )


def test_the_logo_loses_its_metadata(org_a, alice):
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    data = image_bytes("JPEG", exif=exif.tobytes())
    assert b"secret description" in data
    saved = set_logo(org_a, alice.user, data)
    assert b"secret description" not in bytes(saved.logo.data)


def test_a_large_logo_is_scaled_down(org_a, alice):
    saved = set_logo(org_a, alice.user, image_bytes(size=(1600, 800)))
    width, height = Image.open(io.BytesIO(bytes(saved.logo.data))).size
    assert width <= 480 and height <= 160


@pytest.mark.parametrize(
    "data, name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "l.svg"),
        (image_bytes("GIF"), "logo.gif"),
        (image_bytes("BMP"), "logo.png"),
        (b"<html><script>alert(1)</script></html>", "logo.png"),
        (image_bytes("PNG")[:60], "logo.png"),  # truncated
    ],
)
def test_anything_but_a_valid_png_or_jpeg_is_refused(alice_client, org_a, data, name):
    page = brand(alice_client, logo=upload(data, name=name), accent_color="")
    assert page.status_code == 400
    assert "PNG or JPEG" in page.content.decode()
    assert not OrganizationLogo.objects.exists()


def test_a_logo_over_the_size_limit_is_refused(alice_client, org_a, settings):
    settings.LOGO_MAX_BYTES = 1000
    page = brand(alice_client, logo=upload(image_bytes(size=(400, 400))))
    assert page.status_code == 400
    assert "too large" in page.content.decode()


def test_a_logo_with_too_many_pixels_is_refused_before_decoding(org_a, alice):
    huge = image_bytes(size=(5000, 5000), mode="1")
    assert len(huge) < 200_000
    with pytest.raises(BrandingError, match="pixels"):
        set_logo(org_a, alice.user, huge)


def test_the_logo_is_served_with_its_own_type_and_no_sniffing(client, org_a, alice):
    org_a = set_logo(org_a, alice.user)
    response = client.get(reverse("organization_logo", args=[org_a.logo_key]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response.content == bytes(org_a.logo.data)


def test_an_unknown_logo_key_is_a_404(client, db):
    assert client.get(reverse("organization_logo", args=["0" * 64])).status_code == 404


def test_the_logo_can_be_removed(alice_client, org_a, alice):
    org_a = set_logo(org_a, alice.user)
    key = org_a.logo_key
    brand(alice_client, remove_logo="on", accent_color="")
    org_a.refresh_from_db()
    assert org_a.logo_key == "" and not OrganizationLogo.objects.exists()
    assert alice_client.get(reverse("organization_logo", args=[key])).status_code == 404


def test_staff_and_other_managers_cannot_change_the_face(
    bob_client, charlie_client, org_a
):
    assert brand(bob_client, accent_color="#112233").status_code in (403, 404)
    brand(charlie_client, accent_color="#112233")
    org_a.refresh_from_db()
    assert org_a.accent_color == ""


def test_branding_refuses_get(alice_client):
    assert alice_client.get(reverse("organization_branding")).status_code == 405


# --- the accent colour ---


@pytest.mark.parametrize(
    "value",
    [
        "red",
        "#12345",
        "#1234567",
        "#12345g",
        "#123456;}</style><script>alert(1)</script>",
        "url(javascript:1)",
    ],
)
def test_only_a_hex_colour_is_accepted(alice_client, org_a, value):
    page = brand(alice_client, accent_color=value)
    assert page.status_code == 400
    assert "#rrggbb" in page.content.decode()
    org_a.refresh_from_db()
    assert org_a.accent_color == ""


def test_a_hex_colour_is_kept_lower_case(alice_client, org_a):
    brand(alice_client, accent_color="#1A5276")
    org_a.refresh_from_db()
    assert org_a.accent_color == "#1a5276"


def test_the_customer_page_uses_the_accent_colour(client, invited, org_a):
    _, token = invited
    Organization.objects.filter(pk=org_a.pk).update(accent_color="#1a5276")
    html = client.get(reverse("survey", args=[token])).content.decode()
    assert "--gs-accent: #1a5276" in html
    assert "--gs-accent-text: #fff" in html


def test_a_colour_forced_into_the_database_is_never_rendered(client, invited, org_a):
    _, token = invited
    # Seven characters, as the column allows, but not a colour.
    Organization.objects.filter(pk=org_a.pk).update(accent_color="</style")
    html = client.get(reverse("survey", args=[token])).content.decode()
    assert "--gs-accent:" not in html
    assert "</style" not in html


# --- the customer pages and mails ---


def test_the_customer_page_shows_the_organization_logo_and_public_title(
    client, invited, org_a, alice, study_a
):
    _, token = invited
    study_a.public_title = "How did we do this spring?"
    study_a.save()
    org_a = set_logo(org_a, alice.user)
    html = client.get(reverse("survey", args=[token])).content.decode()
    logo = reverse("organization_logo", args=[org_a.logo_key])
    assert re.search(rf'<img[^>]+src="{logo}"[^>]+alt="Acme Services"', html)
    assert "How did we do this spring?" in html
    assert study_a.name not in html


@pytest.mark.parametrize("page", ["survey", "survey_thanks", "survey_opt_out"])
def test_customer_pages_carry_no_tool_name_or_tagline(client, invited, study_a, page):
    _, token = invited
    if page == "survey_thanks":
        data = {item_field_name(i): "4" for i in study_a.questionnaire.items.all()}
        client.post(reverse("survey", args=[token]), data)
    html = client.get(reverse(page, args=[token])).content.decode()
    assert TAGLINE not in html
    assert "GapSurvey" not in html
    assert study_a.name not in html
    assert "Acme Services" in html


def test_the_thanks_page_names_the_public_title(client, invited, study_a):
    _, token = invited
    study_a.public_title = "Our service, your view"
    study_a.save()
    data = {item_field_name(i): "4" for i in study_a.questionnaire.items.all()}
    client.post(reverse("survey", args=[token]), data)
    html = client.get(reverse("survey_thanks", args=[token])).content.decode()
    assert "Our service, your view" in html


def test_the_mail_subject_uses_the_public_title_not_the_internal_name(invited, study_a):
    invitation, token = invited
    study_a.name = "Probe wave 1"
    study_a.public_title = "Tell us how we did"
    study_a.save()
    message = invitation_message(invitation, token=token)
    assert "Tell us how we did" in message.subject
    assert "Probe wave" not in message.subject
    assert "Probe wave" not in message.body
    assert "Probe wave" not in message.alternatives[0][0]


def test_without_a_public_title_the_mail_never_shows_the_internal_name(
    invited, study_a
):
    invitation, token = invited
    study_a.name = "Probe wave 1"
    study_a.save()
    message = invitation_message(invitation, token=token)
    assert "Probe wave" not in message.subject
    assert "Acme Services" in message.subject


def test_the_html_mail_shows_the_logo_with_an_absolute_link(
    invited, org_a, alice, settings
):
    invitation, token = invited
    org_a = set_logo(org_a, alice.user)
    invitation.study.organization.refresh_from_db()
    html = invitation_message(invitation, token=token).alternatives[0][0]
    logo = settings.SITE_URL + reverse("organization_logo", args=[org_a.logo_key])
    assert f'src="{logo}"' in html


def test_a_study_gets_a_public_title_from_its_form(alice_client, org_a):
    questionnaire = factories.make_questionnaire(organization=org_a)
    alice_client.post(
        reverse("study_create"),
        {
            "name": "Probe wave 1",
            "public_title": "Your view of our service",
            "questionnaire": questionnaire.pk,
            "closes_on": (
                timezone.localdate() + datetime.timedelta(days=9)
            ).isoformat(),
            "min_group_size": "5",
            "reminder_interval_days": "7",
            "max_reminders": "2",
        },
    )
    assert org_a.studies.get().public_title == "Your view of our service"
