from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from surveys.access import active_membership


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to where their role starts: managers to their studies,
    staff to their self-assessments."""
    membership = active_membership(request)
    if membership is None:
        if request.user.membership_invites.exists():
            return redirect("membership_invites")
        return render(request, "surveys/no_organization.html", status=200)
    target = "study_list" if membership.is_manager else "staff_home"
    try:
        return redirect(reverse(target))
    except NoReverseMatch:
        return render(request, "surveys/no_organization.html")
