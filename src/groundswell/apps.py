from django.apps import AppConfig


class GroundswellConfig(AppConfig):
    name = "groundswell"

    def ready(self) -> None:
        # Every process that can render a form makes its CSRF tokens this way.
        from groundswell.lib import csrf

        csrf.install()

        # Erasure removes the background task rows that name the person.
        from groundswell import task_results
        from groundswell.members import privacy

        privacy.register("task_results", forget=task_results.forget_person)
