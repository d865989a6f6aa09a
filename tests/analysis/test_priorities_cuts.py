"""Expectations and priorities follow the dashboard's filters, are stored with
the snapshot's view (the page reads no answers for them), weigh segments with
the weights as they are now, and have a trend between studies of the same
mode."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from scipy import stats as scipy_stats

from analysis.cuts import Cut
from analysis.dashboard import snapshot_results_build
from analysis.models import SnapshotResult
from analysis.priorities_view import priorities_context
from surveys.models import (
    Allocation,
    Answer,
    Audience,
    MeasurementMode,
    Response,
    Segment,
    Study,
)
from surveys.services import snapshots
from tests import factories
from tests.analysis.test_priorities_view import AREAS

pytestmark = pytest.mark.django_db

# (E, P) of five items (one per area) per customer, by segment.
BUSINESS = [
    ([6, 7, 6, 5, 6], [5, 4, 6, 6, 6]),
    ([7, 7, 5, 5, 6], [6, 3, 5, 6, 7]),
    ([6, 6, 6, 5, 5], [6, 4, 4, 7, 5]),
]
PRIVATE = [
    ([5, 7, 6, 4, 6], [5, 5, 5, 6, 6]),
    ([6, 5, 6, 6, 6], [7, 6, 6, 6, 6]),
    ([7, 6, 5, 5, 4], [6, 6, 6, 5, 5]),
]
# (predicted E, P) per staff member, by department.
SALES = [
    ([5, 5, 5, 5, 5], [6, 6, 6, 6, 6]),
    ([4, 6, 5, 5, 5], [6, 5, 6, 6, 6]),
    ([6, 5, 5, 6, 5], [5, 6, 6, 6, 7]),
]
SUPPORT = [
    ([5, 6, 4, 6, 5], [7, 6, 5, 6, 6]),
    ([6, 6, 6, 6, 6], [6, 6, 6, 6, 6]),
    ([7, 6, 5, 6, 4], [6, 7, 5, 5, 6]),
]
POINTS = [10, 50, 20, 10, 10]


def _respond(study, audience, e, p, **groups):
    response = Response.objects.create(
        study=study,
        audience=audience,
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
        overall_rating=4 if audience == Audience.CUSTOMER else None,
        **groups,
    )
    items = list(study.questionnaire.items.order_by("position"))
    Answer.objects.bulk_create(
        Answer(response=response, item=i, kind=kind, value=v)
        for kind, values in (("E", e), ("P", p))
        for i, v in zip(items, values, strict=True)
    )
    Allocation.objects.bulk_create(
        Allocation(response=response, area=a, points=n)
        for a, n in zip(AREAS, POINTS, strict=True)
    )


def _study(org, *, name="Wave", segments=None, departments=None):
    questionnaire = factories.make_questionnaire(
        items_per_gap=1,
        dimensions=True,
        mode=MeasurementMode.EXPECTATION,
        ask_importance=True,
        ask_overall=True,
    )
    study = factories.make_study(
        org, questionnaire=questionnaire, min_group_size=3, name=name
    )
    segments = segments or (
        factories.make_segment(org, "Business", weight=3),
        factories.make_segment(org, "Private", weight=1),
    )
    departments = departments or (
        factories.make_department(org, "Sales"),
        factories.make_department(org, "Support"),
    )
    for segment, rows in zip(segments, (BUSINESS, PRIVATE), strict=True):
        for e, p in rows:
            _respond(study, Audience.CUSTOMER, e, p, segment=segment)
    for department, rows in zip(departments, (SALES, SUPPORT), strict=True):
        for e, p in rows:
            _respond(study, Audience.INTERNAL, e, p, department=department)
    Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())
    study.refresh_from_db()
    return study, segments, departments


def _area(context, key):
    return next(a for a in context["areas"] if a["area"] == key)


def test_a_segment_filter_gives_that_segments_perception_gap(org_a):
    study, (business, private), _ = _study(org_a)
    published = snapshots.published(study)
    everyone = priorities_context(study, published)
    only = priorities_context(study, published, Cut(segment_id=business.pk))
    d = [p[1] - e[1] for e, p in BUSINESS]
    found = _area(only, "reliability")["gap_d"]
    assert found["n"] == 3
    assert found["mean"] == pytest.approx(np.mean(d))
    assert found["p"] == pytest.approx(scipy_stats.ttest_1samp(d, 0).pvalue)
    # Everyone's is over both segments: another number.
    d_all = [p[1] - e[1] for e, p in BUSINESS + PRIVATE]
    assert _area(everyone, "reliability")["gap_d"]["mean"] == pytest.approx(
        np.mean(d_all)
    )
    assert np.mean(d) != pytest.approx(np.mean(d_all))
    # The knowledge gap compares all staff with this segment's customers.
    staff = [e[0] for e, _ in SALES + SUPPORT]
    customers = [e[0] for e, _ in BUSINESS]
    knowledge = _area(only, "tangibles")["knowledge"]
    assert knowledge["delta"] == pytest.approx(np.mean(staff) - np.mean(customers))
    assert knowledge["internal_n"] == 6 and knowledge["customer_n"] == 3


def test_a_department_filter_changes_the_staff_side_only(org_a):
    study, _, (sales, _support) = _study(org_a)
    published = snapshots.published(study)
    everyone = priorities_context(study, published)
    only = priorities_context(study, published, Cut(department_id=sales.pk))
    staff = [e[0] for e, _ in SALES]
    customers = [e[0] for e, _ in BUSINESS + PRIVATE]
    knowledge = _area(only, "tangibles")["knowledge"]
    assert knowledge["internal_n"] == 3
    assert knowledge["delta"] == pytest.approx(np.mean(staff) - np.mean(customers))
    reference = scipy_stats.ttest_ind(staff, customers, equal_var=False)
    assert knowledge["p"] == pytest.approx(reference.pvalue)
    # The customers' own perception gap is the same as everyone's.
    assert (
        _area(only, "reliability")["gap_d"] == _area(everyone, "reliability")["gap_d"]
    )


def test_a_group_the_snapshot_hides_shows_no_priorities_of_its_own(org_a):
    """A segment below the minimum group size is refused by the page (the
    dashboard falls back to everyone); asked directly, every figure of its
    cut is withheld, not computed from fewer than K customers."""
    study, (business, _), _ = _study(org_a)
    Study.objects.filter(pk=study.pk).update(
        min_group_size=4, changed_at=timezone.now()
    )
    study.refresh_from_db()
    published = snapshots.published(study)
    assert not published.shown(snapshots.RESPONDENTS, "customer", business.pk)
    only = priorities_context(study, published, Cut(segment_id=business.pk))
    assert all(not area["gap_d"]["shown"] for area in only["areas"])
    assert all(area["gap_d"]["mean"] is None for area in only["areas"])
    assert only["act_first"] == []


def test_the_page_reads_the_stored_part_and_no_answers(alice_client, org_a):
    study, (business, _), _ = _study(org_a)
    published = snapshots.published(study)
    assert snapshot_results_build(study, published) > 0
    url = reverse("dashboard", args=[study.pk])
    with CaptureQueriesContext(connection) as captured:
        response = alice_client.get(url, {"segment": business.pk})
    assert response.status_code == 200
    statements = " ".join(q["sql"] for q in captured.captured_queries)
    assert "surveys_answer" not in statements
    assert "surveys_allocation" not in statements
    html = response.content.decode()
    assert 'data-testid="priority-areas"' in html
    d = [p[1] - e[1] for e, p in BUSINESS]
    assert f"{np.mean(d):+.2f}".replace("-", "−") in html
    assert 'data-testid="segment-influence-filtered"' in html


def test_weights_changed_after_storing_are_used_at_once(alice_client, org_a):
    study, (business, private), _ = _study(org_a)
    published = snapshots.published(study)
    snapshot_results_build(study, published)
    stored = SnapshotResult.objects.filter(snapshot__study=study).count()
    before = priorities_context(study, published)["segments"]
    Segment.objects.filter(pk=private.pk).update(weight=3)
    after = priorities_context(study, published)["segments"]
    overall = [
        next(r for r in rows["rows"] if r["gap"] == "overall")
        for rows in (before, after)
    ]
    mean = {
        segment: np.mean([np.mean(p) for _, p in rows])
        for segment, rows in (("b", BUSINESS), ("p", PRIVATE))
    }
    assert overall[0]["weighted_mean"] == pytest.approx(
        (3 * mean["b"] + 1 * mean["p"]) / 4
    )
    assert overall[1]["weighted_mean"] == pytest.approx((mean["b"] + mean["p"]) / 2)
    # Nothing was recomputed for it.
    assert SnapshotResult.objects.filter(snapshot__study=study).count() == stored
    html = alice_client.get(reverse("dashboard", args=[study.pk])).content.decode()
    assert 'data-testid="segment-influence"' in html


def test_the_trend_of_the_new_numbers_joins_studies_of_the_same_mode(
    alice_client, org_a
):
    first, segments, departments = _study(org_a, name="Spring")
    Study.objects.filter(pk=first.pk).update(status=Study.Status.CLOSED)
    second, _, _ = _study(
        org_a, name="Autumn", segments=segments, departments=departments
    )
    perception = factories.make_study(org_a, name="Plain wave")
    assert perception.questionnaire.mode == MeasurementMode.PERCEPTION
    html = alice_client.get(reverse("dashboard", args=[second.pk])).content.decode()
    assert 'data-testid="priority-trend"' in html
    assert "Spring" in html and "Autumn" in html
    from analysis.dashboard import dashboard_data

    trend = dashboard_data(second)["priority_trend"]
    assert {row["name"] for row in trend["rows"]} == {"Spring", "Autumn"}
    score = [row for row in trend["rows"] if row["measure"] == "score"]
    d = np.mean(
        [np.mean([p[j] - e[j] for e, p in BUSINESS + PRIVATE]) for j in range(5)]
    )
    assert [row["value"] for row in score] == [pytest.approx(d)] * 2
    assert "priority_trend" in trend["figure"]


def test_the_gap_table_export_under_a_segment_filter_has_that_segments_gaps(
    alice_client, org_a
):
    from analysis.exports import GAP_HEADER, PRIORITY_HEADER
    from tests.analysis.test_exports import csv_rows

    study, (business, _), _ = _study(org_a)
    url = reverse("export", args=[study.pk, "gaps", "csv"])
    header, *body = csv_rows(alice_client.get(url, {"segment": business.pk}))
    assert header == [*GAP_HEADER, *PRIORITY_HEADER]
    reliability = next(r for r in body if r[0] == "area" and r[1] == "Reliability")
    found = dict(zip(header, reliability, strict=True))
    d = np.mean([p[1] - e[1] for e, p in BUSINESS])
    assert float(found["perception_gap_mean"]) == pytest.approx(round(d, 2))
    assert d != pytest.approx(np.mean([p[1] - e[1] for e, p in BUSINESS + PRIVATE]))
    assert found["perception_gap_n"] == "3"


def test_results_stored_by_an_earlier_release_are_computed_again(alice_client, org_a):
    """A view stored before the priorities part was stored with it (an older
    basis, no "priorities" key) is not read: the page computes it again."""
    study, _, _ = _study(org_a)
    published = snapshots.published(study)
    snapshot_results_build(study, published)
    row = SnapshotResult.objects.get(snapshot__study=study, cut="all")
    view = dict(row.view)
    view.pop("priorities")
    old_basis = row.basis.split(":", 1)[1]
    SnapshotResult.objects.filter(pk=row.pk).update(view=view, basis=old_basis)
    response = alice_client.get(reverse("dashboard", args=[study.pk]))
    assert response.status_code == 200
    assert 'data-testid="priority-areas"' in response.content.decode()
    assert "priorities" in SnapshotResult.objects.get(pk=row.pk).view


def test_the_matrix_per_statement_places_each_item_by_its_area_and_own_gap(
    alice_client, org_a
):
    study, _, _ = _study(org_a)
    Item = study.questionnaire.items.model
    first = Item.objects.get(questionnaire=study.questionnaire, position=1)
    Item.objects.filter(pk=first.pk).update(customer_text="<script>x()</script>")
    Study.objects.filter(pk=study.pk).update(changed_at=timezone.now())
    study.refresh_from_db()
    context = priorities_context(study, snapshots.published(study))
    rows = {row["label"]: row for row in context["item_matrix"]}
    assert set(rows) == {"q1", "q2", "q3", "q4", "q5"}
    customers = BUSINESS + PRIVATE
    for j, area in enumerate(AREAS):
        row = rows[f"q{j + 1}"]
        assert row["area"] == area
        # x: the area's stated importance (every customer gave POINTS).
        assert row["x"] == pytest.approx(POINTS[j])
        assert row["y"] == pytest.approx(np.mean([p[j] - e[j] for e, p in customers]))
    lines = context["item_lines"]
    assert lines["y"] == pytest.approx(np.mean([row["y"] for row in rows.values()]))
    for row in rows.values():
        high = (row["x"] >= lines["x"], row["y"] >= lines["y"])
        assert (
            row["quadrant"]
            == {
                (True, False): "concentrate here",
                (True, True): "keep up the good work",
                (False, False): "low priority",
                (False, True): "possible overkill",
            }[high]
        )
    figure = context["figures"]["priority_matrix_items"]
    hover = " ".join(t for trace in figure["data"] for t in trace["hovertext"])
    assert "<script>" not in hover and "&lt;script&gt;" in hover
    # Each statement's area is named on hover and in the table.
    assert rows["q2"]["area_label"] == "Reliability"
    assert "Area: Reliability" in hover
    html = alice_client.get(reverse("dashboard", args=[study.pk])).content.decode()
    assert 'data-testid="item-matrix"' in html
    assert '<td data-testid="item-area">Reliability</td>' in html
    assert '"priority_matrix_items"' in html
    assert "<script>x()</script>" not in html


def test_the_matrix_per_statement_in_the_perception_mode_uses_derived_importance(
    org_a,
):
    """A perception questionnaire asking only the overall rating: x is each
    area's derived importance, y each item's published customer mean."""
    from analysis.dashboard import study_numbers

    questionnaire = factories.make_questionnaire(
        items_per_gap=1, dimensions=True, ask_overall=True
    )
    study = factories.make_study(org_a, questionnaire=questionnaire, min_group_size=3)
    items = list(questionnaire.items.order_by("position"))
    rng = np.random.default_rng(7)
    for n in range(15):
        customer = n < 12
        values = [int(v) for v in rng.integers(1, 8, size=5)]
        response = Response.objects.create(
            study=study,
            audience=Audience.CUSTOMER if customer else Audience.INTERNAL,
            status=Response.Status.SUBMITTED,
            submitted_at=timezone.now(),
            overall_rating=int(rng.integers(1, 8)) if customer else None,
        )
        Answer.objects.bulk_create(
            Answer(response=response, item=i, value=v)
            for i, v in zip(items, values, strict=True)
        )
    published = snapshots.published(study)
    context = priorities_context(study, published)
    table = study_numbers(study, published=published)["item_table"]
    means = dict(zip(table["item_id"], table["customer_mean"], strict=True))
    derived = {a["area"]: a["derived"]["r"] for a in context["areas"]}
    assert context["item_matrix"]
    for row in context["item_matrix"]:
        assert row["x"] == pytest.approx(derived[row["area"]])
        assert row["y"] == pytest.approx(means[row["item_id"]])
