"""Questionnaires for managers: list, read, copy into the organization, edit the
copy (scale and items), and make a new version of a frozen one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from surveys.access import questionnaire_for_manager, require_manager
from surveys.forms.questionnaires import ItemForm, QuestionnaireSettingsForm
from surveys.models import GAP_EXPLANATIONS, Gap, Item, Questionnaire
from surveys.services import questionnaires as services
from surveys.services.questionnaires import QuestionnaireError
from surveys.services.studies import questionnaires_available

DEFAULT_NOT_EDITABLE = (
    "The default questionnaire cannot be changed; copy it into your organization "
    "and edit the copy."
)


def _own_questionnaire(request: HttpRequest, questionnaire_id: int) -> Questionnaire:
    """An organization's own questionnaire; a default one is a 403 here."""
    questionnaire = questionnaire_for_manager(request, questionnaire_id)
    if not questionnaire.editable:
        raise PermissionDenied(DEFAULT_NOT_EDITABLE)
    return questionnaire


@login_required
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    questionnaires = (
        questionnaires_available(organization)
        .annotate(item_count=Count("items", distinct=True))
        .order_by(F("organization_id").asc(nulls_first=True), "name", "-version")
    )
    return render(
        request,
        "surveys/questionnaire_list.html",
        {"questionnaires": questionnaires},
    )


def _items_by_gap(questionnaire: Questionnaire) -> list[dict]:
    items = list(questionnaire.items.all())
    return [
        {
            "gap": gap,
            "explanation": GAP_EXPLANATIONS[gap],
            "items": [item for item in items if item.gap == gap],
        }
        for gap in Gap
    ]


@login_required
def questionnaire_detail(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    questionnaire = questionnaire_for_manager(request, questionnaire_id)
    return render(
        request,
        "surveys/questionnaire_detail.html",
        {
            "questionnaire": questionnaire,
            "gaps": _items_by_gap(questionnaire),
            "problems": services.questionnaire_problems(questionnaire),
            # Only an organization's own: whether others answered the default
            # questionnaire is none of its business.
            "frozen": questionnaire.editable and questionnaire.is_frozen,
            "studies": questionnaire.studies.filter(
                organization=require_manager(request).organization
            ),
        },
    )


@login_required
@require_POST
def questionnaire_copy(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    questionnaire = questionnaire_for_manager(request, questionnaire_id)
    copy = services.questionnaire_copy(
        questionnaire=questionnaire,
        organization=require_manager(request).organization,
        actor=request.user,
    )
    messages.success(
        request, f"“{copy.name}” is now your organization's; you can edit it."
    )
    return redirect("questionnaire_edit", questionnaire_id=copy.pk)


@login_required
@require_POST
def questionnaire_new_version(
    request: HttpRequest, questionnaire_id: int
) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    copy = services.questionnaire_new_version(
        questionnaire=questionnaire, actor=request.user
    )
    messages.success(request, f"Version {copy.version} made; you can edit it.")
    return redirect("questionnaire_edit", questionnaire_id=copy.pk)


def _render_edit(
    request: HttpRequest,
    questionnaire: Questionnaire,
    settings_form: QuestionnaireSettingsForm | None = None,
    item_form: ItemForm | None = None,
) -> HttpResponse:
    frozen = questionnaire.is_frozen
    return render(
        request,
        "surveys/questionnaire_edit.html",
        {
            "questionnaire": questionnaire,
            "frozen": frozen,
            "items": list(questionnaire.items.all()),
            "problems": services.questionnaire_problems(questionnaire),
            "settings_form": settings_form
            or QuestionnaireSettingsForm(
                initial=QuestionnaireSettingsForm.initial_for(questionnaire)
            ),
            "item_form": item_form or ItemForm(prefix="new"),
        },
    )


def _refuse_if_frozen(
    request: HttpRequest, questionnaire: Questionnaire
) -> HttpResponse | None:
    """A redirect to the edit page (which offers a new version) when frozen."""
    if questionnaire.is_frozen:
        messages.error(
            request,
            "This questionnaire already has answers, so it can no longer change. "
            "Make a new version instead.",
        )
        return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
    return None


@login_required
def questionnaire_edit(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    if request.method != "POST":
        return _render_edit(request, questionnaire)
    mode = request.POST.get("mode")
    if mode and mode != questionnaire.mode and questionnaire.is_frozen:
        messages.error(
            request,
            "The measurement mode cannot change: this questionnaire already has "
            f"answers given in its {questionnaire.get_mode_display().lower()} "
            "mode. Make a new version and choose the mode there.",
        )
        return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
    if refused := _refuse_if_frozen(request, questionnaire):
        return refused
    form = QuestionnaireSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.questionnaire_update(
                questionnaire=questionnaire, actor=request.user, **form.cleaned_data
            )
        except QuestionnaireError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The scale was saved.")
            return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
    return _render_edit(request, questionnaire, settings_form=form)


@login_required
@require_POST
def item_add(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    if refused := _refuse_if_frozen(request, questionnaire):
        return refused
    form = ItemForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.item_add(
                questionnaire=questionnaire, actor=request.user, **form.cleaned_data
            )
        except QuestionnaireError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Item added at the end.")
            return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
    return _render_edit(request, questionnaire, item_form=form)


def _item(questionnaire: Questionnaire, item_id: int) -> Item:
    return get_object_or_404(Item, pk=item_id, questionnaire=questionnaire)


@login_required
def item_edit(
    request: HttpRequest, questionnaire_id: int, item_id: int
) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    item = _item(questionnaire, item_id)
    if request.method == "POST":
        if refused := _refuse_if_frozen(request, questionnaire):
            return refused
        form = ItemForm(request.POST)
        if form.is_valid():
            try:
                services.item_update(item=item, actor=request.user, **form.cleaned_data)
            except QuestionnaireError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Item saved.")
                return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
    else:
        form = ItemForm(initial=ItemForm.initial_for(item))
    return render(
        request,
        "surveys/questionnaire_item_edit.html",
        {
            "questionnaire": questionnaire,
            "item": item,
            "form": form,
            "frozen": questionnaire.is_frozen,
        },
    )


@login_required
@require_POST
def item_remove(
    request: HttpRequest, questionnaire_id: int, item_id: int
) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    item = _item(questionnaire, item_id)
    if refused := _refuse_if_frozen(request, questionnaire):
        return refused
    try:
        services.item_remove(item=item, actor=request.user)
    except QuestionnaireError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Item removed.")
    return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)


@login_required
@require_POST
def item_move(
    request: HttpRequest, questionnaire_id: int, item_id: int
) -> HttpResponse:
    questionnaire = _own_questionnaire(request, questionnaire_id)
    item = _item(questionnaire, item_id)
    if refused := _refuse_if_frozen(request, questionnaire):
        return refused
    try:
        services.item_move(
            item=item, direction=request.POST.get("direction", ""), actor=request.user
        )
    except QuestionnaireError as error:
        messages.error(request, str(error))
    return redirect("questionnaire_edit", questionnaire_id=questionnaire.pk)
