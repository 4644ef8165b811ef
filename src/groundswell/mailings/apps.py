from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "groundswell.mailings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Erasure and the copy of a person's data reach this app's rows through this.
        from groundswell.mailings import privacy as mailings_privacy
        from groundswell.members import privacy

        privacy.register(
            "mailings",
            export=mailings_privacy.export_person,
            forget=mailings_privacy.forget_person,
        )
