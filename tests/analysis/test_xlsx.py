"""The exports' XLSX writer: a workbook spreadsheets open, every value in its
type and position, nothing a spreadsheet would run."""

import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

from openpyxl import load_workbook

from analysis import xlsx


def _written(rows, title="answers"):
    handle = io.BytesIO()
    xlsx.write(iter(rows), handle, title=title)
    handle.seek(0)
    return handle


def _read(handle):
    book = load_workbook(handle, read_only=True)
    sheet = book.worksheets[0]
    return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_values_keep_their_type_and_position():
    rows = [
        ["respondent", "audience", "value"],
        [1, "customer", 5],
        [2, None, None],
        [3, "", 2.5],
        [Decimal("4"), "staff", float("nan")],
        [True, "x", -0.125],
    ]
    title, found = _read(_written(rows))
    assert title == "answers"
    assert found == [
        ["respondent", "audience", "value"],
        [1, "customer", 5],
        [2, None, None],
        [3, None, 2.5],
        [4, "staff", None],
        [True, "x", -0.125],
    ]


def test_text_is_text_and_never_a_formula():
    rows = [["=1+1", '\'=HYPERLINK("http://x")', "<b>&amp;</b>", "  spaced  "]]
    handle = _written(rows)
    _, found = _read(handle)
    assert found == [rows[0]]
    with zipfile.ZipFile(handle) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_characters_xml_cannot_hold_are_left_out_and_every_part_parses():
    handle = _written([["bell\x07 and null\x00 and tab\t", 1]], title="a/b:c*d?[e]")
    with zipfile.ZipFile(handle) as book:
        for name in book.namelist():
            ElementTree.fromstring(book.read(name))
    title, found = _read(handle)
    assert found == [["bell and null and tab\t", 1]]
    assert title == "abcde"


def test_many_rows_stream_through():
    rows = ([n, "customer", n % 7 + 1] for n in range(1, 5001))
    _, found = _read(_written(rows))
    assert len(found) == 5000
    assert found[-1] == [5000, "customer", 5000 % 7 + 1]
