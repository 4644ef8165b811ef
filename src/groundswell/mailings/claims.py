"""Claiming recipients for one worker, marking a window *sending*, recording the answers.

Every write is a conditional UPDATE on ``claimed_by`` and the state the worker expects,
so a recipient that pause, cancel or recovery took away is never written by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from groundswell.lib.retry import RetryPolicy
from groundswell.lib.turns import writers_take_turns

from . import journal
from .models import Mailing, MailingRecipient, MailingStatus, RecipientState
from .smtp import Outcome

CLAIM_SIZE = 100
# Seconds before attempt 2, 3, … after a temporary failure; then the recipient fails.
RETRY = RetryPolicy(delays=(60, 300, 1800, 7200))


# The raw SQL below (S608) only interpolates the table's quoted name from the model;
# every value is a query parameter.
def _table() -> str:
    return connection.ops.quote_name(MailingRecipient._meta.db_table)


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# --- Claiming and marking ---------------------------------------------------------------


def claim_batch(mailing_id: int, worker_id: str, size: int = CLAIM_SIZE) -> list[int]:
    """Atomically take up to `size` ready recipients for this worker; their ids in order.

    Only while the mailing is *sending* (not preparing, paused, …). Held-back A/B
    recipients (variant '') and retries not yet due are not ready.
    """
    now = _db_time(timezone.now())
    table = _table()
    mailings = connection.ops.quote_name(Mailing._meta.db_table)
    ready = (
        f"SELECT id FROM {table} WHERE mailing_id = %s AND state = %s "  # noqa: S608
        f"AND variant <> '' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        f"AND EXISTS (SELECT 1 FROM {mailings} WHERE id = %s AND status = %s) "
        f"ORDER BY id LIMIT %s"
    )
    if connection.vendor == "postgresql":
        # A materialised CTE: with `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` the
        # planner may run the subquery again per row and take more than n.
        sql = (
            f"WITH batch AS MATERIALIZED ({ready} FOR UPDATE SKIP LOCKED) "  # noqa: S608
            f"UPDATE {table} AS r SET state = %s, claimed_by = %s, claimed_at = %s "
            f"FROM batch WHERE r.id = batch.id RETURNING r.id"
        )
        params = [mailing_id, RecipientState.QUEUED, now, mailing_id, MailingStatus.SENDING, size]
        params += [RecipientState.CLAIMED, worker_id, now]
    else:
        # SQLite: writers are serialised (BEGIN IMMEDIATE); the outer state test makes
        # the UPDATE conditional all the same.
        sql = (
            f"UPDATE {table} SET state = %s, claimed_by = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN ({ready}) AND state = %s RETURNING id"
        )
        params = [RecipientState.CLAIMED, worker_id, now]
        params += [mailing_id, RecipientState.QUEUED, now, mailing_id, MailingStatus.SENDING]
        params += [size, RecipientState.QUEUED]
    with writers_take_turns(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    return ids


def mark_window(ids: list[int], worker_id: str) -> set[int]:
    """Claimed → sending for those of `ids` that are still this worker's; returns them.

    Call inside the transaction that commits the mark. A recipient that pause, cancel or
    recovery took back since the claim is no longer *claimed* by this worker: it stays
    out, and the worker never sends it.
    """
    if not ids:
        return set()
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET state = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND claimed_by = %s AND state = %s RETURNING id",
            [
                RecipientState.SENDING,
                _db_time(timezone.now()),
                *ids,
                worker_id,
                RecipientState.CLAIMED,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def give_back(ids: list[int], worker_id: str) -> int:
    """Recipients this worker marked *sending* but never started: back to the queue."""
    if not ids:
        return 0
    # *unknown* too: recovery from another host may have given up on them, but only this
    # worker could have started them, and it did not.
    return MailingRecipient.objects.filter(
        pk__in=ids,
        claimed_by=worker_id,
        state__in=(RecipientState.SENDING, RecipientState.UNKNOWN),
    ).update(state=RecipientState.QUEUED, claimed_by="", claimed_at=None)


def release_claims(worker_id: str) -> int:
    return MailingRecipient.objects.filter(
        claimed_by=worker_id, state=RecipientState.CLAIMED
    ).update(state=RecipientState.QUEUED, claimed_by="", claimed_at=None)


# --- Recording ------------------------------------------------------------------------


@dataclass
class Result:
    recipient_id: int
    attempts: int
    outcome: Outcome
    message_id: str = ""
    at: datetime = field(default_factory=timezone.now)

    @classmethod
    def from_answer(cls, recipient_id: int, attempts: int, answer: journal.Answer) -> Result:
        return cls(
            recipient_id,
            attempts,
            Outcome(answer.state, answer.response),
            answer.message_id,
            datetime.fromtimestamp(answer.at, tz=UTC),
        )


def _record_sql(result: Result, worker_id: str) -> tuple[str, list[Any]]:
    """One recipient's answer, written only while it is still this worker's to record."""
    table = _table()
    outcome = result.outcome
    # *unknown* too: recovery from another host may have given up on a message this
    # worker, alive after all, did hand over; its answer then corrects the row.
    mine = (
        f"WHERE id = %s AND claimed_by = %s AND state IN ('{RecipientState.SENDING}', "
        f"'{RecipientState.UNKNOWN}')"
    )
    attempts = result.attempts + 1
    if outcome.state == "sent":
        return (
            f"UPDATE {table} SET state = %s, sent_at = %s, smtp_response = %s, message_id = %s, "  # noqa: S608
            f"attempts = %s {mine}",
            [
                RecipientState.SENT,
                _db_time(result.at),
                outcome.response,
                result.message_id,
                attempts,
                result.recipient_id,
                worker_id,
            ],
        )
    retry_at = RETRY.retry_at(attempts, result.at) if outcome.state == "retry" else None
    if retry_at is not None:
        return (
            f"UPDATE {table} SET state = %s, smtp_response = %s, attempts = %s, "  # noqa: S608
            f"next_attempt_at = %s, claimed_by = '', claimed_at = NULL {mine}",
            [
                RecipientState.QUEUED,
                outcome.response,
                attempts,
                _db_time(retry_at),
                result.recipient_id,
                worker_id,
            ],
        )
    state = RecipientState.UNKNOWN if outcome.state == "unknown" else RecipientState.FAILED
    return (
        f"UPDATE {table} SET state = %s, smtp_response = %s, attempts = %s {mine}",  # noqa: S608
        [state, outcome.response, attempts, result.recipient_id, worker_id],
    )


def write_results(results: list[Result], worker_id: str) -> None:
    """Many answers at once: one executemany per kind of answer (call inside a transaction)."""
    by_sql: dict[str, list[list[Any]]] = {}
    for result in results:
        sql, params = _record_sql(result, worker_id)
        by_sql.setdefault(sql, []).append(params)
    with connection.cursor() as cursor:
        for sql, rows in by_sql.items():
            cursor.executemany(sql, rows)
