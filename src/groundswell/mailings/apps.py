from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "groundswell.mailings"
    default_auto_field = "django.db.models.BigAutoField"
