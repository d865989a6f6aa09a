"""Managers' invitation pages: invite, list, remind, retry, response rates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from surveys.access import study_for_manager
from surveys.forms.invitations import InviteForm
from surveys.models import Invitation
from surveys.selectors import invitation_counts, invitation_failures
from surveys.services import invitations as invitations_service
from surveys.text import count
from surveys.views.paging import paginate

PAGE_SIZE = 100


def invitation_state(invitation: Invitation) -> tuple[str, str]:
    """(label, Bootstrap colour) of an invitation, for the list."""
    contact = invitation.contact
    if invitation.responded_at:
        return "Answered", "success"
    if contact is None:
        return "Contact removed", "secondary"
    if contact.opted_out_at:
        return "Opted out", "secondary"
    if invitation.failed_at:
        return "Failed", "danger"
    if invitation.opened_at:
        return "Opened", "info"
    if invitation.sent_at:
        return "Sent", "primary"
    if invitation.attempts:
        return "Retrying", "warning"
    return "Waiting to be sent", "light"


@login_required
def invitation_list(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    form = InviteForm(
        request.POST if request.method == "POST" else None,
        organization=study.organization,
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = invitations_service.invitations_create(
                study=study, actor=request.user, segment=form.cleaned_data["segment"]
            )
        except invitations_service.InvitationError as error:
            messages.error(request, str(error))
        else:
            skipped = (
                f"Skipped: {result.already_invited} already invited, "
                f"{result.opted_out} opted out."
            )
            if not result.created:
                messages.info(request, f"Nobody new to invite. {skipped}")
            else:
                note = (
                    "They are being sent."
                    if study.is_open
                    else "They will be sent when the study opens."
                )
                messages.success(
                    request,
                    f"Invited {count(result.created, 'contact')}. {note} {skipped}",
                )
        return redirect("invitation_list", study_id=study.pk)
    invitations = (
        Invitation.objects.filter(study=study)
        .select_related("contact__segment")
        .order_by("contact__email", "pk")
    )
    page, query_string = paginate(request, invitations, PAGE_SIZE)
    rows = [(invitation, *invitation_state(invitation)) for invitation in page]
    return render(
        request,
        "surveys/invitation_list.html",
        {
            "study": study,
            "form": form,
            "page": page,
            "query_string": query_string,
            "rows": rows,
            "counts": invitation_counts(study)["overall"],
            "reminders_due": invitations_service.reminders_due(study).count()
            if study.is_open
            else 0,
        },
    )


@login_required
@require_POST
def invitation_remind(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    try:
        due = invitations_service.reminders_request(study=study, actor=request.user)
    except invitations_service.InvitationError as error:
        messages.error(request, str(error))
    else:
        if due:
            messages.success(request, f"Reminding {count(due, 'non-respondent')}.")
        else:
            messages.info(
                request,
                "Nobody is due a reminder: everyone has answered, opted out, had "
                f"{count(study.max_reminders, 'reminder')}, or was mailed less than "
                f"{count(study.reminder_interval_days, 'day')} ago.",
            )
    return redirect("invitation_list", study_id=study.pk)


@login_required
@require_POST
def invitation_retry(
    request: HttpRequest, study_id: int, invitation_id: int
) -> HttpResponse:
    study = study_for_manager(request, study_id)
    invitation = get_object_or_404(Invitation, pk=invitation_id, study=study)
    try:
        invitations_service.invitation_retry(invitation=invitation, actor=request.user)
    except invitations_service.InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Sending to {invitation.contact} again.")
    return redirect("response_rates", study_id=study.pk)


@login_required
def response_rates(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    counts = invitation_counts(study)
    return render(
        request,
        "surveys/rates_panel.html",
        {
            "study": study,
            "overall": counts["overall"],
            "segments": counts["segments"],
            "failures": invitation_failures(study)[:200],
        },
    )
