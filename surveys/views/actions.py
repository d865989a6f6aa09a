"""Actions per gap: the list, add, edit, close."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from surveys.access import action_for_manager, require_manager, study_for_manager
from surveys.areas import AREA_LABELS
from surveys.forms.actions import ActionForm
from surveys.models import Action, Gap
from surveys.services.actions import action_close as close_action
from surveys.services.actions import action_create as create_action
from surveys.services.actions import action_update


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    actions = (
        Action.objects.filter(organization=membership.organization)
        .select_related("study")
        .prefetch_related("cases")
        .order_by("gap", "status", "due_on", "id")
    )
    by_gap = [
        (value, label, [a for a in actions if a.gap == value])
        for value, label in Gap.choices
    ]
    return render(request, "surveys/action_list.html", {"by_gap": by_gap})


@login_required
def action_create(request: HttpRequest, study_id: int) -> HttpResponse:
    study = study_for_manager(request, study_id)
    initial = {"gap": request.GET.get("gap")} if request.GET.get("gap") in Gap else {}
    # From "where to act first": the area it is about opens the description.
    if request.GET.get("area") in AREA_LABELS:
        initial["description"] = f"{AREA_LABELS[request.GET['area']]}: "
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        create_action(study=study, actor=request.user, **form.cleaned_data)
        messages.success(request, "Action added.")
        return redirect("dashboard", study_id=study.pk)
    return render(request, "surveys/action_form.html", {"form": form, "study": study})


@login_required
def action_edit(request: HttpRequest, action_id: int) -> HttpResponse:
    action = action_for_manager(request, action_id)
    initial = {
        field: getattr(action, field)
        for field in ("gap", "description", "owner", "due_on", "status")
    }
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        action_update(action=action, actor=request.user, **form.cleaned_data)
        messages.success(request, "Action saved.")
        return redirect("action_list")
    return render(
        request,
        "surveys/action_form.html",
        {"form": form, "study": action.study, "action": action},
    )


@login_required
@require_POST
def action_close(request: HttpRequest, action_id: int) -> HttpResponse:
    action = action_for_manager(request, action_id)
    status = request.POST.get("status", Action.Status.DONE)
    if status not in (Action.Status.DONE, Action.Status.DROPPED):
        status = Action.Status.DONE
    close_action(action=action, actor=request.user, status=status)
    messages.success(request, "Action closed.")
    return redirect("action_list")
