from django.apps import AppConfig


class BouncesConfig(AppConfig):
    name = "groundswell.bounces"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Bounces and complaints"

    def ready(self) -> None:
        # Connects the receiver for anymail's tracking webhooks.
        from groundswell.bounces import receivers  # noqa: F401
