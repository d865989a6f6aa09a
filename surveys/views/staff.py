"""Managers add staff; staff answer their self-assessments.

Managers never see one person's answers here: the staff list shows who is a
member, not who answered what.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from surveys.access import (
    import_job_for_manager,
    membership_activate,
    membership_for_manager,
    require_manager,
    require_staff,
    study_for_respondent,
)
from surveys.csv_upload import (
    CsvError,
    csv_rows,
    csv_text_from_upload,
    upload_peek,
    upload_stash,
    upload_take,
)
from surveys.forms.answers import (
    DONT_KNOW,
    AnswersForm,
    initial_from_answers,
    scale_choices,
)
from surveys.forms.staff import StaffAddForm, StaffImportForm
from surveys.models import (
    Audience,
    ImportJob,
    Membership,
    MembershipInvite,
    Response,
    Study,
)
from surveys.services.responses import (
    AlreadySubmitted,
    InvalidAnswers,
    StudyNotOpen,
    staff_response_get,
    staff_response_save,
)
from surveys.services.staff import (
    CSV_OPTIONAL,
    CSV_REQUIRED,
    StaffError,
    membership_invite_accept,
    membership_invite_decline,
    membership_invite_resend,
    staff_add,
    staff_import_plan,
    staff_import_start,
    staff_invite_resend,
)
from surveys.views.paging import preview_rows

IMPORT_KIND = "staff"


# --- Managers: the organization's people ---------------------------------------


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    manager = require_manager(request)
    members = (
        Membership.objects.filter(organization=manager.organization)
        .select_related("user", "department")
        .order_by("role", "user__email")
    )
    invites = MembershipInvite.objects.filter(
        organization=manager.organization
    ).select_related("department")
    # One list in one order: an invited existing account must look like a new
    # person who has not joined yet.
    rows = [
        {
            "name": m.user.get_full_name(),
            "email": m.user.email,
            "role": m.role,
            "role_display": m.get_role_display(),
            "department": m.department,
            "joined": m.user.has_usable_password(),
            "resend": reverse("staff_resend", args=[m.pk]),
            "testid": f"member-{m.pk}",
        }
        for m in members
    ] + [
        {
            "name": invite.name,
            "email": invite.email,
            "role": invite.role,
            "role_display": invite.get_role_display(),
            "department": invite.department,
            "joined": False,
            "resend": reverse("staff_invite_resend", args=[invite.pk]),
            "testid": f"invite-{invite.pk}",
        }
        for invite in invites
    ]
    rows.sort(key=lambda row: (row["role"], row["email"].lower()))
    return render(
        request,
        "surveys/staff_list.html",
        {"rows": rows, "organization": manager.organization},
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_add_view(request: HttpRequest) -> HttpResponse:
    manager = require_manager(request)
    form = StaffAddForm(request.POST or None, organization=manager.organization)
    if request.method == "POST" and form.is_valid():
        try:
            added = staff_add(
                organization=manager.organization,
                actor=request.user,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                department=form.cleaned_data["department"],
                new_department=form.cleaned_data["new_department"],
            )
        except StaffError as error:
            form.add_error("email", str(error))
        else:
            _report_added(request, [added])
            return redirect("staff_list")
    return render(request, "surveys/staff_add.html", {"form": form})


def _report_added(request: HttpRequest, added: list) -> None:
    """The same words whether or not the address had an account: this page must
    not tell a manager anything about accounts outside their organization."""
    for item in added:
        email = item.email
        if not item.mail_sent:
            messages.warning(
                request,
                f"{email} was added, but the email could not be sent. "
                "Use “Send the link again” on the staff list.",
            )
    sent = [item for item in added if item.mail_sent]
    if len(added) == 1 and sent:
        messages.success(
            request,
            f"{sent[0].email} was invited: they have been sent an email to join.",
        )


@login_required
@require_http_methods(["GET", "POST"])
def staff_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file and preview every row; nothing is written here."""
    manager = require_manager(request)
    form = StaffImportForm(request.POST or None, request.FILES or None)
    plan = key = preview = None
    if request.method == "POST" and form.is_valid():
        try:
            text = csv_text_from_upload(form.cleaned_data["file"])
            rows = csv_rows(text, required=CSV_REQUIRED, optional=CSV_OPTIONAL)
        except CsvError as error:
            form.add_error("file", str(error))
        else:
            plan = staff_import_plan(organization=manager.organization, rows=rows)
            preview = preview_rows(plan.rows, plan.rejected)
            key = upload_stash(
                request,
                kind=IMPORT_KIND,
                text=text,
                organization_id=manager.organization_id,
            )
    return render(
        request,
        "surveys/staff_import.html",
        {"form": form, "plan": plan, "key": key, "preview": preview},
    )


@login_required
@require_POST
def staff_import_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the previewed file, all or nothing; a second confirm finds nothing."""
    manager = require_manager(request)
    key = request.POST.get("key", "")
    stash = {
        "kind": IMPORT_KIND,
        "key": key,
        "organization_id": manager.organization_id,
    }
    if upload_peek(request, **stash) is None:
        messages.error(
            request,
            "There is no import waiting to be confirmed in this organization: it "
            "was already applied, has expired, or was previewed in another "
            "organization. Upload the file again if needed.",
        )
        return redirect("staff_list")
    text = upload_take(request, **stash)
    try:
        result = staff_import_start(
            organization=manager.organization, actor=request.user, text=text
        )
    except (CsvError, StaffError) as error:
        messages.error(request, str(error))
        return redirect("staff_import")
    if isinstance(result, ImportJob):
        return redirect("staff_import_status", staff_job_id=result.pk)
    messages.success(
        request,
        f"Imported: {len(result.added)} added, {result.skipped} already members.",
    )
    _report_added(request, [a for a in result.added if not a.mail_sent])
    return redirect("staff_list")


@login_required
def staff_import_status(request: HttpRequest, staff_job_id: int) -> HttpResponse:
    """A queued staff import's progress; the page refreshes itself until done."""
    job = import_job_for_manager(request, staff_job_id, ImportJob.Kind.STAFF)
    return render(request, "surveys/import_status.html", {"job": job})


@login_required
@require_POST
def staff_resend(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = membership_for_manager(request, membership_id)
    try:
        sent = staff_invite_resend(membership=membership, actor=request.user)
    except StaffError as error:
        messages.error(request, str(error))
    else:
        if sent:
            messages.success(
                request, f"A new link was sent to {membership.user.email}."
            )
        else:
            messages.warning(request, "The email could not be sent; try again later.")
    return redirect("staff_list")


@login_required
@require_POST
def staff_invite_resend_view(request: HttpRequest, invite_id: int) -> HttpResponse:
    manager = require_manager(request)
    invite = get_object_or_404(
        MembershipInvite.objects.select_related("user", "organization"),
        pk=invite_id,
        organization=manager.organization,
    )
    if membership_invite_resend(invite=invite, actor=request.user):
        messages.success(request, f"A new link was sent to {invite.user.email}.")
    else:
        messages.warning(request, "The email could not be sent; try again later.")
    return redirect("staff_list")


# --- Anyone: invitations to join an organization -----------------------------


@login_required
def membership_invites(request: HttpRequest) -> HttpResponse:
    """The person's pending invitations, to accept or decline."""
    invites = MembershipInvite.objects.filter(user=request.user).select_related(
        "organization", "invited_by"
    )
    return render(request, "surveys/membership_invites.html", {"invites": invites})


@login_required
@require_POST
def membership_invite_answer(request: HttpRequest) -> HttpResponse:
    """Accept or decline one of the person's own invitations; anyone else's is 404."""
    try:
        invite_id = int(request.POST.get("invite", ""))
    except ValueError:
        raise Http404("No such invitation.")
    invite = get_object_or_404(
        MembershipInvite.objects.select_related("organization"),
        pk=invite_id,
        user=request.user,
    )
    if request.POST.get("answer") == "accept":
        membership = membership_invite_accept(invite=invite)
        membership_activate(request, membership.organization_id)
        messages.success(request, f"You joined {membership.organization.name}.")
        return redirect("home")
    membership_invite_decline(invite=invite)
    messages.info(request, f"You declined to join {invite.organization.name}.")
    return redirect("membership_invites")


# --- Staff: their own self-assessments -------------------------------------------


def respondents_only(view):
    """Managers are not respondents (their answers would mix into the staff
    figures): a 403 that says so and points them to their own pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as denied:
            return render(
                request,
                "surveys/staff_not_respondent.html",
                {"reason": str(denied)},
                status=403,
            )

    return wrapped


@login_required
@respondents_only
def staff_home(request: HttpRequest) -> HttpResponse:
    """The person's open self-assessments and their state, and the closed ones they
    submitted (read-only)."""
    membership = require_staff(request)
    studies = (
        Study.objects.filter(organization=membership.organization)
        .exclude(status=Study.Status.DRAFT)
        .select_related("questionnaire")
        .annotate(item_count=Count("questionnaire__items", distinct=True))
    )
    responses = {
        r.study_id: r
        for r in Response.objects.filter(
            user=request.user, study__organization=membership.organization
        ).annotate(answered=Count("answers", filter=Q(answers__isnull=False)))
    }
    open_rows, closed_rows = [], []
    for study in studies:
        response = responses.get(study.pk)
        row = {"study": study, "response": response}
        if study.is_open:
            open_rows.append(row)
        elif response and response.status == Response.Status.SUBMITTED:
            closed_rows.append(row)
    return render(
        request,
        "surveys/staff_home.html",
        {"open_rows": open_rows, "closed_rows": closed_rows},
    )


@login_required
@require_http_methods(["GET", "POST"])
@respondents_only
def assessment(request: HttpRequest, study_id: int) -> HttpResponse:
    """The self-assessment form: save a draft, resume, submit once."""
    study = study_for_respondent(request, study_id)
    membership = require_staff(request)
    response = staff_response_get(study=study, membership=membership)
    submitted = response is not None and response.status == Response.Status.SUBMITTED
    if submitted or not study.is_open:
        if request.method == "POST":
            return _refused(request, study, _refusal(study, submitted))
        return _read_only(request, study, response)
    items = list(study.questionnaire.items.all())
    submit = request.POST.get("action") == "submit"
    form_kwargs = {
        "questionnaire": study.questionnaire,
        "items": items,
        "audience": Audience.INTERNAL,
        "require_all": submit,
    }
    if request.method == "GET":
        initial = {}
        if response is not None:
            answers = dict(response.answers.values_list("item_id", "value"))
            initial = initial_from_answers(answers) | {"comment": response.comment}
        form = AnswersForm(initial=initial, **form_kwargs)
        return _render_form(request, study, form, draft=response)
    form = AnswersForm(request.POST, **form_kwargs)
    if form.is_valid():
        keep = False
    elif submit and form.only_answers_missing():
        # A refused submit keeps what was answered, as the draft.
        keep, submit = True, False
    else:
        return _render_form(request, study, form)
    try:
        staff_response_save(
            study=study,
            membership=membership,
            answers=form.cleaned_answers(),
            comment=form.cleaned_data["comment"],
            submit=submit,
        )
    except InvalidAnswers as error:
        form.add_error(None, str(error))
        return _render_form(request, study, form)
    except (StudyNotOpen, AlreadySubmitted) as error:
        # The study closed, or another tab submitted, since the page was shown.
        return _refused(request, study, str(error), form=form)
    if keep:
        form.kept_as_draft = True
        return _render_form(request, study, form)
    if submit:
        messages.success(request, "Thank you: your self-assessment is submitted.")
        return redirect("assessment", study_id=study.pk)
    messages.success(
        request,
        f"Draft saved: {len(form.cleaned_answers())} of {len(items)} "
        "answered. You can come back to finish it.",
    )
    back_to = form.resume_fragment(request.POST.get("resume_at", ""))
    return redirect(reverse("assessment", args=[study.pk]) + back_to)


def _refusal(study: Study, submitted: bool) -> str:
    if submitted:
        return "You have already submitted this self-assessment: it cannot be changed."
    return "This study is closed: answers can no longer be changed."


def _render_form(
    request: HttpRequest,
    study: Study,
    form: AnswersForm,
    status: int = 200,
    draft: Response | None = None,
) -> HttpResponse:
    """The form; with the person's saved `draft`, when it was saved and a link to
    where they left off."""
    context = {"study": study, "form": form}
    if draft is not None:
        context["saved_at"] = draft.updated_at
        context["continue_at"] = form.resume_fragment()
    return render(request, "surveys/assessment_form.html", context, status=status)


def _read_only(
    request: HttpRequest, study: Study, response: Response | None, status: int = 200
) -> HttpResponse:
    rows = []
    if response is not None:
        labels = dict(scale_choices(study.questionnaire))
        values = dict(response.answers.values_list("item_id", "value"))
        for position, item in enumerate(study.questionnaire.items.all(), start=1):
            value = values.get(item.pk)
            rows.append(
                {
                    "position": position,
                    "item": item,
                    "answered": item.pk in values,
                    "label": labels.get(DONT_KNOW if value is None else str(value)),
                }
            )
    return render(
        request,
        "surveys/assessment_done.html",
        {"study": study, "response": response, "rows": rows},
        status=status,
    )


def _refused(
    request: HttpRequest, study: Study, message: str, form: AnswersForm | None = None
) -> HttpResponse:
    """A change that can no longer be made: say so (409), and show the stored
    submission, or else what the person entered, read-only."""
    messages.error(request, message)
    # Read afresh: another tab may have submitted since the request began.
    response = Response.objects.filter(study=study, user_id=request.user.pk).first()
    if response is not None and response.status == Response.Status.SUBMITTED:
        return _read_only(request, study, response, status=409)
    if form is None:
        form = AnswersForm(
            request.POST,
            questionnaire=study.questionnaire,
            items=list(study.questionnaire.items.all()),
            audience=Audience.INTERNAL,
        )
    form.answers_locked = True
    return render(
        request,
        "surveys/assessment_form.html",
        {"study": study, "form": form},
        status=409,
    )
