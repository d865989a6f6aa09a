"""Paging of the managers' lists (see templates/pagination.html)."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(
    request: HttpRequest, queryset: QuerySet, per_page: int
) -> tuple[Page, str]:
    """The requested page of an ordered queryset, and the request's other query
    parameters (the list's filters), for the links to the other pages."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()
