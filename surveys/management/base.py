"""The base of the project's management commands: a clear message, never a
traceback, when the database is missing, unmigrated or unreachable."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_HINT = (
    "The database is not set up yet: run `python manage.py migrate` first "
    "(or `make setup`, which also loads the default questionnaire)."
)


def database_ready(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Raise CommandError unless the database answers and is fully migrated."""
    connection = connections[alias]
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        raise CommandError(f"Cannot reach the database: {error}".strip())
    if pending:
        raise CommandError(MIGRATE_HINT)


class ExplainedCommand(BaseCommand):
    """A command that checks the database first and turns a database error into
    a message (with `--traceback` the traceback is still there for developers)."""

    def execute(self, *args, **options):
        database_ready()
        try:
            return super().execute(*args, **options)
        except DatabaseError as error:
            if options.get("traceback"):
                raise
            raise CommandError(f"The database refused the change: {error}")
