"""Paging of the managers' lists (see templates/pagination.html)."""

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(
    request: HttpRequest, queryset: QuerySet, per_page: int, param: str = "page"
) -> tuple[Page, str]:
    """The requested page of an ordered queryset, and the request's other query
    parameters (the list's filters), for the links to the other pages. `param`
    names the page's query parameter, for pages with more than one list."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))
    others = request.GET.copy()
    others.pop(param, None)
    return page, others.urlencode()


@dataclass
class PreviewRows:
    """The rows an import preview shows: at most IMPORT_PREVIEW_ROWS of them; of a
    longer file with rejected rows, those alone (they are what needs fixing)."""

    rows: list
    hidden: int  # rows of the file not shown
    only_rejected: bool


def preview_rows(rows: list, rejected: list) -> PreviewRows:
    """A 20,000-row file previews as a page of IMPORT_PREVIEW_ROWS rows, not
    20,000 table rows; the counts above the table cover the whole file. A file
    within the cap is shown whole, in its order."""
    limit = settings.IMPORT_PREVIEW_ROWS
    if len(rows) <= limit:
        return PreviewRows(rows=rows, hidden=0, only_rejected=False)
    shown = (rejected or rows)[:limit]
    return PreviewRows(
        rows=shown, hidden=len(rows) - len(shown), only_rejected=bool(rejected)
    )
