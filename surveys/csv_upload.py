"""Reading uploaded CSV files for the staff and contacts imports.

An import is two steps: the upload is parsed and previewed, then confirmed. Between
the two the file's text waits in the session, so the confirmation applies exactly
what the preview showed, and a second confirmation finds nothing to apply.
"""

import csv
import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest


class CsvError(Exception):
    """The file as a whole cannot be read; the message is fit to show the person."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # line number in the file, the header being line 1
    values: dict[str, str]


def csv_text_from_upload(upload: UploadedFile) -> str:
    """The upload's text: UTF-8, with or without a byte-order mark, size-checked."""
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise CsvError(
            f"The file is too large ({upload.size:,} bytes); the limit is "
            f"{settings.MAX_UPLOAD_BYTES:,} bytes. Split it into smaller files."
        )
    raw = upload.read(settings.MAX_UPLOAD_BYTES + 1)
    if len(raw) > settings.MAX_UPLOAD_BYTES:
        raise CsvError(
            f"The file is too large; the limit is {settings.MAX_UPLOAD_BYTES:,} bytes."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError("The file is not UTF-8 text. Save it as “CSV UTF-8” and retry.")


SEPARATOR_NAMES = {"\t": "tabs", "|": "vertical bars (|)", ";": "semicolons"}


def _separator_hint(header: list[str]) -> str:
    """When the whole header is one column holding another separator, name
    it: the file was saved with the wrong separator."""
    if len(header) != 1:
        return ""
    for separator, name in SEPARATOR_NAMES.items():
        if separator in header[0]:
            return (
                f" The header is one column separated by {name}: save the file "
                "as CSV with commas (or semicolons) between the columns."
            )
    return ""


def csv_rows(
    text: str, *, required: list[str], optional: list[str] = ()
) -> list[CsvRow]:
    """Parse CSV text with a header row; comma or semicolon separated.

    Column names are matched case-insensitively. Raises CsvError for a missing
    header, a missing or unknown column, or too many rows. Values are stripped.
    """
    if not text.strip():
        raise CsvError("The file is empty.")
    if "\x00" in text:
        # Not text (PostgreSQL would refuse the character anyway): say so up front.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvError(
            f"Line {line} contains a NUL character: this is not a CSV text file. "
            "Save it as “CSV UTF-8” and retry."
        )
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as error:
        raise CsvError(f"Line 1 cannot be read as CSV: {error}.")
    allowed = [*required, *optional]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name and name not in allowed]
    if missing:
        raise CsvError(
            f"The header row must name the columns {', '.join(allowed)}; "
            f"missing column: {', '.join(missing)}.{_separator_hint(header)}"
        )
    if unknown:
        raise CsvError(
            f"Unknown column: {', '.join(unknown)}. The columns are "
            f"{', '.join(allowed)}."
        )
    if len(set(header)) != len(header):
        raise CsvError("A column is named twice in the header row.")
    rows = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= settings.MAX_IMPORT_ROWS:
                raise CsvError(
                    f"The file has more than {settings.MAX_IMPORT_ROWS:,} rows; "
                    "split it into smaller files."
                )
            values = {name: "" for name in header}
            for name, cell in zip(header, record, strict=False):
                values[name] = cell.strip()
            if len(record) > len(header):
                values["__extra__"] = "yes"
            rows.append(CsvRow(line=reader.line_num, values=values))
    except csv.Error as error:
        raise CsvError(f"Line {reader.line_num} cannot be read as CSV: {error}.")
    return rows


SESSION_PREFIX = "csv-upload:"


def upload_stash(
    request: HttpRequest, *, kind: str, text: str, organization_id: int
) -> str:
    """Keep an uploaded file's text in the session until it is confirmed; its key.

    The upload belongs to the organization it was previewed in: confirming it
    after switching to another organization finds nothing.
    """
    key = secrets.token_urlsafe(12)
    # Only the latest upload of each kind is kept.
    for name in [k for k in request.session.keys() if k.startswith(SESSION_PREFIX)]:
        if request.session[name]["kind"] == kind:
            del request.session[name]
    request.session[SESSION_PREFIX + key] = {
        "kind": kind,
        "text": text,
        "organization_id": organization_id,
    }
    return key


def _matches(stashed, kind: str, organization_id: int) -> bool:
    return (
        bool(stashed)
        and stashed.get("kind") == kind
        and stashed.get("organization_id") == organization_id
    )


def upload_take(
    request: HttpRequest, *, kind: str, key: str, organization_id: int
) -> str | None:
    """The stashed text for `key`, removed from the session; None if already
    taken, or previewed in another organization (then it stays for that one)."""
    stashed = request.session.get(SESSION_PREFIX + key)
    if not _matches(stashed, kind, organization_id):
        return None
    del request.session[SESSION_PREFIX + key]
    return stashed["text"]


def upload_peek(
    request: HttpRequest, *, kind: str, key: str, organization_id: int
) -> str | None:
    stashed = request.session.get(SESSION_PREFIX + key)
    if not _matches(stashed, kind, organization_id):
        return None
    return stashed["text"]
