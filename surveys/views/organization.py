"""The organization settings page: name, departments, segments (managers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from surveys.access import department_for_manager, require_manager, segment_for_manager
from surveys.forms.organization import (
    BrandingForm,
    DepartmentForm,
    OrganizationForm,
    SegmentForm,
)
from surveys.models import OrganizationLogo
from surveys.services import organizations as services
from surveys.services.organizations import OrganizationError
from surveys.views.paging import paginate

GROUPS_PER_PAGE = 25

# The two "add" forms share the field prefix "new": ids of their own keep each
# label pointing at its own input.
NEW_DEPARTMENT_ID = "id_department_%s"
NEW_SEGMENT_ID = "id_segment_%s"


def _render(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    """The settings page; `bound` replaces a form by the one that failed, so what
    was typed stays on the page with its error."""
    organization = require_manager(request).organization
    # Up to MAX_DEPARTMENTS and MAX_SEGMENTS each, a form per row: paged.
    departments_page, departments_query = paginate(
        request, organization.departments.all(), GROUPS_PER_PAGE, "departments"
    )
    segments_page, segments_query = paginate(
        request, organization.segments.all(), GROUPS_PER_PAGE, "segments"
    )
    departments = list(departments_page)
    segments = list(segments_page)
    for department in departments:
        department.form = bound.get(f"department_{department.pk}") or DepartmentForm(
            prefix=f"department-{department.pk}", initial={"name": department.name}
        )
    for segment in segments:
        segment.form = bound.get(f"segment_{segment.pk}") or SegmentForm(
            prefix=f"segment-{segment.pk}",
            initial={"name": segment.name, "weight": segment.weight},
        )
    context = {
        "organization": organization,
        "organization_form": bound.get("organization")
        or OrganizationForm(initial={"name": organization.name}),
        "branding_form": bound.get("branding")
        or BrandingForm(initial={"accent_color": organization.accent_color}),
        "departments": departments,
        "segments": segments,
        "departments_page": departments_page,
        "departments_query": departments_query,
        "segments_page": segments_page,
        "segments_query": segments_query,
        "department_form": bound.get("department")
        or DepartmentForm(prefix="new", auto_id=NEW_DEPARTMENT_ID),
        "segment_form": bound.get("segment")
        or SegmentForm(prefix="new", auto_id=NEW_SEGMENT_ID),
    }
    return render(request, "surveys/organization_edit.html", context, status=status)


def _save(request: HttpRequest, form, form_key: str, save, message) -> HttpResponse:
    """Validate `form` and call `save(cleaned_data)`; on success flash
    `message(result)` and go back to the page, else show the page again with the
    form as typed and the error beside its name field."""
    if form.is_valid():
        try:
            result = save(form.cleaned_data)
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, message(result))
            return redirect("organization_edit")
    return _render(request, **{form_key: form})


@login_required
def organization_edit(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    if request.method != "POST":
        return _render(request)
    return _save(
        request,
        OrganizationForm(request.POST),
        "organization",
        lambda data: services.organization_update(
            organization=organization, name=data["name"], actor=request.user
        ),
        lambda _: "The organization's name was saved.",
    )


@login_required
@require_POST
def organization_branding(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    form = BrandingForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.organization_branding_update(
                organization=organization,
                actor=request.user,
                accent_color=form.cleaned_data["accent_color"],
                logo=form.cleaned_data["logo"],
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except services.BrandingError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, "The look of your customer pages was saved.")
            return redirect("organization_edit")
    return _render(request, status=400, branding=form)


@require_GET
def organization_logo(request: HttpRequest, key: str) -> HttpResponse:
    """An organization's logo, public (customer pages and mails show it), by the
    hash of its bytes; only ever a re-encoded PNG or JPEG, sent as one."""
    logo = OrganizationLogo.objects.filter(key=key).first()
    if logo is None:
        raise Http404()
    response = HttpResponse(bytes(logo.data), content_type=logo.content_type)
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@login_required
@require_POST
def department_add(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    return _save(
        request,
        DepartmentForm(request.POST, prefix="new", auto_id=NEW_DEPARTMENT_ID),
        "department",
        lambda data: services.department_add(
            organization=organization, name=data["name"], actor=request.user
        ),
        lambda department: f"Department “{department.name}” added.",
    )


@login_required
@require_POST
def department_rename(request: HttpRequest, department_id: int) -> HttpResponse:
    department = department_for_manager(request, department_id)
    return _save(
        request,
        DepartmentForm(request.POST, prefix=f"department-{department.pk}"),
        f"department_{department.pk}",
        lambda data: services.department_rename(
            department=department, name=data["name"], actor=request.user
        ),
        lambda _: f"Department renamed “{department.name}”.",
    )


@login_required
@require_POST
def department_remove(request: HttpRequest, department_id: int) -> HttpResponse:
    department = department_for_manager(request, department_id)
    services.department_remove(department=department, actor=request.user)
    messages.success(request, f"Department “{department.name}” removed.")
    return redirect("organization_edit")


@login_required
@require_POST
def segment_add(request: HttpRequest) -> HttpResponse:
    organization = require_manager(request).organization
    return _save(
        request,
        SegmentForm(request.POST, prefix="new", auto_id=NEW_SEGMENT_ID),
        "segment",
        lambda data: services.segment_add(
            organization=organization,
            name=data["name"],
            weight=data["weight"],
            actor=request.user,
        ),
        lambda segment: f"Segment “{segment.name}” added.",
    )


@login_required
@require_POST
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_for_manager(request, segment_id)
    return _save(
        request,
        SegmentForm(request.POST, prefix=f"segment-{segment.pk}"),
        f"segment_{segment.pk}",
        lambda data: services.segment_update(
            segment=segment,
            name=data["name"],
            weight=data["weight"],
            actor=request.user,
        ),
        lambda _: f"Segment “{segment.name}” saved.",
    )


@login_required
@require_POST
def segment_remove(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_for_manager(request, segment_id)
    services.segment_remove(segment=segment, actor=request.user)
    messages.success(request, f"Segment “{segment.name}” removed.")
    return redirect("organization_edit")
