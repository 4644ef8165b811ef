from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run background tasks. With --burst, drain the queue and exit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Run every task that is ready, then exit (for tests and scripts).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="Seconds to wait between polls when the queue is empty.",
        )

    def handle(self, *args: Any, burst: bool, interval: float, **options: Any) -> None:
        # Recipients a killed worker left claimed are recovered before any send runs.
        from groundswell.lib.periodic import keep_queued
        from groundswell.mailings.tasks import on_worker_start
        from groundswell.petitions.tally.refresh import TALLY_EVERY
        from groundswell.petitions.tasks import refresh_tallies
        from groundswell.tasks import start_pruning
        from groundswell.taskworker import TaskWorker

        on_worker_start()
        start_pruning()
        # The dashboard's tallies: the first refresh soon, then every TALLY_EVERY.
        keep_queued(refresh_tallies, TALLY_EVERY)
        # django-tasks-db's worker, stopping promptly and re-running dead workers' tasks.
        worker = TaskWorker(interval=interval, batch=burst)
        worker.configure_signals()
        worker.run()
