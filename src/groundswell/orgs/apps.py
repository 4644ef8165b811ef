from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "groundswell.orgs"
    default_auto_field = "django.db.models.BigAutoField"
