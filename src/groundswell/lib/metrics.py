"""The counters and histograms that server processes, the signature writer and task
workers keep, served together at /metrics (docs/operations.md).

Several processes count at once (granian's workers, the writer, `groundswell worker`),
so prometheus-client runs in its multiprocess mode: each process writes its values
to small memory-mapped files under the data directory's `metrics/`, and /metrics adds
them up. Figures whose truth is in the database (the task queue, recipients by state)
are read from it when /metrics is asked instead (operations/metrics.py).
"""

from __future__ import annotations

import os

from django.conf import settings

# Read by prometheus-client as each metric is made: settings (read above) come first.
# Without the directory (help and --version create none) each process counts alone.
if settings.METRICS_DIR.is_dir():
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.METRICS_DIR)
else:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from prometheus_client import Counter, Histogram

SIGNATURES_ACCEPTED = Counter(
    "groundswell_signatures_accepted",
    "Signatures committed (repeats of a signature already made are not counted).",
)
SIGN_SECONDS = Histogram(
    "groundswell_sign_seconds",
    "Time from a sign request reaching Django to its answer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_BATCH_SIZE = Histogram(
    "groundswell_sign_batch_size",
    "Signatures written together in one transaction (the group commit's batches).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 200),
)
CLICKS_RECORDED = Counter(
    "groundswell_clicks_recorded", "Clicks on tracked links written to the database."
)
HTTP_RESPONSES = Counter(
    "groundswell_http_responses",
    "Responses Django gave, by status code (the count JSON answered from memory in "
    "front of Django is not counted).",
    ["status"],
)


def count_sign_batch(size: int, written: int) -> None:
    """A group-commit batch of `size` signatures, `written` of them new, once committed."""
    SIGN_BATCH_SIZE.observe(size)
    SIGNATURES_ACCEPTED.inc(written)
