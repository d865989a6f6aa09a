"""An organization's face on customer pages and mails: its logo and accent colour.

The logo is never served as uploaded. Only PNG and JPEG are accepted (never SVG,
which can carry script); the size in bytes and pixels is checked before anything
is decoded; the image is decoded by Pillow, scaled down to a logo's size and
written out afresh, which drops metadata (EXIF, text chunks) and anything
appended to the file. The accent colour is "#rrggbb" only, checked again each
time it is rendered.
"""

import hashlib
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

ACCENT_RE = re.compile(r"#[0-9a-f]{6}\Z")
# The largest logo kept, in pixels (about twice the size shown, for sharp screens).
LOGO_BOX = (480, 160)
# Refused before decoding: a small file can decode to a huge bitmap.
LOGO_MAX_PIXELS = 4096 * 4096
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class LogoError(ValueError):
    """An upload that is not a usable logo; the message is fit to show."""


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def logo_from_upload(upload: UploadedFile) -> Logo:
    """The uploaded PNG or JPEG, checked, scaled down and re-encoded.

    Raises LogoError for anything else: another format, a damaged file, more than
    settings.LOGO_MAX_BYTES bytes or LOGO_MAX_PIXELS pixels.
    """
    limit = settings.LOGO_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise LogoError(f"The logo is too large; the limit is {limit:,} bytes.")
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise LogoError(f"The logo is too large; the limit is {limit:,} bytes.")
    try:
        with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as image:
            width, height = image.size
            if width * height > LOGO_MAX_PIXELS:
                raise LogoError(
                    f"The logo has too many pixels ({width} × {height}); "
                    "use a smaller image."
                )
            kind = image.format
            image.load()
            image = _fit(image, kind)
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise LogoError("The logo must be a PNG or JPEG image.")
    except Image.DecompressionBombError:
        raise LogoError("The logo has too many pixels; use a smaller image.")
    out = io.BytesIO()
    if kind == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=88, optimize=True)
    return Logo(data=out.getvalue(), content_type=FORMATS[kind])


def _fit(image: Image.Image, kind: str) -> Image.Image:
    """A copy in a plain mode (RGB or RGBA) no larger than LOGO_BOX."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if kind == "PNG" and has_alpha else "RGB"
    image = image.convert(mode)
    image.thumbnail(LOGO_BOX)
    return image


def accent_normalized(value: str) -> str:
    """ "#rrggbb" in lower case, or "" for none; ValueError for anything else."""
    value = value.strip().lower()
    if value and not ACCENT_RE.match(value):
        raise ValueError("The accent colour must be written #rrggbb, e.g. #1a5276.")
    return value


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""
    channels = []
    for i in (1, 3, 5):
        c = int(hex_colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def accent_colors(value: str) -> dict[str, str] | None:
    """The accent and the text colour to write on it (black or white, whichever
    contrasts more: at least 4.58:1 whatever the accent), or None when the value
    is not a valid "#rrggbb" — whatever the database holds, nothing else reaches
    a page."""
    if not isinstance(value, str) or not ACCENT_RE.match(value):
        return None
    lum = _luminance(value)
    on_white = 1.05 / (lum + 0.05)
    on_black = (lum + 0.05) / 0.05
    return {"accent": value, "text": "#fff" if on_white >= on_black else "#000"}
