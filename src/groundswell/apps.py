from django.apps import AppConfig


class GroundswellConfig(AppConfig):
    name = "groundswell"

    def ready(self) -> None:
        # Every process that can render a form makes its CSRF tokens this way.
        from groundswell.lib import csrf, deploy_checks

        csrf.install()
        deploy_checks.register_checks()
