"""CSV and XLSX exports of the gap and item table and of the anonymized answers.

The same published snapshot and numbers as the dashboard (suppressed groups
read "fewer than N" or "hidden to protect a smaller group"; means, SDs and
comparisons rounded to 2 decimals, p to 4), and answers without names, emails,
user, invitation or response ids or times: respondents are numbered 1, 2, 3 …
in the snapshot's own random order, and respondents of a group the snapshot
does not show are left out. Text that a spreadsheet would run as a formula
(starting with =, +, -, @, tab or carriage return) is prefixed with an
apostrophe; numbers stay numbers.
"""

import io
import math
import re
import tempfile
import time
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from analysis import queries, results, stats, xlsx
from analysis.dashboard import GAP_LABELS, study_numbers
from analysis.models import ExportChunk, ExportFile
from analysis.priorities_view import asks_more
from surveys.areas import areas
from surveys.models import Item, Study
from surveys.services import snapshots
from surveys.services.snapshots import Published

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
    "q_value",
    "hedges_g",
    "hedges_g_low",
    "hedges_g_high",
    "glass_delta",
    "staff_alpha",
    "staff_alpha_n",
    "staff_alpha_low",
    "staff_alpha_high",
    "customers_alpha",
    "customers_alpha_n",
    "customers_alpha_low",
    "customers_alpha_high",
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


def _round(value, digits: int = 2):
    """A number as exported: rounded, so that no total can be worked back
    to full precision; None stays None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _side(row: dict, audience: str) -> list:
    if row[f"{audience}_suppressed"]:
        note = row[f"{audience}_note"]
        return [note, note, note]
    return [
        row[f"{audience}_n"],
        _round(row[f"{audience}_mean"]),
        _round(row[f"{audience}_sd"]),
    ]


def _comparison(row: dict) -> list:
    return [
        _round(row["delta"]),
        _round(row["ci_low"]),
        _round(row["ci_high"]),
        _round(row["p"], 4),
        _round(row.get("q"), 4),
        _round(row["g"]),
        _round(row["g_low"]),
        _round(row["g_high"]),
        _round(row["glass"]),
    ]


def _alpha(row: dict, audience: str) -> list:
    return [
        _round(row[f"{audience}_alpha"]),
        row[f"{audience}_alpha_n"],
        _round(row[f"{audience}_alpha_low"]),
        _round(row[f"{audience}_alpha_high"]),
    ]


PRIORITY_HEADER = [
    "perception_gap_n",
    "perception_gap_mean",
    "perception_gap_low",
    "perception_gap_high",
    "perception_gap_p",
    "perception_gap_dz",
    "knowledge_gap_staff_n",
    "knowledge_gap_customers_n",
    "knowledge_gap_delta",
    "knowledge_gap_low",
    "knowledge_gap_high",
    "knowledge_gap_p",
    "knowledge_gap_g",
    "importance_customers",
    "importance_staff",
    "derived_importance_r",
    "priority",
]


def _gap_d(found: dict | None) -> list:
    if not found:
        return [None] * 6
    if not found["shown"]:
        return [found["note"], *[None] * 5]
    return [
        found["n"],
        _round(found["mean"]),
        _round(found["low"]),
        _round(found["high"]),
        _round(found["p"], 4),
        _round(found["dz"]),
    ]


def _knowledge(found: dict | None) -> list:
    if not found:
        return [None] * 7
    return [
        found["internal_note"] or found["internal_n"],
        found["customer_note"] or found["customer_n"],
        _round(found["delta"]),
        _round(found["ci_low"]),
        _round(found["ci_high"]),
        _round(found["p"], 4),
        _round(found["g"]),
    ]


def _priority_cells(area: dict | None, item: dict | None, ranks: dict) -> list:
    """The columns of PRIORITY_HEADER for an area row or an item row."""
    source = area or item or {}
    importance = (area or {}).get("importance") or {}
    derived = (area or {}).get("derived") or {}
    return [
        *_gap_d(source.get("gap_d")),
        *_knowledge(source.get("knowledge")),
        _round(importance.get("customer_mean")),
        _round(importance.get("internal_mean")),
        _round(derived.get("r")) if derived.get("shown") else None,
        _round(ranks.get(area["area"]), 4) if area else None,
    ]


def gap_rows(study: Study, cut: queries.Cut, published: Published) -> Iterator[list]:
    """The header, one row per gap, the overall row, then one row per item.

    A questionnaire that asks more than the perception (or has importance or
    the overall rating) adds the columns of PRIORITY_HEADER, the items'
    perception and knowledge gaps, and a row per area (level "area"):
    within the cut, as on the dashboard."""
    results = study_numbers(study, cut, published)
    questionnaire = study.questionnaire
    more = (
        len(questionnaire.kinds) > 1
        or questionnaire.ask_importance
        or questionnaire.ask_overall
    )
    extra: dict = {}
    if more:
        from analysis.priorities_view import priorities_context

        extra = priorities_context(study, published, cut)
    if not extra.get("areas"):
        yield from _gap_rows(results)
        return
    items = {row["position"]: row for row in extra["items"]}
    ranks = {row["area"]: row["priority"] for row in extra["act_first"]}
    rows = _gap_rows(results)
    yield [*next(rows), *PRIORITY_HEADER]
    for row in rows:
        if row[0] == "item":
            yield [*row, *_priority_cells(None, items.get(row[2]), ranks)]
        else:
            yield [*row, *[None] * len(PRIORITY_HEADER)]
    for area in extra["areas"]:
        yield [
            "area",
            area["label"],
            *[None] * (len(GAP_HEADER) - 2),
            *_priority_cells(area, None, ranks),
        ]


def _gap_rows(results: dict) -> Iterator[list]:
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
            *_comparison(row),
            *_alpha(row, "internal"),
            *_alpha(row, "customer"),
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
            *_comparison(row),
            *[None] * 8,
        ]


class Safe(list):
    """A row whose cells are already safe for a spreadsheet (see
    `neutralize`): written as it is."""


class _Shown:
    """Whether the snapshot shows a unit's value of a respondent: their seq
    within the unit's cutoff and their group visible for it (one release
    read per unit and audience)."""

    def __init__(self, published: Published) -> None:
        self.published = published
        self.found: dict = {}

    def __call__(self, unit: str, audience: str, group_id, seq: int) -> bool:
        key = (unit, audience, group_id, seq)
        if key not in self.found:
            release = self.published.release(unit, audience)
            self.found[key] = seq <= release.cutoff and group_id in release.visible
        return self.found[key]


class _SafeText:
    """Text cells neutralized once per distinct text (group and gap names
    repeat on every row)."""

    def __init__(self) -> None:
        self.texts: dict = {}

    def __call__(self, value):
        if value is None:
            return None
        if value not in self.texts:
            self.texts[value] = neutralize(GAP_LABELS.get(value, value))
        return self.texts[value]


def answer_rows(study: Study, cut: queries.Cut, published: Published) -> Iterator[list]:
    """The header, then one row per answer of the respondents in the groups
    the snapshot shows; value empty for "don't know" and for answers the
    snapshot does not show yet. A questionnaire that asks more than the
    perception is written one row per respondent instead (`_wide_rows`).

    Rows come as `Safe`: the only text in them (audience, group and gap
    names) repeats, so it is neutralized once per name, not once per cell.
    """
    allowed = study_numbers(study, cut, published)["allowed"]
    if asks_more(study.questionnaire):
        yield from _wide_rows(study, cut, published, allowed)
        return
    shown = _Shown(published)
    found: dict = {}

    def answer_shown(item_id, audience, group_id, seq) -> bool:
        key = (item_id, audience, group_id, seq)
        if key not in found:
            found[key] = shown(snapshots.item_unit(item_id), audience, group_id, seq)
        return found[key]

    safe = _SafeText()
    yield ANSWER_HEADER
    for row in queries.anonymized_answers(
        study, published, cut, allowed=allowed, shown=answer_shown
    ):
        number, audience, department, segment, position, gap, value = row
        yield Safe(
            (number, safe(audience), safe(department), safe(segment), position)
            + (safe(gap), value)
        )


# The wide answers' column name of each rating kind.
KIND_COLUMNS = {"P": "perception", "E": "expectation", "A": "minimum", "D": "desired"}


def _wide_rows(
    study: Study, cut: queries.Cut, published: Published, allowed: dict
) -> Iterator[list]:
    """One row per respondent: respondent, audience, department, segment,
    then a column per item and rating kind (`q<position>_<kind>`, e.g.
    q3_expectation, q3_perception), the importance points per area
    (`importance_<area>`) when asked, the overall rating when asked. Each
    cell is empty for "don't know" and for a value the snapshot does not
    show (each item's rating kind, the allocations and the overall rating
    are released as units of their own)."""
    questionnaire = study.questionnaire
    kinds = questionnaire.kinds
    items = list(
        Item.objects.filter(questionnaire_id=questionnaire.pk)
        .order_by("position", "id")
        .values_list("pk", "position", "gap", "dimension")
    )
    columns = [(pk, kind) for pk, *_ in items for kind in kinds]
    units = {key: snapshots.item_unit(*key) for key in columns}
    area_keys = (
        [key for key, _ in areas([(gap, dim) for _, _, gap, dim in items])]
        if questionnaire.ask_importance
        else []
    )
    shown = _Shown(published)
    safe = _SafeText()
    yield [
        *ANSWER_HEADER[:4],
        *[
            f"q{position}_{KIND_COLUMNS[kind]}"
            for _, position, *_ in items
            for kind in kinds
        ],
        *[f"importance_{key}" for key in area_keys],
        *(["overall_rating"] if questionnaire.ask_overall else []),
    ]
    for (
        number,
        audience,
        group_id,
        label,
        seq,
        ratings,
        points,
        overall,
    ) in queries.anonymized_respondents(published, cut, allowed=allowed, kinds=kinds):
        internal = audience == "internal"
        row = [
            number,
            safe(audience),
            safe(label) if internal else None,
            None if internal else safe(label),
        ]
        row += [
            ratings.get(key) if shown(units[key], audience, group_id, seq) else None
            for key in columns
        ]
        if area_keys:
            allocated = points and shown(snapshots.IMPORTANCE, audience, group_id, seq)
            row += [points.get(key, 0) if allocated else None for key in area_keys]
        if questionnaire.ask_overall:
            row.append(
                overall
                if overall is not None
                and shown(snapshots.OVERALL_RATING, audience, group_id, seq)
                else None
            )
        yield Safe(row)


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


# Streamed in blocks of about this many characters: one chunk per line made
# the server's per-chunk work the bulk of a large export.
BLOCK = 64 * 1024


def _csv_blocks(rows: Iterable[list]) -> Iterator[str]:
    """The rows as CSV (`csv_cell`: safe in every locale), in blocks. Text
    cells repeat (group and gap names), so each is written once and reused."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheets read UTF-8
    texts: dict[str, str] = {}

    def cell(value) -> str:
        if value is None:
            return ""
        if type(value) is int:  # the commonest cell: nothing to neutralize
            return str(value)
        if isinstance(value, str):
            found = texts.get(value)
            if found is None:
                found = texts[value] = csv_cell(value)
            return found
        return csv_cell(value)

    for row in rows:
        buffer.write(",".join(map(cell, row)))
        buffer.write("\r\n")
        if buffer.tell() >= BLOCK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_file(rows: Iterable[list], title: str):
    """The workbook (`analysis.xlsx`: streamed, rows are not kept) in an
    anonymous temporary file (deleted when closed), rewound."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    xlsx.write(
        (
            row if isinstance(row, Safe) else [neutralize(c) for c in row]
            for row in rows
        ),
        handle,
        title=title,
    )
    handle.seek(0)
    return handle


# Stored exports are kept and served in chunks of this many bytes.
CHUNK_BYTES = 1024 * 1024


class ExportPreparing(Exception):
    """A big study's answers export that the worker is building (asked)."""


def _content(rows: Iterable[list], fmt: str, title: str) -> Iterator[bytes]:
    """The export file's bytes, as they come."""
    if fmt == "csv":
        for block in _csv_blocks(rows):
            yield block.encode("utf-8")
        return
    with _xlsx_file(rows, title=title) as handle:
        while data := handle.read(CHUNK_BYTES):
            yield data


def _rows(study: Study, cut: queries.Cut, published: Published, kind: str):
    if kind == "gaps":
        return gap_rows(study, cut, published)
    return answer_rows(study, cut, published)


def _files(published: Published, cut: queries.Cut, kind: str, fmt: str):
    return ExportFile.objects.filter(
        snapshot=published.snapshot, cut=results.cut_key(cut), kind=kind, fmt=fmt
    )


def stored_file(
    study: Study, cut: queries.Cut, published: Published, *, kind: str, fmt: str
) -> ExportFile | None:
    """The export as the worker stored it for the snapshot, if it did (under
    the study's current settings)."""
    found = _files(published, cut, kind, fmt).first()
    return found if found and found.basis == results.basis(study) else None


def export_file_build(
    study: Study, cut: queries.Cut, published: Published, *, kind: str, fmt: str
) -> ExportFile:
    """Build an export of a snapshot's cut and store it in chunks (the
    worker's job): the same bytes the download would stream."""
    started = time.perf_counter()
    with transaction.atomic():
        _files(published, cut, kind, fmt).delete()
        stored = ExportFile.objects.create(
            snapshot=published.snapshot,
            cut=results.cut_key(cut),
            kind=kind,
            fmt=fmt,
            basis=results.basis(study),
        )
        pending = bytearray()
        count = size = 0
        for data in _content(_rows(study, cut, published, kind), fmt, kind):
            pending += data
            size += len(data)
            while len(pending) >= CHUNK_BYTES:
                ExportChunk.objects.create(
                    file=stored, n=count, data=bytes(pending[:CHUNK_BYTES])
                )
                del pending[:CHUNK_BYTES]
                count += 1
        if pending or not count:
            ExportChunk.objects.create(file=stored, n=count, data=bytes(pending))
        stored.size = size
        stored.seconds = time.perf_counter() - started
        stored.save(update_fields=["size", "seconds"])
    return stored


def _chunks(stored: ExportFile) -> Iterator[bytes]:
    """A stored export, one chunk in memory at a time."""
    for pk in stored.chunks.order_by("n").values_list("pk", flat=True):
        yield bytes(ExportChunk.objects.values_list("data", flat=True).get(pk=pk))


def export_request(
    published: Published, cut: queries.Cut, *, kind: str, fmt: str
) -> None:
    """Ask the worker to build an export (once in a few minutes)."""
    from analysis.tasks import ask, export_file_build

    ask(export_file_build, published.snapshot.pk, results.cut_key(cut), kind, fmt)


def export_response(
    study: Study, cut: queries.Cut, published: Published, *, kind: str, fmt: str
) -> HttpResponse:
    """The export of the published snapshot as a download:
    `study-<id>-<kind>.<fmt>`.

    A big study's answers (`snapshots.is_big`) are served as the worker
    stored them; one not stored yet raises ExportPreparing, the worker having
    been asked for it. Everything else is written as it is sent.
    """
    rows = _rows(study, cut, published, kind)
    if kind == "answers" and snapshots.is_big(published.snapshot):
        stored = stored_file(study, cut, published, kind=kind, fmt=fmt)
        if stored is None:
            export_request(published, cut, kind=kind, fmt=fmt)
            raise ExportPreparing()
        response = StreamingHttpResponse(
            _chunks(stored), content_type=CONTENT_TYPES[fmt]
        )
        response["Content-Length"] = str(stored.size)
    elif fmt == "csv":
        response = StreamingHttpResponse(
            _csv_blocks(rows), content_type=CONTENT_TYPES["csv"]
        )
    else:
        response = FileResponse(
            _xlsx_file(rows, title=kind), content_type=CONTENT_TYPES["xlsx"]
        )
    response["Content-Disposition"] = (
        f'attachment; filename="study-{study.pk}-{kind}.{fmt}"'
    )
    return response
