"""Paging of the managers' lists (see templates/pagination.html)."""

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
