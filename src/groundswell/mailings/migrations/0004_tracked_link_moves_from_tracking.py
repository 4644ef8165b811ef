"""TrackedLink belongs to mailings now (rendering is its only writer). Only Django's
idea of the model moves: the table, its rows and its constraint stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    # Keeps any permission granted on tracked links attached to the same model.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="mailings", model="trackedlink").exists():
        ContentType.objects.filter(app_label="tracking", model="trackedlink").update(
            app_label="mailings"
        )


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="tracking", model="trackedlink").exists():
        ContentType.objects.filter(app_label="mailings", model="trackedlink").update(
            app_label="tracking"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("mailings", "0003_preparing_status"),
        ("petitions", "0004_signature_mailing_attribution"),
        ("tracking", "0002_clicks_and_opens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TrackedLink",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("number", models.PositiveIntegerField(verbose_name="number (t)")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("petition", "petition page"),
                                    ("external", "other page"),
                                    ("share", "share link"),
                                    ("profile", "change email or address"),
                                    ("subscriptions", "manage subscriptions"),
                                    ("web-version", "view in browser"),
                                ],
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        ("url", models.URLField(max_length=2000, verbose_name="destination")),
                        (
                            "label",
                            models.CharField(blank=True, max_length=300, verbose_name="link text"),
                        ),
                        (
                            "mailing",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="links",
                                to="mailings.mailing",
                            ),
                        ),
                        (
                            "petition",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="petitions.petition",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "tracked link",
                        "verbose_name_plural": "tracked links",
                        "db_table": "tracking_trackedlink",
                        "ordering": ["mailing", "number"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("mailing", "number"), name="link_number_per_mailing"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
