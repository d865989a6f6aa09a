"""On PostgreSQL, the answers' unique constraint covers their value too
(`UNIQUE (response_id, item_id, kind) INCLUDE (value)`): the analysis pairs an
item's ratings by reading the answers in (response, item, kind) order from the
index alone (analysis.priorities_queries; BENCHMARKS.md, issue 17 item 8).

The model keeps the plain constraint: Django would not create a unique
constraint with INCLUDE columns at all on SQLite, and the uniqueness must hold
everywhere. The constraint keeps its name, so later migrations can drop it as
usual. Rebuilding it locks the answers table while the index is built.
"""

from django.db import migrations

NAME = "answer_unique_response_item_kind"


def _replace(include: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        table = quote(apps.get_model("surveys", "Answer")._meta.db_table)
        schema_editor.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT {quote(NAME)}, "
            f"ADD CONSTRAINT {quote(NAME)} UNIQUE (response_id, item_id, kind)"
            + include
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0012_followup"),
    ]

    operations = [
        migrations.RunPython(
            _replace(" INCLUDE (value)"), _replace(""), elidable=False
        ),
    ]
