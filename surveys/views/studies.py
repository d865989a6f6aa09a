"""Studies for managers: the list, create and edit a draft, open, close, reopen,
and the study page — the hub of the cycle."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from surveys.access import require_manager, study_for_manager
from surveys.forms.studies import StudyForm, StudyReopenForm
from surveys.models import (
    Action,
    Audience,
    Case,
    Invitation,
    Study,
)
from surveys.services import studies as services
from surveys.services.followup import FollowUpRules
from surveys.services.questionnaires import questionnaire_problems
from surveys.services.snapshots import published
from surveys.services.studies import StudyError


@login_required
def study_list(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    return render(
        request,
        "surveys/study_list.html",
        {"studies": services.studies_with_counts(organization)},
    )


@login_required
def study_create(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    form = StudyForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except StudyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Study “{study.name}” created as a draft.")
            return redirect("study_detail", study_id=study.pk)
    return render(request, "surveys/study_form.html", {"form": form, "study": None})


@login_required
def study_edit(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    if study.status != Study.Status.DRAFT:
        messages.error(request, "Only a draft study can be edited.")
        return redirect("study_detail", study_id=study.pk)
    form = StudyForm(
        request.POST or None,
        organization=study.organization,
        study=study,
        initial=StudyForm.initial_for(study),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.study_update(study=study, actor=request.user, **form.cleaned_data)
        except StudyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The study was saved.")
            return redirect("study_detail", study_id=study.pk)
    return render(request, "surveys/study_form.html", {"form": form, "study": study})


def _progress(study: Study) -> dict:
    """What the hub shows: counts for each step of the cycle."""
    state = published(study)
    invitations = Invitation.objects.filter(study=study)
    people = services.study_people(study)
    return {
        "problems": questionnaire_problems(study.questionnaire),
        "nobody_to_ask": services.study_nobody_to_ask(people),
        "item_count": study.questionnaire.items.count(),
        "staff_total": people["staff"],
        "contact_total": people["contacts"],
        # As published: in steps of at least the minimum group size, never
        # one person at a time; None below it.
        "staff_answered": state.answered(Audience.INTERNAL),
        "customers_answered": state.answered(Audience.CUSTOMER),
        "waiting": state.waiting,
        "fewer": f"fewer than {study.min_group_size}",
        "invited": invitations.count(),
        "action_count": Action.objects.filter(study=study).count(),
    }


def _count(answered: int | None, study: Study) -> str:
    return f"fewer than {study.min_group_size}" if answered is None else str(answered)


def _steps(study: Study, progress: dict) -> tuple[dict[str, str], str]:
    """Each step's state ("done", "current" or "todo") and what to do next."""
    ready = not progress["problems"]
    prepared = ready and not progress["nobody_to_ask"]
    if study.status == Study.Status.DRAFT:
        steps = {
            "prepare": "done" if prepared else "current",
            "open": "current" if prepared else "todo",
            "collect": "todo",
            "read": "todo",
            "act": "todo",
        }
        missing = [
            name
            for name, count in (
                ("staff", progress["staff_total"]),
                ("customer contacts", progress["contact_total"]),
            )
            if not count
        ]
        if not ready:
            upcoming = "make the questionnaire ready (see below), then open the study."
        elif missing:
            upcoming = f"add {' and '.join(missing)}, then open the study."
        else:
            upcoming = "open the study so staff and customers can answer."
    elif study.status == Study.Status.OPEN:
        steps = dict.fromkeys(("prepare", "open"), "done")
        steps.update(collect="current", read="todo", act="todo")
        upcoming = (
            f"collect answers: {_count(progress['staff_answered'], study)} of "
            f"{progress['staff_total']} staff have answered so far."
        )
    else:
        acted = progress["action_count"] > 0
        steps = dict.fromkeys(("prepare", "open", "collect"), "done")
        steps.update(
            read="done" if acted else "current", act="current" if acted else "todo"
        )
        upcoming = (
            "follow up the actions you recorded."
            if acted
            else "read the gaps and decide what to do about them."
        )
    return steps, upcoming


def _render_detail(
    request: HttpRequest, study: Study, reopen_form: StudyReopenForm | None = None
) -> HttpResponse:
    progress = _progress(study)
    steps, upcoming = _steps(study, progress)
    return render(
        request,
        "surveys/study_detail.html",
        {
            "study": study,
            "progress": progress,
            "steps": steps,
            "next_step": upcoming,
            "open_problems": services.study_open_problems(study)
            if study.status == Study.Status.DRAFT
            else [],
            "reopen_form": reopen_form or StudyReopenForm(),
            "followup": FollowUpRules.of(study),
            "open_cases": study.cases.filter(
                status__in=[Case.Status.NEW, Case.Status.CONTACTED]
            ).count(),
        },
    )


@login_required
def study_detail(request: HttpRequest, study_id: int) -> HttpResponse:
    return _render_detail(request, study_for_manager(request, study_id))


@login_required
@require_POST
def study_open(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    nobody = services.study_nobody_to_ask(services.study_people(study))
    if nobody and request.POST.get("confirm") != "yes":
        return render(
            request,
            "surveys/study_open_confirm.html",
            {"study": study, "nobody": nobody},
        )
    try:
        services.study_open(study=study, actor=request.user)
    except StudyError as error:
        messages.error(request, f"The study cannot open yet. {error}")
    else:
        messages.success(request, "The study is open for answers.")
    return redirect("study_detail", study_id=study.pk)


@login_required
@require_POST
def study_close(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    try:
        services.study_close(study=study, actor=request.user)
    except StudyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The study is closed: no more answers are taken.")
    return redirect("study_detail", study_id=study.pk)


@login_required
@require_POST
def study_reopen(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    form = StudyReopenForm(request.POST)
    if form.is_valid():
        try:
            services.study_reopen(
                study=study,
                closes_on=form.cleaned_data["closes_on"],
                actor=request.user,
            )
        except StudyError as error:
            messages.error(request, str(error))
            return redirect("study_detail", study_id=study.pk)
        else:
            until = form.cleaned_data["closes_on"]
            messages.success(
                request, f"The study is open again until {until:%d %B %Y}."
            )
            return redirect("study_detail", study_id=study.pk)
    return _render_detail(request, study, reopen_form=form)
