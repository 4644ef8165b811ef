"""Recording clicks and opens: checked on the request, written later in batches.

The views call `record_click` / `record_open`, which only append to an in-memory
buffer (see buffer.py); `write_clicks` / `write_opens` run on the buffer's thread.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from groundswell.lib.clients import client_address_in
from groundswell.lib.db import insert_all
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


M = TypeVar("M", bound=models.Model)
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


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _insert(row: models.Model) -> bool:
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        row.pk = None
        return False
    return True


def _save_each(rows: Sequence[models.Model]) -> None:
    """The slow path after a refused batch: row by row, forgetting a person or a
    mailing deleted since the event, so one stale row cannot lose its batch."""
    for row in rows:
        if _insert(row):
            continue
        if getattr(row, "person_id", None) is not None:
            row.person_id = None  # type: ignore[attr-defined]
            if _insert(row):
                continue
        logger.warning("dropped a %s of a deleted mailing", type(row).__name__)


def _write(rows: Sequence[M], write_batch: Callable[[list[M]], object]) -> None:
    # In turn with the signature writer and the other writers (lib/turns.py), so that
    # neither waits out SQLite's busy timeout behind the other.
    with writers_take_turns():
        try:
            with transaction.atomic():
                write_batch(list(rows))
        except IntegrityError:
            for row in rows:
                row.pk = None
            _save_each(rows)


def _write_events(
    events: Sequence[E], to_row: Callable[[E], M], write_batch: Callable[[list[M]], object]
) -> None:
    for chunk in _chunks(events, WRITE_CHUNK):
        _write([to_row(e) for e in chunk], write_batch)


def _click_row(e: ClickEvent) -> Click:
    return Click(
        mailing_id=e.mailing_id,
        link_number=e.link_number,
        person_id=e.person_id,
        clicked_at=e.at,
        ip_address=e.ip_address,
        user_agent=e.user_agent,
        is_machine=bool(e.machine_reason),
        machine_reason=e.machine_reason,
    )


def _open_row(e: OpenEvent) -> Open:
    return Open(
        mailing_id=e.mailing_id,
        person_id=e.person_id,
        opened_at=e.at,
        ip_address=e.ip_address,
        user_agent=e.user_agent,
    )


def write_clicks(events: Sequence[ClickEvent]) -> None:
    _write_events(events, _click_row, _classify_and_insert)
    CLICKS_RECORDED.inc(len(events))


def write_opens(events: Sequence[OpenEvent]) -> None:
    _write_events(events, _open_row, insert_all)


def _mark(row: Click, reason: str) -> None:
    if not row.is_machine:
        row.is_machine, row.machine_reason = True, reason


def _classify_and_insert(rows: list[Click]) -> None:
    """Rules 2 and 3 of machine.py need the database: the recipient's sent_at, and
    their clicks written just before or after this batch (another process's batch)."""
    known = [r for r in rows if r.person_id is not None]
    if known:
        mailing_ids = {r.mailing_id for r in known}
        person_ids = {r.person_id for r in known}
        # By the recipients' (mailing, person) key. Not "sent_at is set" in the query:
        # SQLite then walked the mailing's every recipient along its sent_at index,
        # a whole list's worth of rows each flush in the click wave after a send.
        sent: dict[tuple[int, int | None], datetime | None] = {
            (m, p): at
            for m, p, at in MailingRecipient.objects.filter(
                mailing_id__in=mailing_ids, person_id__in=person_ids
            ).values_list("mailing_id", "person_id", "sent_at")
            if at is not None
        }
        for row in known:
            if machine.too_soon(row.clicked_at, sent.get((row.mailing_id, row.person_id))):
                _mark(row, machine.REASON_TOO_SOON)
        window = timedelta(seconds=machine.BURST_SECONDS)
        earlier = Click.objects.filter(
            mailing_id__in=mailing_ids,
            person_id__in=person_ids,
            clicked_at__gte=min(r.clicked_at for r in known) - window,
            clicked_at__lte=max(r.clicked_at for r in known) + window,
        ).values_list("pk", "mailing_id", "person_id", "link_number", "clicked_at", "is_machine")
        by_recipient: dict[tuple[int, int], list[machine.TimedClick]] = defaultdict(list)
        stored_human: set[int] = set()
        for pk, m, p, number, at, is_machine in earlier:
            by_recipient[(m, p)].append(machine.TimedClick(("stored", pk), number, at))
            if not is_machine:
                stored_human.add(pk)
        for index, row in enumerate(rows):
            if row.person_id is not None:
                key = (row.mailing_id, row.person_id)
                by_recipient[key].append(
                    machine.TimedClick(("new", index), row.link_number, row.clicked_at)
                )
        to_update: list[int] = []
        for clicks in by_recipient.values():
            if len(clicks) < machine.BURST_LINKS:
                continue
            for kind, ref in machine.burst_keys(clicks):
                if kind == "new":
                    _mark(rows[ref], machine.REASON_BURST)
                elif ref in stored_human:
                    to_update.append(ref)
        if to_update:
            Click.objects.filter(pk__in=to_update).update(
                is_machine=True, machine_reason=machine.REASON_BURST
            )
    # insert_all: bulk_create's rows for a fraction of its Python time, which a flush
    # spends holding the writers' turn.
    insert_all(rows)


CLICKS: EventBuffer[ClickEvent] = EventBuffer("clicks", write_clicks)
OPENS: EventBuffer[OpenEvent] = EventBuffer("opens", write_opens)


def flush_all() -> int:
    """Write every buffered click and open now (before a one-shot process exits, or
    where TRACKING_BACKGROUND_FLUSHES is off)."""
    return CLICKS.flush() + OPENS.flush()
