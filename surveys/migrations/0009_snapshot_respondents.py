from django.db import migrations, models
from django.db.models import Count


def count_respondents(apps, schema_editor):
    """Each snapshot's respondents so far, from the entries published in it
    and before it."""
    Snapshot = apps.get_model("surveys", "Snapshot")
    SnapshotEntry = apps.get_model("surveys", "SnapshotEntry")
    per_seq: dict = {}
    for row in SnapshotEntry.objects.values("study_id", "seq").annotate(n=Count("id")):
        per_seq[(row["study_id"], row["seq"])] = row["n"]
    totals: dict = {}
    for snapshot in Snapshot.objects.order_by("study_id", "seq"):
        total = totals.get(snapshot.study_id, 0)
        total += per_seq.get((snapshot.study_id, snapshot.seq), 0)
        totals[snapshot.study_id] = total
        if total:
            Snapshot.objects.filter(pk=snapshot.pk).update(respondents=total)


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0008_questionnaire_items_revision"),
    ]

    operations = [
        migrations.AddField(
            model_name="snapshot",
            name="respondents",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_respondents, migrations.RunPython.noop),
    ]
