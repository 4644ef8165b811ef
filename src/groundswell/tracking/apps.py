from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "groundswell.tracking"
    default_auto_field = "django.db.models.BigAutoField"
