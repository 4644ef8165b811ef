"""Summary lines for the log: what a long-running loop did over a period, in one line.

The signature writer logs one every SUMMARY_SECONDS while it writes (batches,
signatures, how long its transactions took); a send lane logs one when it ends
(messages sent, failed, retried, unknown). Counts and durations only, never who: the
figures are the same in the plain log and, as the line's `summary` object, in JSON
lines (lib/logs.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

SUMMARY_SECONDS = 60.0


def log_summary(logger: logging.Logger, title: str, figures: dict[str, Any]) -> None:
    """One INFO line: "title: a=1 b=2" in plain text; the figures as an object in JSON."""
    text = " ".join(f"{name}={value}" for name, value in figures.items())
    logger.info("%s: %s", title, text, extra={"summary": dict(figures)})


class BatchSummary:
    """Transactions of a writer over a period: how many, their sizes and durations."""

    def __init__(self, logger: logging.Logger, title: str) -> None:
        self.logger = logger
        self.title = title
        self._reset(time.monotonic())

    def _reset(self, now: float) -> None:
        self.started = now
        self.batches = 0
        self.items = 0
        self.largest = 0
        self.not_written = 0
        self.seconds = 0.0
        self.slowest = 0.0

    def add(self, size: int, seconds: float) -> None:
        """A committed transaction of `size` items that took `seconds`."""
        self.batches += 1
        self.items += size
        self.largest = max(self.largest, size)
        self.seconds += seconds
        self.slowest = max(self.slowest, seconds)

    def failed(self, size: int) -> None:
        self.not_written += size

    def log_if_due(self, *, now: float | None = None, force: bool = False) -> None:
        now = time.monotonic() if now is None else now
        if not force and now - self.started < SUMMARY_SECONDS:
            return
        if self.batches or self.not_written:
            log_summary(
                self.logger,
                self.title,
                {
                    "seconds": round(now - self.started, 1),
                    "batches": self.batches,
                    "signatures": self.items,
                    "not_written": self.not_written,
                    "largest_batch": self.largest,
                    "mean_batch": round(self.items / self.batches, 1) if self.batches else 0,
                    "mean_ms": round(1000 * self.seconds / self.batches, 1) if self.batches else 0,
                    "slowest_ms": round(1000 * self.slowest, 1),
                },
            )
        self._reset(now)
