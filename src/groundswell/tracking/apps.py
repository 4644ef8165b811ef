from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "groundswell.tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Counts clicks on petition links (petitions/signals.py).
        # mailings decides A/B tests on clicks through this, without importing tracking.
        from groundswell.mailings.ab_clicks import register_click_counter
        from groundswell.tracking import receivers  # noqa: F401
        from groundswell.tracking.counts import unique_human_clickers

        register_click_counter(unique_human_clickers)

        # Erasure and the copy of a person's data reach this app's rows through this.
        from groundswell.members import privacy
        from groundswell.tracking import privacy as tracking_privacy

        privacy.register(
            "tracking", export=tracking_privacy.export_person, forget=tracking_privacy.forget_person
        )
