from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "groundswell.mailings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from groundswell.mailings.actions.unsubscribes import (
            email_source,
            mark_recipient_unsubscribed,
        )
        from groundswell.members import mail_sources
        from groundswell.members.signals import person_unsubscribed

        # An unsubscribe link acts on the lists the mailing went to.
        mail_sources.register(email_source)

        # members tells who unsubscribed from which mailing; the copy is ours to mark.
        person_unsubscribed.connect(
            mark_recipient_unsubscribed, dispatch_uid="mailings.mark_recipient_unsubscribed"
        )
        # Erasure and the copy of a person's data reach this app's rows through this.
        from groundswell.mailings import privacy as mailings_privacy
        from groundswell.members import privacy

        privacy.register(
            "mailings",
            export=mailings_privacy.export_person,
            forget=mailings_privacy.forget_person,
        )
