"""Writing answers: one transaction per save, nothing half-written, and a submitted
response never changes again."""

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from surveys.areas import areas
from surveys.models import (
    IMPORTANCE_POINTS,
    Allocation,
    Answer,
    Audience,
    Invitation,
    Item,
    Membership,
    RatingKind,
    Response,
    Study,
)
from surveys.selectors import questionnaire_items
from surveys.services.followup import (
    Consent,
    followup_after_submit,
    followup_may_open,
)

P = RatingKind.PERCEPTION.value
# Answers: {key: value, or None for "don't know"}, key = the item id for a
# perception rating (as before the measurement modes) or (item id, kind).
Answers = dict


class ResponseError(Exception):
    """A save that must be refused; the message is fit to show the person."""


class StudyNotOpen(ResponseError):
    pass


class AlreadySubmitted(ResponseError):
    pass


class OptedOut(ResponseError):
    """The customer opted out: nothing is stored until they opt back in."""


class InvalidAnswers(ResponseError):
    pass


def ratings_of(answers: Answers) -> dict[tuple[int, str], int | None]:
    """The answers keyed (item id, kind) whatever their form."""
    return {
        (key if isinstance(key, tuple) else (key, P)): value
        for key, value in answers.items()
    }


def response_answers(response: Response) -> Answers:
    """A response's stored answers, keyed as the services take them."""
    return {
        (item_id if kind == P else (item_id, kind)): value
        for item_id, kind, value in response.answers.values_list(
            "item_id", "kind", "value"
        )
    }


def _validate_answers(
    study: Study,
    answers: Answers,
    submit: bool,
    items: list[Item] | None = None,
) -> None:
    questionnaire = study.questionnaire
    if items is None:
        items = questionnaire_items(questionnaire)
    item_ids = {item.pk for item in items}
    ratings = ratings_of(answers)
    if {item_id for item_id, _ in ratings} - item_ids:
        raise InvalidAnswers("The answers name a question that is not in this survey.")
    kinds = questionnaire.kinds
    if any(kind not in kinds for _, kind in ratings):
        raise InvalidAnswers("The answers name a rating this survey does not ask for.")
    if any(kind != P and (item_id, P) not in ratings for item_id, kind in ratings):
        raise InvalidAnswers(
            "Every statement rated for expectations needs its perception rating too."
        )
    for value in ratings.values():
        if value is None:
            if not questionnaire.allow_dont_know:
                raise InvalidAnswers("“Don't know” is not offered in this survey.")
        elif not questionnaire.scale_min <= value <= questionnaire.scale_max:
            raise InvalidAnswers(
                f"Answers must be between {questionnaire.scale_min} and "
                f"{questionnaire.scale_max}."
            )
    if submit and set(ratings) != {(pk, kind) for pk in item_ids for kind in kinds}:
        raise InvalidAnswers("Every question needs an answer before you submit.")


def _validate_extras(
    study: Study,
    audience: str,
    allocation: dict[str, int] | None,
    overall: int | None,
    submit: bool,
    items: list[Item] | None = None,
) -> None:
    """The importance allocation and the overall rating, when the
    questionnaire asks for them: all the areas' points, whole, not negative,
    totalling IMPORTANCE_POINTS; the overall rating (customers only) on the
    scale."""
    questionnaire = study.questionnaire
    if allocation:
        if not questionnaire.ask_importance:
            raise InvalidAnswers("This survey does not ask how important things are.")
        if items is None:
            items = questionnaire_items(questionnaire)
        keys = {key for key, _ in areas(items)}
        if set(allocation) != keys:
            raise InvalidAnswers("The points name an area that is not in this survey.")
        if any(
            not isinstance(points, int) or isinstance(points, bool) or points < 0
            for points in allocation.values()
        ):
            raise InvalidAnswers(
                f"Points are whole numbers from 0 to {IMPORTANCE_POINTS}."
            )
        if sum(allocation.values()) != IMPORTANCE_POINTS:
            raise InvalidAnswers(
                f"The points must add up to exactly {IMPORTANCE_POINTS}."
            )
    elif submit and questionnaire.ask_importance:
        raise InvalidAnswers(
            f"Please spread {IMPORTANCE_POINTS} points before you submit."
        )
    if overall is not None:
        if not questionnaire.ask_overall or audience != Audience.CUSTOMER:
            raise InvalidAnswers("This survey does not ask for an overall rating.")
        if not questionnaire.scale_min <= overall <= questionnaire.scale_max:
            raise InvalidAnswers(
                f"Answers must be between {questionnaire.scale_min} and "
                f"{questionnaire.scale_max}."
            )


def _write_extras(
    response: Response,
    allocation: dict[str, int] | None,
    overall: int | None,
    *,
    replace: bool = True,
) -> None:
    if replace:
        Allocation.objects.filter(response=response).delete()
    if allocation:
        Allocation.objects.bulk_create(
            Allocation(response=response, area=area, points=points)
            for area, points in allocation.items()
        )
    response.overall_rating = overall


# Answers per INSERT statement (4 parameters each: far below any database's
# limit on parameters; a questionnaire's answers fit in one statement).
ANSWERS_PER_INSERT = 500


def _write_answers(
    response: Response, answers: Answers, *, replace: bool = True
) -> None:
    """Store a response's answers: one multi-row INSERT written here rather
    than by bulk_create, which built and compiled a model instance per answer
    on every submit (the constraints of the table check every row all the
    same)."""
    if replace:
        Answer.objects.filter(response=response).delete()
    rows = [
        (response.pk, item_id, kind, value)
        for (item_id, kind), value in ratings_of(answers).items()
    ]
    if not rows:
        return
    connection = connections[router.db_for_write(Answer)]
    ops = connection.ops
    table = ops.quote_name(Answer._meta.db_table)
    columns = ", ".join(
        ops.quote_name(Answer._meta.get_field(name).column)
        for name in ("response", "item", "kind", "value")
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ANSWERS_PER_INSERT):
            chosen = rows[start : start + ANSWERS_PER_INSERT]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chosen))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}",  # noqa: S608
                [value for row in chosen for value in row],
            )


def staff_response_get(*, study: Study, membership: Membership) -> Response | None:
    return Response.objects.filter(study=study, user_id=membership.user_id).first()


@transaction.atomic
def staff_response_save(
    *,
    study: Study,
    membership: Membership,
    answers: Answers,
    comment: str = "",
    submit: bool,
    allocation: dict[str, int] | None = None,
) -> Response:
    """Save a staff member's draft, or submit it.

    Input: {item_id: value, or None for "don't know"} for the answered items.
    Raises StudyNotOpen, AlreadySubmitted, OptedOut or InvalidAnswers; then
    nothing is written.
    """
    study = (
        Study.objects.select_for_update(of=("self",))
        .select_related("questionnaire")
        .get(pk=study.pk)
    )
    if not study.is_open:
        raise StudyNotOpen("This study is closed: answers can no longer be changed.")
    _validate_answers(study, answers, submit)
    _validate_extras(study, Audience.INTERNAL, allocation, None, submit)
    now = timezone.now()
    try:
        with transaction.atomic():
            response, _ = Response.objects.get_or_create(
                study=study,
                user_id=membership.user_id,
                defaults={"audience": Audience.INTERNAL, "created_at": now},
            )
    except IntegrityError:
        # Two first saves raced: the other one created the row.
        response = Response.objects.get(study=study, user_id=membership.user_id)
    response = Response.objects.select_for_update().get(pk=response.pk)
    if response.status == Response.Status.SUBMITTED:
        raise AlreadySubmitted("You have already submitted this self-assessment.")
    _write_answers(response, answers)
    _write_extras(response, allocation, None)
    response.comment = comment
    response.updated_at = now
    response.department_id = membership.department_id
    if submit:
        response.status = Response.Status.SUBMITTED
        response.submitted_at = now
    response.save()
    return response


def customer_draft_get(invitation: Invitation) -> Response | None:
    """The customer's saved, not yet submitted answers, if any."""
    return Response.objects.filter(
        invitation=invitation, status=Response.Status.DRAFT
    ).first()


def customer_response_save(
    *,
    invitation: Invitation,
    answers: Answers,
    comment: str = "",
    submit: bool,
    items: list[Item] | None = None,
    allocation: dict[str, int] | None = None,
    overall: int | None = None,
    consent: Consent | None = None,
) -> Response:
    """Keep a customer's answers against their invitation, as a draft, or submit them.

    A draft is never counted anywhere (every result reads submitted responses only)
    and goes with the contact when it is erased or deleted; reopening the link
    continues it. Exactly one response survives per invitation, however many saves
    race. Raises StudyNotOpen, AlreadySubmitted, OptedOut or InvalidAnswers;
    then nothing is written. `items` are the questionnaire's (read when not given).

    A first submit (the link read with no draft behind it) takes three
    statements: claim the invitation, insert the response, insert its answers.
    Anything else (a draft to replace, a refusal to explain, a draft saved in
    between) goes the locked way. A submit with the customer's `consent` to be
    contacted (None: not given) on a study that follows up may open a case: then
    in the response's own transaction, so that both commit at once and no
    snapshot ever takes in the response without its case.
    """
    if items is None:
        items = questionnaire_items(invitation.study.questionnaire)
    extras = {"allocation": allocation, "overall": overall}
    if not (submit and followup_may_open(invitation, consent)):
        return _customer_save(invitation, answers, comment, submit, items, extras)
    with transaction.atomic():
        response = _customer_save(invitation, answers, comment, submit, items, extras)
        followup_after_submit(
            response=response,
            invitation=invitation,
            # The perception ratings (keyed by item id): what the rules read.
            answers={k: v for k, v in answers.items() if not isinstance(k, tuple)},
            items=items,
            consent=consent,
        )
    return response


def _customer_save(
    invitation: Invitation,
    answers: Answers,
    comment: str,
    submit: bool,
    items: list[Item],
    extras: dict,
) -> Response:
    if submit and _first_submit_possible(invitation):
        study = invitation.study
        _validate_answers(study, answers, submit=True, items=items)
        _validate_extras(study, Audience.CUSTOMER, **extras, submit=True, items=items)
        try:
            response = _submit_first(invitation, answers, comment, **extras)
        except IntegrityError:
            # A draft was saved (another tab) since the link was read.
            response = None
        if response is not None:
            return response
    return _save_locked(
        invitation=invitation,
        answers=answers,
        comment=comment,
        submit=submit,
        items=items,
        **extras,
    )


def _first_submit_possible(invitation: Invitation) -> bool:
    """Whether the invitation, as read, may be claimed by a first submit: open,
    not answered or opted out, and read with its response, which it had not."""
    contact = invitation.contact
    if (
        not invitation.study.is_open
        or invitation.responded_at is not None
        or (contact is not None and contact.opted_out_at is not None)
        or not Invitation.response.is_cached(invitation)
    ):
        return False
    try:
        invitation.response  # noqa: B018 - cached: no query
    except Response.DoesNotExist:
        return True
    return False


@transaction.atomic
def _submit_first(
    invitation: Invitation,
    answers: Answers,
    comment: str,
    *,
    allocation: dict[str, int] | None,
    overall: int | None,
) -> Response | None:
    """Submit on a link that had no draft when it was read; None when the claim
    fails (answered meanwhile: the locked way explains).

    The conditional update is the lock: a second submit on the token waits for
    this transaction, then finds it answered. It names the invitation's own
    columns only, so PostgreSQL re-checks them on the row it waited for."""
    now = timezone.now()
    if not _claim(invitation, now):
        return None
    response = Response.objects.create(
        study_id=invitation.study_id,
        audience=Audience.CUSTOMER,
        invitation=invitation,
        segment_id=invitation.contact.segment_id if invitation.contact else None,
        status=Response.Status.SUBMITTED,
        comment=comment,
        overall_rating=overall,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )
    _write_answers(response, answers, replace=False)
    if allocation:
        _write_extras(response, allocation, overall, replace=False)
    return response


def _claim(invitation: Invitation, now) -> bool:
    """Mark the invitation answered (and opened, if it was not) unless it is
    answered already: whether this call did. The statement is written here,
    not compiled by the ORM on every submit."""
    connection = connections[router.db_for_write(Invitation)]
    ops = connection.ops
    meta = Invitation._meta
    column = {
        name: ops.quote_name(meta.get_field(name).column)
        for name in ("responded_at", "opened_at")
    }
    when = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ops.quote_name(meta.db_table)} "  # noqa: S608
            f"SET {column['responded_at']} = %s, "
            f"{column['opened_at']} = COALESCE({column['opened_at']}, %s) "
            f"WHERE {ops.quote_name(meta.pk.column)} = %s "
            f"AND {column['responded_at']} IS NULL",
            [when, when, invitation.pk],
        )
        return cursor.rowcount == 1


@transaction.atomic
def _save_locked(
    *,
    invitation: Invitation,
    answers: Answers,
    comment: str,
    submit: bool,
    items: list[Item],
    allocation: dict[str, int] | None,
    overall: int | None,
) -> Response:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("study__questionnaire", "contact")
        .get(pk=invitation.pk)
    )
    study = invitation.study
    if not study.is_open:
        raise StudyNotOpen("This survey is closed.")
    if invitation.responded_at is not None:
        raise AlreadySubmitted("This survey has already been answered. Thank you!")
    if invitation.contact is not None and invitation.contact.opted_out_at is not None:
        raise OptedOut("You opted out of these surveys.")
    _validate_answers(study, answers, submit=submit, items=items)
    _validate_extras(study, Audience.CUSTOMER, allocation, overall, submit, items)
    now = timezone.now()
    # The invitation's row lock serializes saves of one token, so the draft found
    # here is the only one; the unique constraint on the response's invitation is
    # the last word all the same. Nothing is written before this insert, and the
    # error leaves the whole transaction, so no savepoint is needed.
    response = Response.objects.filter(invitation=invitation).first()
    if response is None:
        try:
            response = Response.objects.create(
                study=study,
                audience=Audience.CUSTOMER,
                invitation=invitation,
                created_at=now,
            )
        except IntegrityError:
            raise AlreadySubmitted("This survey has already been answered. Thank you!")
    elif response.status == Response.Status.SUBMITTED:
        raise AlreadySubmitted("This survey has already been answered. Thank you!")
    _write_answers(response, answers)
    _write_extras(response, allocation, overall)
    response.comment = comment
    response.updated_at = now
    response.segment_id = invitation.contact.segment_id if invitation.contact else None
    if submit:
        response.status = Response.Status.SUBMITTED
        response.submitted_at = now
    response.save()
    if submit:
        invitation.responded_at = now
    if invitation.opened_at is None:
        invitation.opened_at = now
    invitation.save(update_fields=["responded_at", "opened_at"])
    return response


def customer_response_submit(
    *,
    invitation: Invitation,
    answers: Answers,
    comment: str = "",
    allocation: dict[str, int] | None = None,
    overall: int | None = None,
) -> Response:
    """Record a customer's complete answers; see customer_response_save."""
    return customer_response_save(
        invitation=invitation,
        answers=answers,
        comment=comment,
        submit=True,
        allocation=allocation,
        overall=overall,
    )


def customer_drafts_delete(invitations) -> int:
    """Delete the unsubmitted answers given through these invitations (a queryset
    or ids): a draft was never counted, so it goes with the person. How many."""
    deleted, _ = Response.objects.filter(
        invitation__in=invitations, status=Response.Status.DRAFT
    ).delete()
    return deleted
