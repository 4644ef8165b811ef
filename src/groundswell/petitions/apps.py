from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "groundswell.petitions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The person's admin page lists their signatures.
        # Erasure and the copy of a person's data reach this app's rows through this.
        from groundswell.members import privacy
        from groundswell.petitions import person_admin  # noqa: F401
        from groundswell.petitions import privacy as petitions_privacy

        privacy.register(
            "petitions",
            export=petitions_privacy.export_person,
            forget=petitions_privacy.forget_person,
            merge=petitions_privacy.merge_people,
        )
