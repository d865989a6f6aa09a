"""A streaming XLSX writer for the exports: one sheet of rows, numbers as
numbers, text as inline strings, written straight into the zip as it comes.

openpyxl's write-only mode builds a cell object per value; for the answers of
10,000 respondents (275,000 rows) that took 11 s, this takes well under one
(BENCHMARKS.md, "Exports"). What a spreadsheet needs of such a file is small:
the workbook, its one sheet and their relations (ECMA-376, SpreadsheetML).
No formula is ever written: a text cell is shown as text whatever it holds
(the exports neutralize formula-like text all the same, for the CSV's sake).
"""

import math
import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import IO
from xml.sax.saxutils import escape

MAX_SHEET_NAME = 31
# Characters XML 1.0 does not allow (a file holding one does not open).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_DROP = re.compile(r"[\[\]:*?/\\]")
# Rows are joined and written in blocks of this many.
BLOCK_ROWS = 1000

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
    "</border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" '
    'xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"


def sheet_name(title: str) -> str:
    """A valid sheet name: without []:*?/\\, at most 31 characters."""
    name = _SHEET_NAME_DROP.sub("", _ILLEGAL.sub("", title)).strip("'")
    return name[:MAX_SHEET_NAME] or "Sheet1"


def _text(value: str) -> str:
    text = escape(_ILLEGAL.sub("", value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number(value) -> str:
    return (
        f"<c><v>{value!r}</v></c>"
        if isinstance(value, float)
        else (f"<c><v>{value}</v></c>")
    )


class _Cells:
    """Cell XML per value; text repeats in the exports (groups, gaps), so
    each text is escaped once."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def __call__(self, value) -> str:
        if value is None or value == "":
            return "<c/>"
        if isinstance(value, bool):
            return f'<c t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, Decimal)):
            return _number(value)
        if isinstance(value, float):
            return _number(value) if math.isfinite(value) else "<c/>"
        value = str(value)
        found = self.texts.get(value)
        if found is None:
            found = self.texts[value] = _text(value)
        return found


def write(rows: Iterable[list], handle: IO[bytes], *, title: str) -> None:
    """The rows as a one-sheet workbook into a binary file object (written
    as they come; the sheet is compressed as it is written)."""
    cell = _Cells()
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr(
            "xl/workbook.xml", _WORKBOOK.format(name=escape(sheet_name(title)))
        )
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.encode())
            block = []
            for row in rows:
                block.append("<row>" + "".join(map(cell, row)) + "</row>")
                if len(block) >= BLOCK_ROWS:
                    sheet.write("".join(block).encode("utf-8"))
                    block.clear()
            sheet.write(("".join(block) + _SHEET_END).encode("utf-8"))
