"""Issue 16.5: dashboard and export reads from a replica (DATABASE_REPLICA_URL).

The test suite's `replica` alias is Django's TEST MIRROR of `default`: a second
connection to the same test database. These tests turn REPLICA_READS on and
count which connection each query went to. They run in transactions of their
own (`transaction=True`): inside a test-wide transaction every read stays on the
primary, by design.
"""

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gapsurvey.replica import ReplicaRouter, reading_from, replica_reads
from surveys.models import Snapshot, Study
from tests.analysis.test_dashboard import figures

BOTH = ["default", "replica"]
pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH)


@pytest.fixture
def replica_on(settings):
    settings.REPLICA_READS = True


class Queries:
    """The SQL each alias ran inside the block."""

    def __enter__(self):
        self.contexts = {a: CaptureQueriesContext(connections[a]) for a in BOTH}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts.values():
            context.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        return [q["sql"] for q in self.contexts[alias].captured_queries]

    def writes(self, alias: str) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE")
        return [s for s in self.sql(alias) if s.lstrip().upper().startswith(verbs)]

    def touching(self, alias: str, table: str) -> list[str]:
        return [s for s in self.sql(alias) if table in s]


def dashboard(study) -> str:
    return reverse("dashboard", args=[study.pk])


# --- the router --------------------------------------------------------------------


def test_reads_go_to_the_replica_only_inside_a_replica_block(replica_on):
    assert reading_from() == "default"
    with replica_reads():
        assert reading_from() == "replica"
        assert ReplicaRouter().db_for_read(Study) == "replica"
    assert reading_from() == "default"


def test_without_a_replica_configured_nothing_reads_from_it(settings):
    settings.REPLICA_READS = False
    with replica_reads():
        assert reading_from() == "default"


def test_inside_a_transaction_every_read_goes_to_the_primary(replica_on):
    with replica_reads():
        with transaction.atomic():
            assert reading_from() == "default"
        assert reading_from() == "replica"
    with transaction.atomic(), replica_reads():
        assert reading_from() == "default"


def test_writes_go_to_the_primary_and_pin_the_rest_of_the_block(replica_on, org_a):
    with replica_reads():
        assert ReplicaRouter().db_for_write(Study) == "default"
        assert reading_from() == "default"  # read your own writes
    with replica_reads():
        assert reading_from() == "replica"  # a new block starts afresh
        cache.set("replica-test", 1)  # a cache entry makes nothing stale
        assert reading_from() == "replica"


def test_a_block_needing_a_row_the_replica_lacks_reads_the_primary(
    replica_on, org_a, monkeypatch
):
    from gapsurvey import replica

    monkeypatch.setattr(replica, "_replica_has", lambda obj: False)
    with replica_reads(require=org_a):
        assert reading_from() == "default"


# --- the dashboard and the exports ------------------------------------------------


def test_the_dashboards_result_reads_hit_the_replica(
    replica_on, alice_client, hand_study
):
    alice_client.get(dashboard(hand_study))  # publishes, stores the results
    cache.clear()  # the trend is drawn again, not read from the cache
    with Queries() as queries:
        page = alice_client.get(dashboard(hand_study))
    assert page.status_code == 200
    assert queries.touching("replica", "analysis_snapshotresult")  # the results
    assert not queries.touching("default", "analysis_snapshotresult")
    assert not queries.touching("default", "surveys_answer")

    # A cut computed by the page from the answers (no stored sums) reads them
    # on the replica and keeps its results and sums on the primary.
    from analysis.models import SnapshotResult, SnapshotSums

    SnapshotResult.objects.all().delete()
    SnapshotSums.objects.all().delete()
    with Queries() as computing:
        assert alice_client.get(dashboard(hand_study)).status_code == 200
    assert computing.touching("replica", "surveys_answer")
    assert not computing.touching("default", "surveys_answer")
    assert any(
        s.startswith("INSERT")
        for s in computing.touching("default", "analysis_snapshotresult")
    )
    assert any(
        s.startswith("INSERT")
        for s in computing.touching("default", "analysis_snapshotsums")
    )

    # The access check (the person's membership) and the session stay on the
    # primary: a lagging replica must not let a removed manager in.
    def access(alias):
        return [
            s
            for s in queries.touching(alias, "surveys_membership")
            if '"user_id" =' in s
        ]

    assert access("default") and not access("replica")
    assert not queries.touching("replica", "django_session")
    assert queries.writes("replica") == []


def test_the_page_is_the_same_from_the_replica(settings, alice_client, hand_study):
    settings.REPLICA_READS = False
    primary = figures(alice_client.get(dashboard(hand_study)))
    cache.clear()
    settings.REPLICA_READS = True
    replica = figures(alice_client.get(dashboard(hand_study)))
    assert replica == primary


def test_the_lazy_publish_writes_the_primary_and_reads_back_from_it(
    replica_on, alice_client, hand_study
):
    assert not Snapshot.objects.filter(study=hand_study).exists()
    with Queries() as queries:
        page = alice_client.get(dashboard(hand_study))
    assert page.status_code == 200
    assert Snapshot.objects.filter(study=hand_study).count() == 1
    assert queries.touching("default", 'INSERT INTO "surveys_snapshot"')
    assert queries.writes("replica") == []
    # Deciding whether to publish reads the primary, never a replica that may
    # not have the last snapshot yet: the replica's first query is the check
    # that it has the snapshot just published.
    snapshot = Snapshot.objects.get(study=hand_study)
    first = queries.sql("replica")[0]
    assert first.startswith('SELECT 1 AS "a" FROM "surveys_snapshot"')
    assert f'"surveys_snapshot"."id" = {snapshot.pk}' in first
    assert page.context["published"].seq == 1


def test_a_replica_that_lags_behind_the_new_snapshot_is_not_read(
    replica_on, alice_client, hand_study, monkeypatch
):
    """The publish just wrote snapshot 1; a replica without it yet would show
    stale results beside the new snapshot's counts: the page reads the primary."""
    from gapsurvey import replica

    monkeypatch.setattr(replica, "_replica_has", lambda obj: obj is None)
    with Queries() as queries:
        page = alice_client.get(dashboard(hand_study))
    assert page.status_code == 200
    assert page.context["published"].seq == 1
    assert queries.sql("replica") == []


def test_the_answers_export_streams_from_the_replica_and_audits_on_the_primary(
    replica_on, alice_client, hand_study
):
    alice_client.get(dashboard(hand_study))
    cache.clear()
    url = reverse("export", args=[hand_study.pk, "answers", "csv"])
    with Queries() as queries:
        response = alice_client.get(url)
        body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert body.count("\n") > 1
    assert queries.touching("replica", "surveys_answer")
    assert not queries.touching("default", "surveys_answer")
    assert queries.touching("default", 'INSERT INTO "surveys_auditevent"')
    assert queries.writes("replica") == []
