"""The dashboard page: who may see it, that it shows every chart and number,
that suppression holds through the filter, and that free text is escaped."""

import json
import re
from datetime import date

import pytest
from django.urls import reverse

from surveys.models import Action, Audience
from tests import factories
from tests.analysis.conftest import gap_items, submit

pytestmark = pytest.mark.django_db

CHARTS = {
    "paired",
    "deltas",
    "departments",
    "segments",
    "segment_deltas",
    "likert",
    "trend",
}
XSS = "<script>alert('x')</script>"


def url(study, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("dashboard", args=[study.pk]) + (f"?{query}" if query else "")


def figures(response) -> dict:
    match = re.search(
        r'<script id="charts" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the figures JSON is missing"
    return json.loads(match.group(1))


def test_anonymous_visitors_are_sent_to_login(client, hand_study):
    response = client.get(url(hand_study))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_get_404(bob_client, hand_study):
    assert bob_client.get(url(hand_study)).status_code == 404


def test_another_organizations_manager_gets_404(charlie_client, hand_study):
    assert charlie_client.get(url(hand_study)).status_code == 404


def test_post_is_not_allowed(alice_client, hand_study):
    assert alice_client.post(url(hand_study)).status_code == 405


def test_the_page_carries_every_chart_with_traces(alice_client, hand_study):
    response = alice_client.get(url(hand_study))
    assert response.status_code == 200
    charts = figures(response)
    assert set(charts) == CHARTS
    for name, figure in charts.items():
        assert figure["data"], f"{name} has no traces"
        assert figure["layout"]["title"]["text"]
    html = response.content.decode()
    for name in CHARTS - {"trend"}:  # one study: no trend chart yet
        assert f'data-chart="{name}"' in html


def test_plotly_is_loaded_once_from_static_and_no_script_is_inline(
    alice_client, hand_study
):
    html = alice_client.get(url(hand_study)).content.decode()
    assert html.count("plotly/plotly.min.js") == 1
    assert "cdn" not in html.lower()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag


def test_the_headline_sets_both_audiences_on_the_same_side(alice_client, org_a):
    """Staff and customers above the midpoint, each with its Wilson interval,
    and the difference in percentage points with Newcombe's interval."""
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
    )

    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    for value in (6, 6, 5, 3):  # 3 of 4 staff above 4
        submit(study, Audience.INTERNAL, {item: value for item in items})
    for value in (5, 3, 2, 4, 2):  # 1 of 5 customers above 4 (4 is not above)
        submit(study, Audience.CUSTOMER, {item: value for item in items})
    html = alice_client.get(url(study)).content.decode()
    assert re.search(r'data-testid="staff-above">75%<', html)
    assert re.search(r'data-testid="customers-above">20%<', html)
    low, high = proportion_confint(3, 4, method="wilson")
    assert f"95% CI {low:.0%}–{high:.0%}, n = 4" in html
    low, high = proportion_confint(1, 5, method="wilson")
    assert f"95% CI {low:.0%}–{high:.0%}, n = 5" in html
    low, high = confint_proportions_2indep(3, 4, 1, 5, method="newcomb")
    words = html.split('data-testid="headline-words"')[1].split("</div>")[0]
    assert "75% of our staff rate the service above the midpoint" in words
    assert "20% of our customers do" in words
    expected = f"{low * 100:+.0f} to {high * 100:+.0f}".replace("-", "−")
    assert f"difference is +55 percentage points (95% CI {expected})" in words


def test_the_headline_names_the_most_over_and_underrated_gaps(alice_client, org_a):
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    staff = {"knowledge": 6, "delivery": 2}
    customers = {"knowledge": 3, "delivery": 5}
    for _ in range(4):
        submit(study, Audience.INTERNAL, {i: staff.get(i.gap, 4) for i in items})
        submit(study, Audience.CUSTOMER, {i: customers.get(i.gap, 4) for i in items})
    html = alice_client.get(url(study)).content.decode()
    words = html.split('data-testid="headline-words"')[1].split("</div>")[0]
    assert "overrate the service most in <strong>Knowledge</strong> (Δ +3.00" in words
    assert "underrate it most in <strong>Delivery</strong> (Δ −3.00" in words


def test_without_overall_scores_the_headline_says_why(alice_client, hand_study):
    """The hand study's respondents answered 2 of 10 items: under half, so no
    one has an overall score (a score from one gap of five is not comparable)."""
    html = alice_client.get(url(hand_study)).content.decode()
    words = html.split('data-testid="headline-words"')[1].split("</div>")[0]
    assert "Not enough answers for the headline yet" in words
    assert "nan" not in words.lower()


def test_the_gap_table_shows_the_numbers(alice_client, hand_study):
    html = alice_client.get(url(hand_study)).content.decode()
    row = html.split('id="gap-knowledge"')[1].split("</tr>")[0]
    assert "5.88 (4)" in row and "3.40 (5)" in row
    assert "+2.48" in row
    assert "0.77" in row and "0.57" in row  # alpha 10/13 and 4/7


def test_a_small_segment_is_suppressed_in_tables_charts_and_comments(
    alice_client, hand_study, org_a
):
    tiny = factories.make_segment(org_a, "Tiny")
    k1, _ = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: 1}, segment=tiny, comment="Only me")
    response = alice_client.get(url(hand_study))
    html = response.content.decode()
    assert "Only me" not in html
    segments = figures(response)["segments"]["data"][0]
    tiny_row = segments["y"].index("Tiny")
    assert segments["z"][tiny_row][0] is None
    assert segments["text"][tiny_row][0] == "fewer than 3"
    assert "fewer than 3" in html


def test_comments_of_large_groups_are_shown_escaped(alice_client, hand_study):
    retail = hand_study.organization.segments.get(name="Retail")
    k1, _ = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: 2}, segment=retail, comment=XSS)
    html = alice_client.get(url(hand_study)).content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_a_hostile_segment_name_is_escaped_in_page_and_chart_json(
    alice_client, hand_study, org_a
):
    hostile = factories.make_segment(org_a, '<img src=x onerror="alert(1)">')
    k1, _ = gap_items(hand_study, "knowledge")
    for _ in range(3):
        submit(hand_study, Audience.CUSTOMER, {k1: 4}, segment=hostile)
    response = alice_client.get(url(hand_study))
    html = response.content.decode()
    assert "<img src=x" not in html
    segments = figures(response)["segments"]["data"][0]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in segments["y"]
    assert not any("<img" in y for y in segments["y"])


def test_filtering_by_department_compares_that_department(
    alice_client, hand_study, org_a
):
    back = factories.make_department(org_a, "Back office")
    k1, k2 = gap_items(hand_study, "knowledge")
    for _ in range(3):
        submit(hand_study, Audience.INTERNAL, {k1: 2, k2: 2}, department=back)
    html = alice_client.get(url(hand_study, department=back.pk)).content.decode()
    row = html.split('id="gap-knowledge"')[1].split("</tr>")[0]
    assert "2.00 (3)" in row and "3.40 (5)" in row


def test_a_filter_that_would_isolate_a_small_group_is_refused(
    alice_client, hand_study, org_a
):
    """A lone customer of "Tiny": filtering on Tiny is refused in plain words
    and the page shows everyone; the customers' numbers include Tiny's one
    answer, and Retail is hidden with it (complementary suppression)."""
    tiny = factories.make_segment(org_a, "Tiny")
    k1, _ = gap_items(hand_study, "knowledge")
    submit(hand_study, Audience.CUSTOMER, {k1: 1}, segment=tiny)
    response = alice_client.get(url(hand_study, segment=tiny.pk))
    html = response.content.decode()
    assert 'data-testid="filter-refused"' in html
    assert "This segment is not shown on its own" in html
    assert "(n = 1)" not in html and "Answered 1" not in html
    row = html.split('id="gap-knowledge"')[1].split("</tr>")[0]
    assert "3.00 (6)" in row  # all six customers: (3.5+2+4.5+4+3+1) / 6
    segments = figures(response)["segments"]["data"][0]
    assert all(value is None for row in segments["z"] for value in row)
    assert "hidden to protect a smaller group" in " ".join(
        text for row in segments["text"] for text in row
    )


def test_an_unknown_filter_value_shows_everyone(alice_client, hand_study):
    response = alice_client.get(url(hand_study, department=999999))
    assert response.status_code == 200
    assert "5.88 (4)" in response.content.decode()


def test_actions_are_shown_beside_their_gap_and_in_the_trend(alice_client, hand_study):
    Action.objects.create(
        organization=hand_study.organization,
        study=hand_study,
        gap="knowledge",
        description="Call <b>every</b> customer back",
        owner="Ops",
    )
    response = alice_client.get(url(hand_study))
    html = response.content.decode()
    row = html.split('id="gap-knowledge"')[1].split("</tr>")[0]
    assert "Call &lt;b&gt;every&lt;/b&gt; customer back" in row
    trend = figures(response)["trend"]["data"]
    assert trend[-1]["name"] == "Action taken"
    assert "&lt;b&gt;every" in trend[-1]["hovertext"][0]


def test_the_trend_follows_the_studies_in_date_order(alice_client, org_a):
    waves = []
    for name, opens, staff_value in (
        ("Wave 2", date(2026, 1, 10), 6),
        ("Wave 1", date(2025, 1, 10), 7),
    ):
        study = factories.make_study(org_a, name=name, opens_on=opens, min_group_size=3)
        k1, _ = gap_items(study, "knowledge")
        for _ in range(3):
            submit(study, Audience.INTERNAL, {k1: staff_value})
            submit(study, Audience.CUSTOMER, {k1: 3})
        waves.append(study)
    response = alice_client.get(url(waves[0]))
    knowledge = figures(response)["trend"]["data"][0]
    assert knowledge["x"] == ["2025-01-10", "2026-01-10"]
    assert knowledge["y"] == [4.0, 3.0]


def test_response_rates_are_shown(alice_client, hand_study):
    factories.make_invitation(hand_study)
    html = alice_client.get(url(hand_study)).content.decode()
    assert 'data-testid="rates-table"' in html
    assert 'data-testid="staff-rate"' in html


def test_the_page_makes_a_bounded_number_of_queries(
    alice_client, hand_study, django_assert_max_num_queries
):
    # Cold: publishing the first snapshot (about 25 queries), the aggregates
    # and storing the snapshot's sums (three), and the database cache's own
    # bookkeeping for the cached entries.
    with django_assert_max_num_queries(64):
        assert alice_client.get(url(hand_study)).status_code == 200
    # Warm: no query touches the answers at all (20 queries, one of them the
    # segments' weights for segment influence; one more when the database
    # cache culls or the nav lists other memberships).
    with django_assert_max_num_queries(21) as captured:
        assert alice_client.get(url(hand_study)).status_code == 200
    assert not any("surveys_answer" in q["sql"] for q in captured.captured_queries)


def test_an_empty_study_renders(alice_client, org_a):
    study = factories.make_study(org_a)
    response = alice_client.get(url(study))
    assert response.status_code == 200
    assert set(figures(response)) == CHARTS


def test_the_query_count_does_not_grow_with_respondents_or_groups(
    alice_client, hand_study, org_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alice_client.get(url(hand_study))  # publishes the first snapshot
    with CaptureQueriesContext(connection) as before:
        alice_client.get(url(hand_study))
    k1, k2 = gap_items(hand_study, "knowledge")
    for name in ("North", "South", "East"):
        segment = factories.make_segment(org_a, name)
        department = factories.make_department(org_a, f"{name} desk")
        for value in range(1, 6):
            submit(hand_study, Audience.CUSTOMER, {k1: value}, segment=segment)
            submit(hand_study, Audience.INTERNAL, {k2: value}, department=department)
    alice_client.get(url(hand_study))  # publishes the second
    assert hand_study.snapshots.count() == 2
    with CaptureQueriesContext(connection) as after:
        alice_client.get(url(hand_study))

    # The request's own bookkeeping (session, user, memberships for the nav)
    # aside, the same queries: none per respondent, group or snapshot.
    def counted(captured):
        return [
            q["sql"][:60]
            for q in captured.captured_queries
            if "surveys_membership" not in q["sql"]
        ]

    assert counted(after) == counted(before)


def test_a_second_view_reads_the_stored_results_not_the_answers(
    alice_client, hand_study, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analysis.models import SnapshotResult, SnapshotSums

    settings.DASHBOARD_CACHE_SECONDS = 0  # no cache to hide behind
    first = alice_client.get(url(hand_study))
    assert SnapshotResult.objects.filter(snapshot__study=hand_study).count() == 1
    with CaptureQueriesContext(connection) as second:
        again = alice_client.get(url(hand_study))
    sql = [q["sql"] for q in second.captured_queries]
    assert not any("surveys_answer" in q for q in sql)
    assert not any("gapsurvey_cache" in q for q in sql)
    assert figures(again) == figures(first)
    # Without the stored row the page computes again, from the snapshot's
    # stored sums: the answers are not read twice.
    SnapshotResult.objects.all().delete()
    with CaptureQueriesContext(connection) as third:
        assert figures(alice_client.get(url(hand_study))) == figures(first)
    assert not any("surveys_answer" in q["sql"] for q in third.captured_queries)
    # Without the sums either, from the answers, to the same figures.
    SnapshotResult.objects.all().delete()
    SnapshotSums.objects.all().delete()
    with CaptureQueriesContext(connection) as fourth:
        assert figures(alice_client.get(url(hand_study))) == figures(first)
    assert any("surveys_answer" in q["sql"] for q in fourth.captured_queries)
    assert SnapshotSums.objects.filter(snapshot__study=hand_study).count() == 1


def test_thin_data_says_not_enough_answers_never_nan_or_none(alice_client, org_a):
    """Everyone under the half-of-items rule in a gap, an item answered only
    "don't know", no spread at all: plain words, never NaN, None or an error."""
    study = factories.make_study(org_a, min_group_size=3)
    items = list(study.questionnaire.items.order_by("position"))
    knowledge = [i for i in items if i.gap == "knowledge"]
    rest = [i for i in items if i.gap != "knowledge"]
    for _ in range(4):
        # knowledge: one "don't know" of two items is half — but the first
        # item is only ever "don't know"; the rest: every answer 4 (no spread).
        values = {knowledge[0]: None, knowledge[1]: 4, **{i: 4 for i in rest}}
        submit(study, Audience.INTERNAL, values)
        submit(study, Audience.CUSTOMER, values)
    response = alice_client.get(url(study))
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split('class="table table-sm align-middle gap-table"')[1].split(
        "</table>"
    )[0]
    assert "not enough answers" in table  # the item answered only "don't know"
    assert "not enough answers to test" in table  # no spread: no interval
    for bad in ("nan", "None", "NaN", "inf"):
        assert f">{bad}<" not in table and f" {bad} " not in table


def test_with_one_study_the_trend_says_it_appears_from_the_second_wave(
    alice_client, hand_study
):
    html = alice_client.get(url(hand_study)).content.decode()
    assert 'data-testid="trend-waiting"' in html
    assert 'data-chart="trend"' not in html
    assert "The trend appears from the second wave" in html


def test_numbers_use_the_minus_sign_everywhere():
    from analysis.templatetags.analysis_format import interval, num, signed

    assert signed(-2.02) == "\u22122.02"
    assert num(-2.39) == "\u22122.39"
    assert interval({"ci_low": -2.5, "ci_high": -0.25}) == "[\u22122.50, \u22120.25]"
    assert "-" not in num(-1) + signed(-1) + interval({"ci_low": -1, "ci_high": 1})
