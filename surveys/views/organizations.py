from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from surveys.access import membership_activate


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the person's organizations the active one."""
    try:
        organization_id = int(request.POST.get("organization", ""))
    except ValueError:
        raise Http404("No such organization.")
    membership_activate(request, organization_id)
    return redirect("home")
