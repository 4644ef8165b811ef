from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "groundswell.petitions"
    default_auto_field = "django.db.models.BigAutoField"
