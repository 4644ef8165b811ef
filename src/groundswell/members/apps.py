from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "groundswell.members"
    default_auto_field = "django.db.models.BigAutoField"
