"""The analysis statements run with PostgreSQL's JIT off (it cost more than
it saved there), and only they: the setting does not outlive their
transaction."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis import queries
from surveys.services import snapshots

# Transactional: as in production (autocommit), the statement's transaction
# is a real one, so SET LOCAL ends with it. (Inside an outer transaction it
# lasts until that one ends.)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _jit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        return cursor.fetchone()[0]


def test_the_sums_statement_runs_with_jit_off_and_leaves_it_as_it_was(
    on_postgres, hand_study
):
    published = snapshots.published(hand_study)
    assert published.seq >= 1
    before = _jit()
    with CaptureQueriesContext(connection) as captured:
        queries.study_sums(hand_study, queries.study_items(hand_study), published.seq)
    statements = [q["sql"] for q in captured.captured_queries]
    position = statements.index("SET LOCAL jit = off")
    assert "SUM(" in statements[position + 1]
    assert _jit() == before
