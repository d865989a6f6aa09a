"""Managers' contacts pages: list, add, edit, remove, CSV import, and the data
rights: export everything held about a contact, erase a contact."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from surveys.access import (
    contact_for_manager,
    import_job_for_manager,
    require_manager,
)
from surveys.csv_upload import CsvError, csv_text_from_upload, upload_stash, upload_take
from surveys.forms.contacts import ContactFilterForm, ContactForm, ContactImportForm
from surveys.models import Contact, ImportJob
from surveys.services import contacts as contacts_service
from surveys.services import rights as rights_service
from surveys.text import count
from surveys.views.paging import paginate, preview_rows

IMPORT_KIND = "contacts"
PAGE_SIZE = 50


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    organization = membership.organization
    contacts = Contact.objects.filter(organization=organization).select_related(
        "segment"
    )
    filters = ContactFilterForm(request.GET or None, organization=organization)
    if filters.is_valid():
        if query := filters.cleaned_data["q"].strip():
            contacts = contacts.filter(
                Q(email__icontains=query) | Q(name__icontains=query)
            )
        if segment := filters.cleaned_data["segment"]:
            contacts = contacts.filter(segment=segment)
    page, query_string = paginate(request, contacts.order_by("email"), PAGE_SIZE)
    return render(
        request,
        "surveys/contact_list.html",
        {
            "page": page,
            "filters": filters,
            "query_string": query_string,
            "total": Contact.objects.filter(organization=organization).count(),
        },
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        organization=membership.organization,
        submit_label="Add contact",
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = contacts_service.contact_create(
                organization=membership.organization,
                actor=request.user,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                segment_name=form.cleaned_data["segment"],
            )
        except contacts_service.ContactError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Added {contact.email}.")
            return redirect("contact_list")
    return render(
        request, "surveys/contact_form.html", {"form": form, "title": "Add a contact"}
    )


@login_required
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_for_manager(request, contact_id)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        organization=contact.organization,
        submit_label="Save",
        initial={
            "email": contact.email,
            "name": contact.name,
            "segment": contact.segment.name if contact.segment else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            contacts_service.contact_update(
                contact=contact,
                actor=request.user,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                segment_name=form.cleaned_data["segment"],
            )
        except contacts_service.ContactError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Saved {contact.email}.")
            return redirect("contact_list")
    return render(
        request,
        "surveys/contact_form.html",
        {
            "form": form,
            "title": f"Edit {contact.email}",
            "contact": contact,
            "data_exports": contact.data_exports.all()[:10],
        },
    )


@login_required
@require_POST
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_for_manager(request, contact_id)
    email = contact.email
    contacts_service.contact_delete(contact=contact, actor=request.user)
    messages.success(request, f"Removed {email}. Answers already given are kept.")
    return redirect("contact_list")


@login_required
@require_GET
@never_cache
def contact_export(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A contact's identity and invitation history, as a JSON download
    (audit-logged); never their answers or comment."""
    contact = contact_for_manager(request, contact_id)
    data = rights_service.contact_export(contact=contact, actor=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="contact-{contact.pk}.json"'
    )
    return response


@login_required
@require_POST
def contact_export_mail(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Mail the contact a single-use link to their own data, answers included."""
    contact = contact_for_manager(request, contact_id)
    rights_service.data_export_request(contact=contact, actor=request.user)
    messages.success(
        request,
        f"A link to their data is being mailed to {contact.email}. It works once "
        "and for 7 days; only they receive their answers.",
    )
    return redirect("contact_edit", contact_id=contact.pk)


@login_required
@require_GET
def contact_erase_confirm(request: HttpRequest, contact_id: int) -> HttpResponse:
    """What erasing the contact will remove and keep; the button posts."""
    contact = contact_for_manager(request, contact_id)
    return render(
        request,
        "surveys/contact_erase.html",
        {"contact": contact, "plan": rights_service.contact_erase_plan(contact)},
    )


@login_required
@require_POST
def contact_erase(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_for_manager(request, contact_id)
    plan = rights_service.contact_erase(contact=contact, actor=request.user)
    # The message names no address: it would be stored until shown.
    messages.success(
        request,
        f"Contact erased: {count(plan.invitations, 'invitation')} deleted; "
        f"{count(plan.responses_kept, 'response')} kept without any link to the "
        f"person ({count(plan.comments_removed, 'comment')} removed).",
    )
    return redirect("contact_list")


@login_required
def contact_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV and see what it would do; nothing is written yet."""
    membership = require_manager(request)
    if request.method == "POST":
        form = ContactImportForm(request.POST, request.FILES)
    else:
        form = ContactImportForm()
    plan = key = None
    if request.method == "POST" and form.is_valid():
        try:
            text = csv_text_from_upload(form.cleaned_data["file"])
            plan = contacts_service.contacts_import_plan(
                organization=membership.organization, text=text
            )
        except CsvError as error:
            form.add_error("file", str(error))
        else:
            if plan.can_apply:
                key = upload_stash(
                    request,
                    kind=IMPORT_KIND,
                    text=text,
                    organization_id=membership.organization_id,
                )
    context = {"form": form, "plan": plan, "key": key}
    if plan is not None:
        rejected = [row for row in plan.rows if row.action == contacts_service.REJECT]
        context["preview"] = preview_rows(plan.rows, rejected)
    return render(request, "surveys/contact_import.html", context)


@login_required
@require_POST
def contact_import_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the previewed file, all or nothing; a second confirm applies nothing."""
    membership = require_manager(request)
    text = upload_take(
        request,
        kind=IMPORT_KIND,
        key=request.POST.get("key", ""),
        organization_id=membership.organization_id,
    )
    if text is None:
        messages.warning(
            request,
            "There is no import waiting to be confirmed in this organization: it "
            "was already applied, has expired, or was previewed in another "
            "organization. Nothing was changed; upload the file again if needed.",
        )
        return redirect("contact_list")
    try:
        plan = contacts_service.contacts_import_start(
            organization=membership.organization, actor=request.user, text=text
        )
    except (CsvError, contacts_service.ContactError) as error:
        messages.error(request, str(error))
        return redirect("contact_import")
    if isinstance(plan, ImportJob):
        return redirect("contact_import_status", job_id=plan.pk)
    messages.success(
        request,
        f"Imported: {plan.creates} created, {plan.updates} updated, "
        f"{plan.unchanged} unchanged.",
    )
    return redirect("contact_list")


@login_required
def contact_import_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """A queued import's progress; the page refreshes itself until it is done."""
    job = import_job_for_manager(request, job_id, ImportJob.Kind.CONTACTS)
    return render(request, "surveys/import_status.html", {"job": job})
