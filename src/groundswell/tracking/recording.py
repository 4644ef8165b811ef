"""Recording clicks and opens: checked on the request, written later in batches.

The views call `record_click` / `record_open`, which only append to an in-memory
buffer (see buffer.py); `write_clicks` / `write_opens` run on the buffer's thread.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from groundswell.lib.clients import client_address_in
from groundswell.lib.db import column_of, each_in, insert_values
from groundswell.lib.metrics import CLICKS_RECORDED
from groundswell.lib.numbers import bounded_int
from groundswell.lib.tokens import MemberToken, read_member_token
from groundswell.lib.turns import writers_take_turns
from groundswell.mailings.models import MailingRecipient
from groundswell.tracking import machine
from groundswell.tracking.buffer import WRITE_CHUNK, EventBuffer
from groundswell.tracking.links import link_destination
from groundswell.tracking.models import USER_AGENT_LENGTH, Click, Open

logger = logging.getLogger(__name__)


E = TypeVar("E")


@dataclass(frozen=True)
class ClickEvent:
    mailing_id: int
    link_number: int
    person_id: int | None
    at: datetime
    ip_address: str | None
    user_agent: str
    machine_reason: str


@dataclass(frozen=True)
class OpenEvent:
    mailing_id: int
    person_id: int | None
    at: datetime
    ip_address: str | None
    user_agent: str


def _client(meta: Mapping[str, Any]) -> tuple[str | None, str]:
    """Where a request came from, by its META (or WSGI environ, which META is)."""
    ip = client_address_in(meta)
    return ip, meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]


def record_click(
    request: HttpRequest,
    link_number: int | str,
    token: str | None,
    *,
    checked: MemberToken | None = None,
) -> bool:
    """Count a click on a petition link (`/sign/<slug>/?t=&akid=`); True when it will be written.

    The mailing is the one the member token was made for, and the person is known
    only then. Links that do not exist are not counted. `checked`: what
    read_member_token(token) gave the caller already, so it is not worked out twice.
    """
    member = checked if checked is not None else read_member_token(token)
    if member is None or member.mailing_id == 0:
        return False
    number = bounded_int(link_number)
    if number is None or link_destination(member.mailing_id, number) is None:
        return False
    _add_click(request.META, member.mailing_id, number, member)
    return True


def record_link_click(
    meta: Mapping[str, Any], mailing_id: int, number: int, token: str | None
) -> None:
    """Count a click through /go/, whose link has already been found (no second
    look-up): `meta` is the request's META, or its WSGI environ where it is answered
    in front of Django (tracking/fastpath.py). The person is known only when the token
    was made for this very mailing."""
    _add_click(meta, mailing_id, number, read_member_token(token))


def _add_click(
    meta: Mapping[str, Any], mailing_id: int, number: int, member: MemberToken | None
) -> None:
    ip, user_agent = _client(meta)
    # People's browsers GET a link; a HEAD comes from something checking it.
    reason = machine.REASON_SCANNER if meta.get("REQUEST_METHOD") == "HEAD" else ""
    CLICKS.add(
        ClickEvent(
            mailing_id=mailing_id,
            link_number=number,
            person_id=member.person_id if member and member.mailing_id == mailing_id else None,
            at=timezone.now(),
            ip_address=ip,
            user_agent=user_agent,
            machine_reason=reason or machine.scanner_reason(user_agent),
        )
    )


def record_open(request: HttpRequest, mailing_id: int, token: str | None) -> bool:
    """Count an open when the token is valid and made for this mailing."""
    member = read_member_token(token)
    if member is None or member.mailing_id != mailing_id:
        return False
    ip, user_agent = _client(request.META)
    OPENS.add(
        OpenEvent(
            mailing_id=mailing_id,
            person_id=member.person_id,
            at=timezone.now(),
            ip_address=ip,
            user_agent=user_agent,
        )
    )
    return True


def _chunks(items: Sequence[E], size: int) -> list[Sequence[E]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# What a flush writes of each event: values, not model instances (lib/inserts.insert_values).
CLICK_FIELDS = (
    "mailing_id",
    "link_number",
    "person_id",
    "clicked_at",
    "ip_address",
    "user_agent",
    "is_machine",
    "machine_reason",
)
OPEN_FIELDS = ("mailing_id", "person_id", "opened_at", "ip_address", "user_agent")

Row = tuple[Any, ...]


def _insert(row: models.Model) -> bool:
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _save_each(model: type[models.Model], fields: tuple[str, ...], rows: Sequence[Row]) -> None:
    """The slow path after a refused batch: row by row, forgetting a person or a
    mailing deleted since the event, so one stale row cannot lose its batch."""
    for values in rows:
        row = model(**dict(zip(fields, values, strict=True)))
        if _insert(row):
            continue
        if getattr(row, "person_id", None) is not None:
            row = model(**{**dict(zip(fields, values, strict=True)), "person_id": None})
            if _insert(row):
                continue
        logger.warning("dropped a %s of a deleted mailing", model.__name__)


def _write(
    model: type[models.Model],
    fields: tuple[str, ...],
    events: Sequence[E],
    to_rows: Callable[[Sequence[E]], list[Row]],
) -> None:
    # In turn with the signature writer and the other writers (lib/turns.py), so that
    # neither waits out SQLite's busy timeout behind the other.
    rows: list[Row] = []
    with writers_take_turns():
        try:
            with transaction.atomic():
                rows = to_rows(events)
                insert_values(model, fields, rows)
        except IntegrityError:
            if not rows:
                raise
            _save_each(model, fields, rows)


def write_clicks(events: Sequence[ClickEvent]) -> None:
    for chunk in _chunks(events, WRITE_CHUNK):
        _write(Click, CLICK_FIELDS, chunk, _click_rows)
    CLICKS_RECORDED.inc(len(events))


def write_opens(events: Sequence[OpenEvent]) -> None:
    for chunk in _chunks(events, WRITE_CHUNK):
        _write(Open, OPEN_FIELDS, chunk, _open_rows)


def _open_rows(events: Sequence[OpenEvent]) -> list[Row]:
    return [(e.mailing_id, e.person_id, e.at, e.ip_address, e.user_agent) for e in events]


def _click_rows(events: Sequence[ClickEvent]) -> list[Row]:
    """The clicks as rows of CLICK_FIELDS, with rules 2 and 3 of machine.py applied:
    they need the database (the recipient's sent_at, and their clicks written just
    before or after this batch, perhaps by another process)."""
    reasons = [e.machine_reason for e in events]

    def mark(index: int, reason: str) -> None:
        reasons[index] = reasons[index] or reason

    known = [i for i, e in enumerate(events) if e.person_id is not None]
    if known:
        keys = {(e.mailing_id, e.person_id) for e in events if e.person_id is not None}
        # Only copies sent late enough for a click of the batch to come too soon: after
        # a send, none, instead of a row (and a time to load) for every clicker.
        # SQLite, which plans without statistics, is not asked it: with a condition
        # on sent_at it walked the mailing's every recipient along its sent_at index.
        since = min(events[i].at for i in known) - timedelta(seconds=machine.AFTER_SEND_SECONDS)
        late = {"sent_at__gt": since} if connection.vendor == "postgresql" else {}
        sent: dict[tuple[int, int | None], datetime | None] = {
            (m, p): at
            for m, p, at in _by_recipient(MailingRecipient, keys, ("sent_at",), **late)
            if at
        }
        for i in known:
            e = events[i]
            if machine.too_soon(e.at, sent.get((e.mailing_id, e.person_id))):
                mark(i, machine.REASON_TOO_SOON)
        window = timedelta(seconds=machine.BURST_SECONDS)
        earlier = _by_recipient(
            Click,
            keys,
            ("id", "link_number", "clicked_at", "is_machine"),
            clicked_at__gte=min(events[i].at for i in known) - window,
            clicked_at__lte=max(events[i].at for i in known) + window,
        )
        by_recipient: dict[tuple[int, int], list[machine.TimedClick]] = defaultdict(list)
        stored_human: set[int] = set()
        for m, p, pk, number, at, is_machine in earlier:
            by_recipient[(m, p)].append(machine.TimedClick(("stored", pk), number, at))
            if not is_machine:
                stored_human.add(pk)
        for i in known:
            e = events[i]
            by_recipient[(e.mailing_id, e.person_id)].append(  # type: ignore[index]
                machine.TimedClick(("new", i), e.link_number, e.at)
            )
        to_update: list[int] = []
        for clicks in by_recipient.values():
            if len(clicks) < machine.BURST_LINKS:
                continue
            for kind, ref in machine.burst_keys(clicks):
                if kind == "new":
                    mark(ref, machine.REASON_BURST)
                elif ref in stored_human:
                    to_update.append(ref)
        if to_update:
            Click.objects.filter(pk__in=to_update).update(
                is_machine=True, machine_reason=machine.REASON_BURST
            )
    return [
        (e.mailing_id, e.link_number, e.person_id, e.at, e.ip_address, e.user_agent, bool(r), r)
        for e, r in zip(events, reasons, strict=True)
    ]


def _by_recipient(
    model: type[models.Model],
    keys: set[tuple[int, int]],
    fields: tuple[str, ...],
    **conditions: Any,
) -> list[Row]:
    """(mailing id, person id, *fields) of each of `model`'s rows whose (mailing,
    person) is one of `keys` and that meets `conditions` (filter() keywords).

    On PostgreSQL looked up key by key along the index that starts with (mailing,
    person), whatever the planner believes of the table. Asked with one `= ANY` a
    column, it chose from its statistics, and without fresh ones (a list sent a
    minute ago, the clicks of a new mailing) it took the index on the mailing alone
    and filtered every row: each flush of the click wave read the whole list's
    copies, or every click of the last seconds (docs/performance.md). SQLite finds
    the same index for IN lists."""
    matching = model._default_manager.filter(**conditions)
    if connection.vendor != "postgresql":
        mailing_ids, person_ids = {m for m, _p in keys}, {p for _m, p in keys}
        rows = matching.filter(each_in(model, mailing=mailing_ids, person=person_ids))
        found = rows.values_list("mailing_id", "person_id", *fields)
        return [row for row in found if (row[0], row[1]) in keys]
    table = connection.ops.quote_name(model._meta.db_table)
    column = {name: column_of(model, name) for name in ("mailing", "person", *fields)}
    where: str = ""
    params: Sequence[Any] = ()
    if conditions:
        query = matching.query
        where, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    # OFFSET 0 keeps the subquery a subquery: run for each key, not merged into a join
    # the planner could again choose to make by reading the whole table.
    sql = (
        f"SELECT k.m, k.p, r.* FROM unnest(%s::bigint[], %s::bigint[]) AS k(m, p) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT {', '.join(column[f] for f in fields)} "
        f"FROM {table} WHERE {column['mailing']} = k.m "
        f"AND {column['person']} = k.p{f' AND {where}' if where else ''} OFFSET 0) AS r"
    )
    ordered = list(keys)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [_bigint_array(m for m, _p in ordered), _bigint_array(p for _m, p in ordered), *params],
        )
        return cursor.fetchall()


def _bigint_array(ids: Iterable[int]) -> str:
    """Ids as a PostgreSQL array literal: psycopg's list dumper quotes an array value by
    value in Python, a third of the flush's reads' client time for 500 clickers."""
    return "{" + ",".join(str(i) for i in ids) + "}"


CLICKS: EventBuffer[ClickEvent] = EventBuffer("clicks", write_clicks)
OPENS: EventBuffer[OpenEvent] = EventBuffer("opens", write_opens)


def flush_all() -> int:
    """Write every buffered click and open now (before a one-shot process exits, or
    where TRACKING_BACKGROUND_FLUSHES is off)."""
    return CLICKS.flush() + OPENS.flush()
