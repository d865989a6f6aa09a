"""The audit log: what the managers of the organization did, newest first."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from surveys.access import require_manager
from surveys.audit import action_label
from surveys.forms.audit import AuditFilterForm
from surveys.models import AuditEvent
from surveys.views.paging import paginate

PAGE_SIZE = 50


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    events = AuditEvent.objects.filter(
        organization=membership.organization
    ).select_related("actor")
    filters = AuditFilterForm(request.GET or None)
    if (actions := filters.actions()) is not None:
        events = events.filter(action__in=actions)
    page, query_string = paginate(
        request, events.order_by("-created_at", "-id"), PAGE_SIZE
    )
    for event in page:
        event.label = action_label(event.action)
    return render(
        request,
        "surveys/audit_log.html",
        {"page": page, "filters": filters, "query_string": query_string},
    )
