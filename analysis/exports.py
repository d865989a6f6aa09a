"""CSV and XLSX exports of the gap and item table and of the anonymized answers.

The same numbers as the dashboard (suppressed groups read "fewer than N"), and
answers without names, emails, user or invitation ids: respondents are
renumbered 1, 2, 3 … and respondents of a group under the minimum size are
left out. Text that a spreadsheet would run as a formula (starting with =, +,
-, @, tab or carriage return) is prefixed with an apostrophe; numbers stay
numbers.
"""

import io
import math
import re
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook

from analysis import queries, stats
from analysis.dashboard import GAP_LABELS, study_numbers
from surveys.models import Study

KINDS = ("gaps", "answers")
FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

GAP_HEADER = [
    "level",
    "gap",
    "item_position",
    "customer_statement",
    "staff_statement",
    "staff_n",
    "staff_mean",
    "staff_sd",
    "customers_n",
    "customers_mean",
    "customers_sd",
    "delta",
    "ci_low",
    "ci_high",
    "p_value",
    "hedges_g",
    "staff_alpha",
    "customers_alpha",
]
ANSWER_HEADER = [
    "respondent",
    "audience",
    "department",
    "segment",
    "item",
    "gap",
    "value",
]


def neutralize(value):
    """A cell value safe to open in a spreadsheet: formula-like text gets a
    leading apostrophe; None becomes an empty cell; numbers are left alone."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _side(row: dict, audience: str) -> list:
    if row[f"{audience}_suppressed"]:
        note = row[f"{audience}_note"]
        return [note, note, note]
    return [row[f"{audience}_n"], row[f"{audience}_mean"], row[f"{audience}_sd"]]


def gap_rows(study: Study, cut: queries.Cut) -> Iterator[list]:
    """The header, one row per gap, the overall row, then one row per item."""
    results = study_numbers(study, cut)
    yield GAP_HEADER
    for row in results["gap_table"].to_dict("records"):
        overall = row["gap"] == stats.OVERALL
        yield [
            "overall" if overall else "gap",
            "Overall" if overall else GAP_LABELS[row["gap"]],
            None,
            None,
            None,
            *_side(row, "internal"),
            *_side(row, "customer"),
            row["delta"],
            row["ci_low"],
            row["ci_high"],
            row["p"],
            row["g"],
            row["internal_alpha"],
            row["customer_alpha"],
        ]
    for row in results["item_table"].to_dict("records"):
        yield [
            "item",
            GAP_LABELS[row["gap"]],
            row["position"],
            row["customer_text"],
            row["internal_text"],
            *_side(row, "internal"),
            *_side(row, "customer"),
            row["delta"],
            row["ci_low"],
            row["ci_high"],
            row["p"],
            row["g"],
            None,
            None,
        ]


def answer_rows(study: Study, cut: queries.Cut) -> Iterator[list]:
    """The header, then one row per answer of the respondents in groups at or
    above the minimum size; value empty for "don't know"."""
    sizes = queries.group_sizes(study, cut)
    allowed = stats.allowed_groups(sizes, min_group_size=study.min_group_size)
    yield ANSWER_HEADER
    number, last = 0, None
    for (
        response_id,
        audience,
        department,
        segment,
        position,
        gap,
        value,
    ) in queries.anonymized_answers(study, cut, allowed=allowed):
        if response_id != last:
            number, last = number + 1, response_id
        yield [
            number,
            audience,
            department if audience == stats.INTERNAL else None,
            segment if audience == stats.CUSTOMER else None,
            position,
            GAP_LABELS.get(gap, gap),
            value,
        ]


# A spreadsheet may split a CSV line on any of these, depending on its locale.
CSV_SEPARATORS = ",;\t"
_CSV_QUOTE_IF = set(CSV_SEPARATORS) | {'"', "\r", "\n"}
# A formula start right after a separator (or a line break), spaces allowed:
# the cell a naive ";" or tab split would begin there.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n][ ]*)(?=[=+\-@])")


def csv_cell(value) -> str:
    """One CSV field, safe in any locale: text holding `,` `;` or a tab (or a
    quote or line break) is always quoted, and a formula start after any of
    those gets an apostrophe too, for spreadsheets that split on another
    separator than ours. Numbers are written as numbers."""
    value = neutralize(value)
    if not isinstance(value, str):
        return str(value)
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    if _CSV_QUOTE_IF.intersection(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_lines(rows: Iterable[list]) -> Iterator[str]:
    yield "\ufeff"  # so spreadsheets read UTF-8
    for row in rows:
        yield ",".join(csv_cell(cell) for cell in row) + "\r\n"


def _xlsx_bytes(rows: Iterable[list], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append([neutralize(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    study: Study, cut: queries.Cut, *, kind: str, fmt: str
) -> HttpResponse:
    """The export as a download: `study-<id>-<kind>.<fmt>`."""
    rows = gap_rows(study, cut) if kind == "gaps" else answer_rows(study, cut)
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(rows), content_type=CONTENT_TYPES["csv"]
        )
    else:
        response = HttpResponse(
            _xlsx_bytes(rows, title=kind), content_type=CONTENT_TYPES["xlsx"]
        )
    response["Content-Disposition"] = (
        f'attachment; filename="study-{study.pk}-{kind}.{fmt}"'
    )
    return response
