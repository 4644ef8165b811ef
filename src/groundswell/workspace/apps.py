from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "groundswell.workspace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # An import keeps its file until it is done and its refused rows after: erasure
        # blanks them where they name the person.
        from groundswell.members import privacy
        from groundswell.workspace import privacy as workspace_privacy

        privacy.register("workspace", forget=workspace_privacy.forget_person)
