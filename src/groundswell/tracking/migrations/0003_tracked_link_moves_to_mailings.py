"""TrackedLink moved to mailings (mailings 0004): tracking forgets it without
touching its table, which mailings now owns under the same name."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mailings", "0004_tracked_link_moves_from_tracking"),
        ("tracking", "0002_clicks_and_opens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TrackedLink")],
            database_operations=[],
        ),
    ]
