"""The organization settings page: name, departments, segments (managers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from surveys.access import department_for_manager, require_manager, segment_for_manager
from surveys.forms.organization import DepartmentForm, OrganizationForm, SegmentForm
from surveys.services import organizations as services
from surveys.services.organizations import OrganizationError


def _render(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    """The settings page; `bound` replaces a form by the one that failed, so what
    was typed stays on the page with its error."""
    organization = require_manager(request).organization
    departments = list(organization.departments.all())
    segments = list(organization.segments.all())
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
        "departments": departments,
        "segments": segments,
        "department_form": bound.get("department") or DepartmentForm(prefix="new"),
        "segment_form": bound.get("segment") or SegmentForm(prefix="new"),
    }
    return render(request, "surveys/organization_edit.html", context, status=status)


@login_required
def organization_edit(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    if request.method != "POST":
        return _render(request)
    form = OrganizationForm(request.POST)
    if form.is_valid():
        try:
            services.organization_update(
                organization=membership.organization,
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, "The organization's name was saved.")
            return redirect("organization_edit")
    return _render(request, organization=form)


@login_required
@require_POST
def department_add(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    form = DepartmentForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            department = services.department_add(
                organization=membership.organization,
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Department “{department.name}” added.")
            return redirect("organization_edit")
    return _render(request, department=form)


@login_required
@require_POST
def department_rename(request: HttpRequest, department_id: int) -> HttpResponse:
    department = department_for_manager(request, department_id)
    form = DepartmentForm(request.POST, prefix=f"department-{department.pk}")
    if form.is_valid():
        try:
            services.department_rename(
                department=department,
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Department renamed “{department.name}”.")
            return redirect("organization_edit")
    return _render(request, **{f"department_{department.pk}": form})


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
    membership = require_manager(request)
    form = SegmentForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            segment = services.segment_add(
                organization=membership.organization,
                name=form.cleaned_data["name"],
                weight=form.cleaned_data["weight"],
                actor=request.user,
            )
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Segment “{segment.name}” added.")
            return redirect("organization_edit")
    return _render(request, segment=form)


@login_required
@require_POST
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_for_manager(request, segment_id)
    form = SegmentForm(request.POST, prefix=f"segment-{segment.pk}")
    if form.is_valid():
        try:
            services.segment_update(
                segment=segment,
                name=form.cleaned_data["name"],
                weight=form.cleaned_data["weight"],
                actor=request.user,
            )
        except OrganizationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("organization_edit")
    return _render(request, **{f"segment_{segment.pk}": form})


@login_required
@require_POST
def segment_remove(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_for_manager(request, segment_id)
    services.segment_remove(segment=segment, actor=request.user)
    messages.success(request, f"Segment “{segment.name}” removed.")
    return redirect("organization_edit")
