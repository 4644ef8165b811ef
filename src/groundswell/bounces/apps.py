from django.apps import AppConfig


class BouncesConfig(AppConfig):
    name = "groundswell.bounces"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Bounces and complaints"

    def ready(self) -> None:
        # Connects the receiver for anymail's tracking webhooks.
        # Erasure reaches this app's rows through this.
        from groundswell.bounces import privacy as bounces_privacy
        from groundswell.bounces import receivers  # noqa: F401
        from groundswell.members import privacy

        privacy.register("bounces", forget=bounces_privacy.forget_person)
