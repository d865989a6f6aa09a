"""The customer's pages, reached from the emailed link: no login, no cookie.

The token in the URL is the only credential. These views are CSRF-exempt on
purpose: a CSRF token needs a cookie, which customers must not need, and a forged
cross-site post would have to know the unguessable token anyway. Anything that does
not match an invitation is a plain 404 that says nothing about why.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from surveys.forms.answers import (
    AnswersForm,
    initial_from_answers,
    initial_from_response,
)
from surveys.models import Audience, Invitation, Study
from surveys.selectors import questionnaire_items
from surveys.services.followup import FollowUpRules
from surveys.services.invitations import (
    contact_opt_in,
    contact_opt_out,
    invitation_for_token,
    invitation_mark_opened,
)
from surveys.services.responses import (
    AlreadySubmitted,
    InvalidAnswers,
    OptedOut,
    StudyNotOpen,
    customer_draft_get,
    customer_response_save,
    response_answers,
)

MINUTES_PER_TEN_ITEMS = 2


def _invitation_or_404(token: str) -> Invitation:
    invitation = invitation_for_token(token)
    if invitation is None:
        raise Http404()
    return invitation


def _unavailable(request: HttpRequest, study: Study) -> HttpResponse:
    return render(request, "surveys/survey_unavailable.html", {"study": study})


def _opted_out(
    request: HttpRequest, invitation: Invitation, token: str, status: int = 200
) -> HttpResponse:
    """An opted-out person's link: say so, offer to opt back in, store nothing."""
    return render(
        request,
        "surveys/survey_opted_out.html",
        {"study": invitation.study, "token": token},
        status=status,
    )


def _is_opted_out(invitation: Invitation) -> bool:
    contact = invitation.contact
    return contact is not None and contact.opted_out_at is not None


def _already_answered(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    return render(
        request,
        "surveys/survey_done.html",
        {"study": invitation.study, "already": True},
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    study = invitation.study
    if invitation.responded_at is not None:
        return _already_answered(request, invitation)
    if not study.is_open:
        return _unavailable(request, study)
    if _is_opted_out(invitation):
        return _opted_out(
            request, invitation, token, status=409 if request.method == "POST" else 200
        )
    questionnaire = study.questionnaire
    items = questionnaire_items(questionnaire)
    later = request.POST.get("action") == "later"
    form_kwargs = {
        "questionnaire": questionnaire,
        "items": items,
        "audience": Audience.CUSTOMER,
        "require_all": not later,
        "organization_name": study.organization.name,
        "ask_consent": FollowUpRules.of(study).enabled,
    }
    continue_at = ""
    if request.method == "POST":
        form = AnswersForm(request.POST, **form_kwargs)
        outcome = _save(request, invitation, token, form, items, later=later)
        if outcome is not None:
            return outcome
    else:
        form = AnswersForm(initial=_draft_initial(invitation), **form_kwargs)
        continue_at = form.resume_fragment() if form.initial else ""
    # A valid submit records the opening itself, in its own transaction.
    invitation_mark_opened(invitation)
    return render(
        request,
        "surveys/survey_form.html",
        {
            "study": study,
            "organization": study.organization,
            "form": form,
            "item_count": len(items),
            "answered_count": form.answered_count,
            "minutes": max(2, round(len(items) * MINUTES_PER_TEN_ITEMS / 10)),
            "token": token,
            "saved": request.GET.get("saved") == "1",
            "continue_at": continue_at,
        },
        status=400 if request.method == "POST" else 200,
    )


def _draft_initial(invitation: Invitation) -> dict:
    draft = customer_draft_get(invitation)
    if draft is None:
        return {}
    answers = response_answers(draft)
    return (
        initial_from_answers(answers)
        | initial_from_response(draft)
        | {"comment": draft.comment}
    )


def _save(
    request: HttpRequest,
    invitation: Invitation,
    token: str,
    form: AnswersForm,
    items: list,
    *,
    later: bool,
) -> HttpResponse | None:
    """Save the posted answers: submitted, or kept for later; a submit refused only
    for unanswered questions keeps the rest too. A response to send, or None to
    show the form again (with its problems). An empty page keeps nothing."""
    if form.is_valid():
        submit = not later
    elif not later and form.only_answers_missing():
        submit = False
    else:
        return None
    answers, comment = form.cleaned_answers(), form.cleaned_data["comment"]
    allocation, overall = form.cleaned_allocation(), form.cleaned_overall()
    try:
        if submit or answers or comment or allocation or overall:
            customer_response_save(
                invitation=invitation,
                answers=answers,
                comment=comment,
                submit=submit,
                items=items,
                allocation=allocation,
                overall=overall,
                consent=form.cleaned_consent() if submit else None,
            )
            form.kept_as_draft = not submit and not later
    except AlreadySubmitted:
        return _already_answered(request, invitation)
    except OptedOut:
        return _opted_out(request, invitation, token, status=409)
    except StudyNotOpen:
        return _unavailable(request, invitation.study)
    except InvalidAnswers as error:
        form.add_error(None, str(error))
        return None
    if submit:
        return redirect("survey_thanks", token=token)
    if later:
        back_to = form.resume_fragment(request.POST.get("resume_at", ""))
        return redirect(reverse("survey", args=[token]) + "?saved=1" + back_to)
    return None


@never_cache
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    if invitation.responded_at is None:
        return redirect("survey", token=token)
    return render(
        request,
        "surveys/survey_done.html",
        {"study": invitation.study, "already": False},
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def survey_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    contact = invitation.contact
    if request.method == "POST":
        contact_opt_out(invitation=invitation)
        return render(
            request,
            "surveys/survey_opt_out.html",
            {"study": invitation.study, "done": True},
        )
    return render(
        request,
        "surveys/survey_opt_out.html",
        {
            "study": invitation.study,
            "done": False,
            "already": contact is None or contact.opted_out_at is not None,
            "token": token,
        },
    )


@csrf_exempt
@never_cache
@require_POST
def survey_opt_in(request: HttpRequest, token: str) -> HttpResponse:
    """Undo an opt-out (a POST, like the opt-out itself), then offer the survey."""
    invitation = _invitation_or_404(token)
    contact_opt_in(invitation=invitation)
    return redirect("survey", token=token)
