"""/metrics: Prometheus's text format, for the addresses in METRICS_ALLOW or whoever
presents METRICS_TOKEN; everyone else gets the site's ordinary 404.

404, not 403: the endpoint is not part of the public site, and a 403 would tell a
scanner that something is there. An operator whose scrape fails finds the reason in
the log (no address is logged).

The counters kept by every process (lib/metrics.py) are added up from the data
directory's metrics/; the task queue and the recipients' states are read from the
database, which holds the truth for every node at once.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector

from groundswell.lib import metrics as _process_metrics  # noqa: F401  (sets the directory)
from groundswell.mailings.models import MailingRecipient, RecipientState

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        raise Http404
    forget_idle_exited_processes(Path(settings.METRICS_DIR))
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(DatabaseFigures())
    # The classic text format: every Prometheus release reads it.
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def may_read_metrics(request: HttpRequest) -> bool:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if (
            settings.METRICS_TOKEN
            and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())
        ):
            return True
        logger.warning("/metrics refused: a wrong or unexpected token")
        return False
    if not settings.METRICS_ALLOW:
        return False
    # Through a reverse proxy every request comes from the proxy's address: those
    # need the token, or the proxy would open the metrics to the world.
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        logger.warning("/metrics refused: a forwarded request without the token")
        return False
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if any(address in network for network in settings.METRICS_ALLOW):
        return True
    logger.warning("/metrics refused: an address outside METRICS_ALLOW")
    return False


def forget_idle_exited_processes(directory: Path) -> int:
    """Delete the files of processes that have exited without counting anything.

    Every process that imports the metrics makes its files, one-shot commands
    (`migrate`, a cron job) included. Those of exited processes that counted something
    stay, so that no counter goes backwards; those that hold only zeros add nothing
    and would pile up, making each scrape slower. How many files went."""
    forgotten = 0
    for path in directory.glob("*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if not pid.isdigit() or _is_running(int(pid)):
            continue
        try:
            values = MmapedDict(str(path), read_mode=True)
            try:
                idle = all(value == 0 for _, value, _ in values.read_all_values())
            finally:
                values.close()
            if idle:
                path.unlink()
                forgotten += 1
        except (OSError, ValueError):
            continue  # unreadable or gone already: the next scrape looks again
    return forgotten


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DatabaseFigures:
    """What the database knows for every node: the task queue and recipients' states."""

    def collect(self) -> Iterator[Metric]:
        # Without the database the processes' own counters are still worth having.
        try:
            figures = list(self._read())
        except DatabaseError:
            logger.warning("/metrics: the database could not be read", exc_info=True)
            connection.close()
            figures = []
        yield GaugeMetricFamily(
            "groundswell_database_readable",
            "1 when /metrics could read the figures below from the database, else 0.",
            value=1 if figures else 0,
        )
        yield from figures

    def _read(self) -> Iterator[Metric]:
        now = timezone.now()
        # django-tasks-db's own test of "ready", and its marker for "no run_after".
        queue = DBTaskResult.objects.ready().aggregate(
            depth=Count("pk"),
            first_enqueued=Min("enqueued_at", filter=Q(run_after=get_date_max())),
            first_due=Min("run_after", filter=Q(run_after__lte=now)),
        )
        running = DBTaskResult.objects.running().count()
        yield GaugeMetricFamily(
            "groundswell_task_queue_depth", "Tasks ready to run now.", value=queue["depth"]
        )
        since = min((t for t in (queue["first_enqueued"], queue["first_due"]) if t), default=None)
        yield GaugeMetricFamily(
            "groundswell_task_queue_age_seconds",
            "How long the oldest task ready to run has waited (0: none waits).",
            value=max(0.0, (now - since).total_seconds()) if since else 0.0,
        )
        yield GaugeMetricFamily(
            "groundswell_tasks_running", "Tasks a worker is running.", value=running
        )
        states = GaugeMetricFamily(
            "groundswell_mailing_messages",
            "Mailing recipients by state: sent, failed, unknown (a worker stopped while "
            "handing it over), and those still to go.",
            labels=["state"],
        )
        counts = dict(
            MailingRecipient.objects.values_list("state").annotate(n=Count("pk")).order_by()
        )
        for state in RecipientState.values:
            states.add_metric([state], counts.get(state, 0))
        yield states
