"""The dashboard and the exports: access check, filter, one call, render.

pandas, scipy and plotly are imported by the views that use them, not when
the URLconf loads: a web worker's first customer submit does not pay for the
analysis stack.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analysis.forms import DashboardFilterForm
from gapsurvey.replica import replica_iter, replica_reads
from surveys.access import require_manager, study_for_manager
from surveys.audit import audit_record
from surveys.services.snapshots import (
    SnapshotNotPublished,
    published_at,
)
from surveys.services.snapshots import published as published_state


class Refused(Exception):
    """A request the dashboard answers with a plain reason (HTTP 400)."""


def _published(request: HttpRequest, study):
    """The latest published state, or the one `?snapshot=<n>` names."""
    asked = request.GET.get("snapshot")
    if not asked:
        return published_state(study)
    if not asked.isdigit():
        raise Refused("A snapshot is named by its number, e.g. ?snapshot=2.")
    try:
        return published_at(study, int(asked))
    except SnapshotNotPublished as error:
        raise Refused(str(error)) from None


def _refusal(text: str) -> HttpResponse:
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


def _filter_form(request: HttpRequest, study) -> DashboardFilterForm:
    from analysis import queries

    departments, segments = queries.organization_groups(study)
    return DashboardFilterForm(
        request.GET or None, departments=departments, segments=segments
    )


@login_required
@require_GET
def dashboard(request: HttpRequest, study_id: int) -> HttpResponse:
    from analysis import queries
    from analysis.dashboard import (
        ResultsPreparing,
        cut_problem,
        dashboard_data,
        latest_with_results,
    )
    from analysis.priorities_view import priorities_context

    study = study_for_manager(request, study_id)
    form = _filter_form(request, study)
    try:
        published = _published(request, study)
    except Refused as error:
        return _refusal(str(error))
    cut = form.cut()
    refused = cut_problem(published, cut)
    if refused:
        cut = queries.ALL
    context = {
        "study": study,
        "form": form,
        "cut": cut,
        "refused": refused,
        "snapshot_seqs": list(
            study.snapshots.order_by("-seq").values_list("seq", flat=True)[:12]
        ),
    }
    # Access, filters and the (lazy) publish above read and write the primary;
    # the results of the snapshot shown may come from a replica that has it.
    try:
        with replica_reads(require=published.snapshot):
            context.update(dashboard_data(study, cut, published, inline=False))
    except ResultsPreparing:
        # A big snapshot the worker is still computing: the newest results
        # stored meanwhile, or a page that says they are on their way.
        context["preparing"] = published.seq
        older = latest_with_results(study, cut)
        if older is None:
            return render(request, "analysis/dashboard_preparing.html", context)
        with replica_reads(require=older.snapshot):
            context.update(dashboard_data(study, cut, older))
    # Expectations, importance and priorities: stored with the view; segment
    # influence weighed with the segments' weights as they are now.
    priorities = priorities_context(study, context["published"], cut, view=context)
    context["priorities"] = priorities
    context["figures"] = {**context["figures"], **priorities.get("figures", {})}
    return render(request, "analysis/dashboard.html", context)


@login_required
@require_GET
def export(request: HttpRequest, study_id: int, kind: str, fmt: str) -> HttpResponse:
    from analysis import exports
    from analysis.dashboard import cut_problem

    study = study_for_manager(request, study_id)
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        raise Http404("No such export.")
    cut = _filter_form(request, study).cut()
    try:
        published = _published(request, study)
    except Refused as error:
        return _refusal(str(error))
    refused = cut_problem(published, cut)
    if refused:
        return _refusal(refused.replace(" The results below are for everyone.", ""))
    try:
        with replica_reads(require=published.snapshot):
            response = exports.export_response(
                study, cut, published, kind=kind, fmt=fmt
            )
    except exports.ExportPreparing:
        return render(
            request,
            "analysis/export_preparing.html",
            {"study": study, "kind": kind, "fmt": fmt, "seq": published.seq},
            status=202,
        )
    if response.streaming:  # iterated after this view returns
        response.streaming_content = replica_iter(
            response.streaming_content, require=published.snapshot
        )
    audit_record(
        organization=study.organization,
        actor=request.user,
        action="study_export",
        target=study,
        kind=kind,
        format=fmt,
        department_id=cut.department_id,
        segment_id=cut.segment_id,
        snapshot=published.seq,
    )
    return response


@login_required
@require_GET
def case_export(request: HttpRequest) -> HttpResponse:
    """The organization's follow-up cases, filtered as on the case list, as CSV."""
    from analysis.followup import case_export_response
    from surveys.forms.followup import CaseFilterForm
    from surveys.services.followup import case_filter, cases_visible_to

    membership = require_manager(request)
    form = CaseFilterForm(
        request.GET or None, organization_id=membership.organization_id
    )
    cases = case_filter(cases_visible_to(membership), **form.filters())
    response = case_export_response(cases)
    audit_record(
        organization=membership.organization,
        actor=request.user,
        action="cases_export",
        target="follow-up cases",
        **form.filters(),
    )
    return response
