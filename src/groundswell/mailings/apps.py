from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "groundswell.mailings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from groundswell.mailings.actions import mark_recipient_unsubscribed
        from groundswell.members.signals import person_unsubscribed

        # members tells who unsubscribed from which mailing; the copy is ours to mark.
        person_unsubscribed.connect(
            mark_recipient_unsubscribed, dispatch_uid="mailings.mark_recipient_unsubscribed"
        )
