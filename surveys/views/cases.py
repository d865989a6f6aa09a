"""Closing the loop: a study's follow-up rules, the case lists, a case's page and
what its owner (or a manager) does with it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from surveys.access import (
    case_for_member,
    require_manager,
    require_membership,
    study_for_manager,
)
from surveys.forms.followup import (
    CaseActionForm,
    CaseAssignForm,
    CaseFilterForm,
    CaseNoteForm,
    CaseStatusForm,
    FollowUpRulesForm,
)
from surveys.models import Case
from surveys.services import followup
from surveys.services.followup import FollowUpError
from surveys.views.paging import paginate

PER_PAGE = 50


@login_required
def followup_rules(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    form = FollowUpRulesForm(request.POST or None, study=study)
    if request.method == "POST" and form.is_valid():
        try:
            followup.followup_rules_set(
                study=study, actor=request.user, **form.values()
            )
        except FollowUpError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Follow-up rules saved.")
            return redirect("study_detail", study_id=study.pk)
    return render(
        request,
        "surveys/followup_rules.html",
        {"study": study, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _cases(queryset):
    return queryset.select_related("study", "segment", "owner").order_by(
        "status", "due_at", "id"
    )


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    form = CaseFilterForm(
        request.GET or None, organization_id=membership.organization_id
    )
    cases = followup.case_filter(
        followup.cases_visible_to(membership), **form.filters()
    )
    page, query_string = paginate(request, _cases(cases), PER_PAGE)
    return render(
        request,
        "surveys/case_list.html",
        {
            "form": form,
            "page": page,
            "query_string": query_string,
            "cases": page.object_list,
            "mine": False,
        },
    )


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    cases = followup.cases_visible_to(membership).filter(owner_id=request.user.pk)
    page, query_string = paginate(request, _cases(cases), PER_PAGE)
    return render(
        request,
        "surveys/case_list.html",
        {
            "form": None,
            "page": page,
            "query_string": query_string,
            "cases": page.object_list,
            "mine": True,
        },
    )


def _render_case(request: HttpRequest, case: Case, status: int = 200, **forms):
    membership = require_membership(request)
    context = {
        "case": case,
        "answers": followup.case_answers(case),
        "withheld": case.response_id and followup.case_answers_withheld(case),
        "comment": case.response.comment if case.response_id else "",
        "events": case.events.select_related("actor"),
        "is_manager": membership.is_manager,
        "mail_customer": followup.customer_mail_allowed(case),
        "note_form": forms.get("note_form") or CaseNoteForm(),
        "status_form": forms.get("status_form") or CaseStatusForm(),
        "assign_form": forms.get("assign_form")
        or CaseAssignForm(
            organization_id=case.organization_id,
            initial={"owner": str(case.owner_id or "")},
        ),
        "action_form": forms.get("action_form") or CaseActionForm(),
        "questionnaire": case.study.questionnaire,
    }
    return render(request, "surveys/case_detail.html", context, status=status)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_member(request, case_id)
    return _render_case(request, case)


def _done(request: HttpRequest, case: Case, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("case_detail", case_id=case.pk)


@login_required
@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_member(request, case_id)
    form = CaseNoteForm(request.POST)
    if form.is_valid():
        try:
            followup.case_note_add(
                case=case, actor=request.user, text=form.cleaned_data["text"]
            )
        except FollowUpError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, case, "Note added.")
    return _render_case(request, case, 400, note_form=form)


@login_required
@require_POST
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_member(request, case_id)
    form = CaseStatusForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["to"] == "contacted":
                followup.case_contacted(
                    case=case, actor=request.user, note=data["note"]
                )
            elif data["to"] == "resolved":
                followup.case_resolve(
                    case=case,
                    actor=request.user,
                    note=data["note"],
                    customer_note=data["customer_note"],
                )
            else:
                followup.case_close(case=case, actor=request.user, reason=data["note"])
        except FollowUpError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, case, "Case updated.")
    return _render_case(request, case, 400, status_form=form)


@login_required
@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_member(request, case_id)
    require_manager(request)
    form = CaseAssignForm(request.POST, organization_id=case.organization_id)
    if form.is_valid():
        try:
            followup.case_assign(
                case=case, actor=request.user, owner_id=int(form.cleaned_data["owner"])
            )
        except FollowUpError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, case, "Case assigned.")
    return _render_case(request, case, 400, assign_form=form)


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_member(request, case_id)
    require_manager(request)
    form = CaseActionForm(request.POST)
    if form.is_valid():
        try:
            followup.case_action_raise(
                case=case, actor=request.user, **form.cleaned_data
            )
        except FollowUpError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, case, "Action raised.")
    return _render_case(request, case, 400, action_form=form)
