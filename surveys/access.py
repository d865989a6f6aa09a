"""Who may see what. Every view reaches objects through these helpers, so that
organization isolation lives in one place.

Rules: another organization's objects are a 404 (existence does not leak). A
manager page about an object (a study, a contact, ...) is a 404 for staff of the
same organization too: what a manager may see of an object is not the business of
anyone else. A manager page without an object (a list, a form for a new one)
answers 403 to staff, so they learn why.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from surveys.models import (
    Action,
    Case,
    Contact,
    Department,
    ImportJob,
    Membership,
    MembershipInvite,
    Questionnaire,
    Role,
    Segment,
    Study,
)

SESSION_KEY = "active_organization_id"


def active_membership(request: HttpRequest) -> Membership | None:
    """The membership of the organization the person is working in, if any.

    The choice is kept in the session; without one (a new login, or the chosen
    membership is gone) it is the organization the person chose last, else the
    one they joined first: never one that someone else has just added them to.
    """
    if not request.user.is_authenticated:
        return None
    cached = getattr(request, "_active_membership", False)
    if cached is not False:
        return cached
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("organization", "department")
        # For the nav's "Invitations" link, in the same query.
        .annotate(
            has_pending_invites=Exists(
                MembershipInvite.objects.filter(user_id=OuterRef("user_id"))
            )
        )
    )
    chosen = request.session.get(SESSION_KEY)
    membership = None
    if chosen is not None:
        membership = memberships.filter(organization_id=chosen).first()
    if membership is None:
        membership = memberships.order_by(
            F("last_chosen_at").desc(nulls_last=True), "created_at", "id"
        ).first()
    request._active_membership = membership
    return membership


def membership_activate(request: HttpRequest, organization_id: int) -> Membership:
    """Switch the active organization; 404 unless the person belongs to it."""
    membership = get_object_or_404(
        Membership, user=request.user, organization_id=organization_id
    )
    request.session[SESSION_KEY] = membership.organization_id
    membership.last_chosen_at = timezone.now()
    membership.save(update_fields=["last_chosen_at"])
    request._active_membership = membership
    return membership


def require_membership(request: HttpRequest) -> Membership:
    membership = active_membership(request)
    if membership is None:
        raise PermissionDenied("You are not a member of any organization.")
    return membership


def require_manager(request: HttpRequest) -> Membership:
    membership = require_membership(request)
    if membership.role != Role.MANAGER:
        raise PermissionDenied("This page is for managers.")
    return membership


def _managed_organization_id(request: HttpRequest) -> int:
    """The organization the person manages, for pages about one of its objects:
    404 for anyone else, staff of the same organization included."""
    membership = active_membership(request)
    if membership is None or membership.role != Role.MANAGER:
        raise Http404("No such page.")
    return membership.organization_id


def study_for_manager(request: HttpRequest, study_id: int) -> Study:
    """The study, if it belongs to the organization the person manages; else 404."""
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Study.objects.select_related("questionnaire", "organization"),
        pk=study_id,
        organization_id=organization_id,
    )


def study_for_staff(request: HttpRequest, study_id: int) -> Study:
    """An open or closed study of the person's organization (staff or manager)."""
    membership = require_membership(request)
    study = get_object_or_404(
        Study.objects.select_related("questionnaire", "organization"),
        pk=study_id,
        organization=membership.organization,
    )
    if study.status == Study.Status.DRAFT:
        raise Http404("No such study.")
    return study


def questionnaire_for_manager(request: HttpRequest, questionnaire_id: int):
    """A default questionnaire or one of the managed organization's own; else 404.

    The result carries `editable`: True only for the organization's own (a default
    questionnaire is never changed by managers; whether it is frozen is separate).
    """
    organization_id = _managed_organization_id(request)
    questionnaire = get_object_or_404(
        Questionnaire.objects.filter(
            Q(organization__isnull=True) | Q(organization_id=organization_id)
        ),
        pk=questionnaire_id,
    )
    questionnaire.editable = questionnaire.organization_id == organization_id
    return questionnaire


def department_for_manager(request: HttpRequest, department_id: int) -> Department:
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Department.objects.select_related("organization"),
        pk=department_id,
        organization_id=organization_id,
    )


def segment_for_manager(request: HttpRequest, segment_id: int) -> Segment:
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Segment.objects.select_related("organization"),
        pk=segment_id,
        organization_id=organization_id,
    )


def require_staff(request: HttpRequest) -> Membership:
    """The self-assessment is for staff members: managers are not respondents."""
    membership = require_membership(request)
    if membership.role != Role.STAFF:
        raise PermissionDenied("Self-assessments are for staff members.")
    return membership


def study_for_respondent(request: HttpRequest, study_id: int) -> Study:
    """An open or closed study of the organization, for its staff to answer.

    404 for another organization's study or a draft (before any role check, so
    existence does not leak); 403 for a manager of the same organization.
    """
    study = study_for_staff(request, study_id)
    require_staff(request)
    return study


def membership_for_manager(request: HttpRequest, membership_id: int) -> Membership:
    """A member of the organization the person manages; else 404."""
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Membership.objects.select_related("user", "organization", "department"),
        pk=membership_id,
        organization_id=organization_id,
    )


def contact_for_manager(request: HttpRequest, contact_id: int) -> Contact:
    """The contact, if it belongs to the organization the person manages; else 404."""
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Contact.objects.select_related("segment"),
        pk=contact_id,
        organization_id=organization_id,
    )


def action_for_manager(request: HttpRequest, action_id: int) -> Action:
    """The action, if it belongs to the organization the person manages; else 404."""
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        Action.objects.select_related("study", "organization"),
        pk=action_id,
        organization_id=organization_id,
    )


def import_job_for_manager(request: HttpRequest, job_id: int, kind: str) -> ImportJob:
    """A queued import of that kind (contacts or staff) of the organization the
    person manages; else 404."""
    organization_id = _managed_organization_id(request)
    return get_object_or_404(
        ImportJob, pk=job_id, kind=kind, organization_id=organization_id
    )


def case_for_member(request: HttpRequest, case_id: int) -> Case:
    """A follow-up case: any of the organization's for its managers, only their
    own for anyone else; 404 otherwise (existence does not leak)."""
    membership = active_membership(request)
    if membership is None:
        raise Http404("No such case.")
    cases = Case.objects.select_related(
        "study__questionnaire", "organization", "contact", "segment", "owner", "action"
    ).filter(organization_id=membership.organization_id)
    if membership.role != Role.MANAGER:
        cases = cases.filter(owner_id=membership.user_id)
    return get_object_or_404(cases, pk=case_id)
