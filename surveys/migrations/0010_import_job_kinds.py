"""Contacts import jobs become import jobs of a kind (contacts or staff), so a big
staff import runs through the same queued, chunked, all-or-nothing machinery."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0009_snapshot_respondents"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="contactimport",
            name="contact_import_status_valid",
        ),
        migrations.RenameModel(old_name="ContactImport", new_name="ImportJob"),
        migrations.AlterField(
            model_name="importjob",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="import_jobs",
                to="surveys.organization",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="kind",
            field=models.CharField(
                choices=[("contacts", "Contacts"), ("staff", "Staff")],
                default="contacts",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="mails_failed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="importjob",
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]),
                name="import_job_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="importjob",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=["contacts", "staff"]),
                name="import_job_kind_valid",
            ),
        ),
    ]
