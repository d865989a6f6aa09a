import surveys.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0007_organization_face"),
    ]

    operations = [
        migrations.AddField(
            model_name="questionnaire",
            name="items_version",
            field=models.CharField(
                default=surveys.models.new_items_version,
                editable=False,
                max_length=32,
            ),
        ),
    ]
