from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "groundswell.tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # mailings decides A/B tests on clicks through this, without importing tracking.
        from groundswell.mailings.ab_clicks import register_click_counter
        from groundswell.tracking.counts import unique_human_clickers

        register_click_counter(unique_human_clickers)
