"""Questionnaires: copying one into an organization, editing the copy, and new
versions of frozen ones. The default questionnaires (no organization) are never
changed here, nor is a questionnaire that any study has responses for."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from surveys.audit import audit_record
from surveys.models import (
    Dimension,
    Gap,
    Item,
    MeasurementMode,
    Organization,
    Questionnaire,
    questionnaire_items_changed,
)

SCALE_POINTS_MIN = 3
SCALE_POINTS_MAX = 10


NAME_MAX = Questionnaire._meta.get_field("name").max_length


class QuestionnaireError(Exception):
    """A change that must be refused; the message is fit to show the person."""


class QuestionnaireFrozen(QuestionnaireError):
    pass


def questionnaire_problems(questionnaire: Questionnaire) -> list[str]:
    """What keeps a study from opening with this questionnaire, in plain words.

    Empty when every gap has at least one item and every item both wordings.
    """
    items = list(questionnaire.items.all())
    if not items:
        return ["The questionnaire has no items."]
    problems = []
    covered = {item.gap for item in items}
    missing = [gap.label for gap in Gap if gap.value not in covered]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"No item for the {', '.join(missing)} gap{plural}.")
    blank = [
        position
        for position, item in enumerate(items, start=1)
        if not item.internal_text.strip() or not item.customer_text.strip()
    ]
    if blank:
        problems.append(
            "Item " + ", ".join(str(p) for p in blank) + " lacks a wording "
            "(every item needs both the staff and the customer wording)."
        )
    if questionnaire.mode == MeasurementMode.EXPECTATION:
        unworded = [
            position
            for position, item in enumerate(items, start=1)
            if not item.expectation_text.strip()
        ]
        if unworded:
            problems.append(
                "Item " + ", ".join(str(p) for p in unworded) + " lacks an "
                "expectation wording (what an excellent company would do), which "
                "this questionnaire's mode asks customers to rate."
            )
    if not SCALE_POINTS_MIN <= questionnaire.scale_points <= SCALE_POINTS_MAX:
        problems.append(
            f"The scale must have between {SCALE_POINTS_MIN} and "
            f"{SCALE_POINTS_MAX} points."
        )
    return problems


def _check_editable(questionnaire: Questionnaire) -> None:
    if questionnaire.organization_id is None:
        raise QuestionnaireError(
            "The default questionnaire cannot be changed; copy it into your "
            "organization and edit the copy."
        )
    if questionnaire.is_frozen:
        raise QuestionnaireFrozen(
            "This questionnaire already has answers, so it can no longer change. "
            "Make a new version instead."
        )


def _duplicate(
    source: Questionnaire, *, organization: Organization, **fields
) -> Questionnaire:
    copy = Questionnaire.objects.create(
        organization=organization,
        name=fields.get("name", source.name),
        version=fields.get("version", 1),
        previous_version=fields.get("previous_version"),
        scale_min=source.scale_min,
        scale_max=source.scale_max,
        label_min=source.label_min,
        label_mid=source.label_mid,
        label_max=source.label_max,
        allow_dont_know=source.allow_dont_know,
        mode=fields.get("mode") or source.mode,
        ask_importance=source.ask_importance,
        ask_overall=source.ask_overall,
    )
    Item.objects.bulk_create(
        Item(
            questionnaire=copy,
            gap=item.gap,
            dimension=item.dimension,
            internal_text=item.internal_text,
            customer_text=item.customer_text,
            expectation_text=item.expectation_text,
            position=position,
        )
        for position, item in enumerate(source.items.all(), start=1)
    )
    return copy


@transaction.atomic
def questionnaire_copy(
    *,
    questionnaire: Questionnaire,
    organization: Organization,
    actor: AbstractBaseUser,
    mode: str | None = None,
) -> Questionnaire:
    """A new questionnaire of `organization` with the same scale and items, named
    "… (copy for <organization>)" (numbered when that name is taken) so that it
    is never mistaken for the one it was copied from; the name stays editable.
    `mode` sets the copy's measurement mode (default: the original's)."""
    if questionnaire.organization_id not in (None, organization.pk):
        raise QuestionnaireError("That questionnaire is not available to you.")
    _check_mode(mode)
    copy = _duplicate(
        questionnaire,
        organization=organization,
        name=_copy_name(questionnaire.name, organization),
        mode=mode,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="questionnaire_copy",
        target=copy,
        source_id=questionnaire.pk,
    )
    return copy


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in MeasurementMode.values:
        raise QuestionnaireError(
            "Choose one of the measurement modes: perception, expectation or tolerance."
        )


def _copy_name(name: str, organization: Organization) -> str:
    taken = set(
        Questionnaire.objects.filter(organization=organization).values_list(
            "name", flat=True
        )
    )
    suffix = f" (copy for {organization.name})"
    n = 1
    while True:
        candidate = name[: NAME_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1
        suffix = f" (copy {n} for {organization.name})"


@transaction.atomic
def questionnaire_new_version(
    *, questionnaire: Questionnaire, actor: AbstractBaseUser
) -> Questionnaire:
    """Copy an organization's questionnaire as its next version, to be edited."""
    if questionnaire.organization_id is None:
        raise QuestionnaireError(
            "The default questionnaire has no versions of yours; copy it instead."
        )
    latest = (
        Questionnaire.objects.filter(
            organization_id=questionnaire.organization_id, name=questionnaire.name
        ).aggregate(Max("version"))["version__max"]
        or questionnaire.version
    )
    copy = _duplicate(
        questionnaire,
        organization=questionnaire.organization,
        version=max(latest, questionnaire.version) + 1,
        previous_version=questionnaire,
    )
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="questionnaire_new_version",
        target=copy,
        previous_id=questionnaire.pk,
    )
    return copy


@transaction.atomic
def questionnaire_update(
    *,
    questionnaire: Questionnaire,
    actor: AbstractBaseUser,
    name: str,
    scale_points: int,
    label_min: str,
    label_mid: str,
    label_max: str,
    allow_dont_know: bool,
    mode: str | None = None,
    ask_importance: bool | None = None,
    ask_overall: bool | None = None,
) -> Questionnaire:
    """Change the name, the scale (1..scale_points), the measurement mode and
    the importance and overall-rating options of an editable questionnaire
    (None keeps an option as it is)."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if (
        mode is not None
        and mode != questionnaire.mode
        and questionnaire.organization_id is not None
        and questionnaire.is_frozen
    ):
        raise QuestionnaireFrozen(
            "The measurement mode cannot change: this questionnaire already has "
            f"answers given in its {questionnaire.get_mode_display().lower()} "
            "mode, and they would no longer mean what they meant. Make a new "
            "version and choose the mode there."
        )
    _check_editable(questionnaire)
    _check_mode(mode)
    if not SCALE_POINTS_MIN <= scale_points <= SCALE_POINTS_MAX:
        raise QuestionnaireError(
            f"The scale must have between {SCALE_POINTS_MIN} and "
            f"{SCALE_POINTS_MAX} points."
        )
    if not name.strip():
        raise QuestionnaireError("The questionnaire needs a name.")
    questionnaire.name = name.strip()
    questionnaire.scale_min = 1
    questionnaire.scale_max = scale_points
    questionnaire.label_min = label_min.strip()
    questionnaire.label_mid = label_mid.strip()
    questionnaire.label_max = label_max.strip()
    questionnaire.allow_dont_know = allow_dont_know
    if mode is not None:
        questionnaire.mode = mode
    if ask_importance is not None:
        questionnaire.ask_importance = ask_importance
    if ask_overall is not None:
        questionnaire.ask_overall = ask_overall
    questionnaire.save()
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="questionnaire_update",
        target=questionnaire,
        scale_points=scale_points,
        allow_dont_know=allow_dont_know,
        mode=questionnaire.mode,
    )
    return questionnaire


def _check_item_fields(
    gap: str, dimension: str, internal_text: str, customer_text: str
) -> None:
    if gap not in Gap.values:
        raise QuestionnaireError("Choose one of the five gaps.")
    if dimension and dimension not in Dimension.values:
        raise QuestionnaireError("Choose one of the service dimensions, or none.")
    if not internal_text.strip() or not customer_text.strip():
        raise QuestionnaireError(
            "Every item needs both wordings: for staff and for customers."
        )


def _renumber(questionnaire: Questionnaire, items: list[Item]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position
    Item.objects.bulk_update(items, ["position"])
    questionnaire_items_changed(questionnaire.pk)


@transaction.atomic
def item_add(
    *,
    questionnaire: Questionnaire,
    actor: AbstractBaseUser,
    gap: str,
    dimension: str,
    internal_text: str,
    customer_text: str,
    expectation_text: str = "",
) -> Item:
    """Add an item at the end of an editable questionnaire."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    _check_editable(questionnaire)
    _check_item_fields(gap, dimension, internal_text, customer_text)
    last = questionnaire.items.aggregate(Max("position"))["position__max"] or 0
    item = Item.objects.create(
        questionnaire=questionnaire,
        gap=gap,
        dimension=dimension,
        internal_text=internal_text.strip(),
        customer_text=customer_text.strip(),
        expectation_text=expectation_text.strip(),
        position=last + 1,
    )
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="item_add",
        target=questionnaire,
        item_id=item.pk,
        gap=gap,
    )
    return item


@transaction.atomic
def item_update(
    *,
    item: Item,
    actor: AbstractBaseUser,
    gap: str,
    dimension: str,
    internal_text: str,
    customer_text: str,
    expectation_text: str = "",
) -> Item:
    questionnaire = Questionnaire.objects.select_for_update().get(
        pk=item.questionnaire_id
    )
    _check_editable(questionnaire)
    _check_item_fields(gap, dimension, internal_text, customer_text)
    item.gap = gap
    item.dimension = dimension
    item.internal_text = internal_text.strip()
    item.customer_text = customer_text.strip()
    item.expectation_text = expectation_text.strip()
    item.save()
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="item_update",
        target=questionnaire,
        item_id=item.pk,
        gap=gap,
    )
    return item


@transaction.atomic
def item_remove(*, item: Item, actor: AbstractBaseUser) -> None:
    questionnaire = Questionnaire.objects.select_for_update().get(
        pk=item.questionnaire_id
    )
    _check_editable(questionnaire)
    item_id = item.pk
    item.delete()
    _renumber(questionnaire, list(questionnaire.items.all()))
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="item_remove",
        target=questionnaire,
        item_id=item_id,
    )


@transaction.atomic
def item_move(*, item: Item, direction: str, actor: AbstractBaseUser) -> None:
    """Swap an item with its neighbour above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise QuestionnaireError("An item moves up or down.")
    questionnaire = Questionnaire.objects.select_for_update().get(
        pk=item.questionnaire_id
    )
    _check_editable(questionnaire)
    items = list(questionnaire.items.all())
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    _renumber(questionnaire, items)
    audit_record(
        organization=questionnaire.organization,
        actor=actor,
        action="item_move",
        target=questionnaire,
        item_id=item.pk,
        direction=direction,
    )
