"""Writing answers: one transaction per save, nothing half-written, and a submitted
response never changes again."""

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from surveys.models import (
    Answer,
    Audience,
    Invitation,
    Item,
    Membership,
    Response,
    Study,
)
from surveys.selectors import questionnaire_items
from surveys.services.followup import (
    Consent,
    followup_after_submit,
    followup_may_open,
)


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


def _validate_answers(
    study: Study,
    answers: dict[int, int | None],
    submit: bool,
    items: list[Item] | None = None,
) -> None:
    questionnaire = study.questionnaire
    if items is None:
        items = questionnaire_items(questionnaire)
    item_ids = {item.pk for item in items}
    if set(answers) - item_ids:
        raise InvalidAnswers("The answers name a question that is not in this survey.")
    for value in answers.values():
        if value is None:
            if not questionnaire.allow_dont_know:
                raise InvalidAnswers("“Don't know” is not offered in this survey.")
        elif not questionnaire.scale_min <= value <= questionnaire.scale_max:
            raise InvalidAnswers(
                f"Answers must be between {questionnaire.scale_min} and "
                f"{questionnaire.scale_max}."
            )
    if submit and set(answers) != item_ids:
        raise InvalidAnswers("Every question needs an answer before you submit.")


def _write_answers(
    response: Response, answers: dict[int, int | None], *, replace: bool = True
) -> None:
    if replace:
        Answer.objects.filter(response=response).delete()
    Answer.objects.bulk_create(
        Answer(response=response, item_id=item_id, value=value)
        for item_id, value in answers.items()
    )


def staff_response_get(*, study: Study, membership: Membership) -> Response | None:
    return Response.objects.filter(study=study, user_id=membership.user_id).first()


@transaction.atomic
def staff_response_save(
    *,
    study: Study,
    membership: Membership,
    answers: dict[int, int | None],
    comment: str = "",
    submit: bool,
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
    answers: dict[int, int | None],
    comment: str = "",
    submit: bool,
    items: list[Item] | None = None,
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
    if not (submit and followup_may_open(invitation, consent)):
        return _customer_save(invitation, answers, comment, submit, items)
    with transaction.atomic():
        response = _customer_save(invitation, answers, comment, submit, items)
        followup_after_submit(
            response=response,
            invitation=invitation,
            answers=answers,
            items=items,
            consent=consent,
        )
    return response


def _customer_save(
    invitation: Invitation,
    answers: dict[int, int | None],
    comment: str,
    submit: bool,
    items: list[Item],
) -> Response:
    if submit and _first_submit_possible(invitation):
        _validate_answers(invitation.study, answers, submit=True, items=items)
        try:
            response = _submit_first(invitation, answers, comment)
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
    invitation: Invitation, answers: dict[int, int | None], comment: str
) -> Response | None:
    """Submit on a link that had no draft when it was read; None when the claim
    fails (answered meanwhile: the locked way explains).

    The conditional update is the lock: a second submit on the token waits for
    this transaction, then finds it answered. It names the invitation's own
    columns only, so PostgreSQL re-checks them on the row it waited for."""
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, responded_at__isnull=True
    ).update(responded_at=now, opened_at=Coalesce("opened_at", Value(now)))
    if not claimed:
        return None
    response = Response.objects.create(
        study_id=invitation.study_id,
        audience=Audience.CUSTOMER,
        invitation=invitation,
        segment_id=invitation.contact.segment_id if invitation.contact else None,
        status=Response.Status.SUBMITTED,
        comment=comment,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )
    _write_answers(response, answers, replace=False)
    return response


@transaction.atomic
def _save_locked(
    *,
    invitation: Invitation,
    answers: dict[int, int | None],
    comment: str,
    submit: bool,
    items: list[Item],
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
    answers: dict[int, int | None],
    comment: str = "",
) -> Response:
    """Record a customer's complete answers; see customer_response_save."""
    return customer_response_save(
        invitation=invitation, answers=answers, comment=comment, submit=True
    )


def customer_drafts_delete(invitations) -> int:
    """Delete the unsubmitted answers given through these invitations (a queryset
    or ids): a draft was never counted, so it goes with the person. How many."""
    deleted, _ = Response.objects.filter(
        invitation__in=invitations, status=Response.Status.DRAFT
    ).delete()
    return deleted
