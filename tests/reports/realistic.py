"""A mailing that looks like a real one a day and a half after sending, for the
screenshot and the browser test: opens and clicks that fade over hours, a few mail
scanners, signatures, unsubscribes and a complaint."""

from __future__ import annotations

import random
from datetime import timedelta

from groundswell.mailings.models import Mailing, MailingRecipient, RecipientState, TrackedLink
from groundswell.members.models import Person
from groundswell.petitions.models import Signature
from groundswell.tracking.recording import ClickEvent, OpenEvent, write_clicks, write_opens
from tests.tracking.cast import make_cast

PEOPLE = ["Chrome/126 Safari/537.36", "Firefox/128.0", "Mobile/15E148 Safari/604.1"]


def make_realistic_mailing(recipients: int = 2400, seed: int = 7, age_hours: float = 36) -> Mailing:
    """`age_hours` is how long ago it was sent; everything happens in that time."""
    rng = random.Random(seed)
    cast = make_cast(sent_ago=timedelta(hours=age_hours))
    scale = age_hours / 36
    mailing = cast.mailing
    TrackedLink.objects.filter(mailing=mailing, number=3).update(label="Share on Facebook")
    TrackedLink.objects.create(
        mailing=mailing,
        number=4,
        kind="external",
        url="https://open-press.example.org/report-2018.pdf",
        label="our report",
    )
    TrackedLink.objects.create(
        mailing=mailing,
        number=5,
        kind="subscriptions",
        url="http://testserver/subscriptions/",
        label="Manage subscriptions",
    )
    people = Person.objects.bulk_create(
        Person(
            email=f"member{n}@example.org",
            email_normalised=f"member{n}@example.org",
            first_name=f"Member{n}",
        )
        for n in range(recipients)
    )
    sent_at = cast.sent_at
    rows = []
    for n, person in enumerate(people):
        state = RecipientState.SENT
        if n % 97 == 5:
            state = RecipientState.FAILED
        elif n == 11:
            state = RecipientState.UNKNOWN
        rows.append(
            MailingRecipient(
                mailing=mailing,
                person=person,
                email=person.email,
                state=state,
                sent_at=sent_at + timedelta(seconds=n // 40) if state == "sent" else None,
                bounced_at=sent_at + timedelta(minutes=3) if n % 61 == 3 else None,
                unsubscribed_at=sent_at + timedelta(hours=rng.expovariate(1 / 3))
                if n % 149 == 7
                else None,
                complained_at=sent_at + timedelta(hours=2) if n == 1234 else None,
            )
        )
    MailingRecipient.objects.bulk_create(rows, batch_size=500)

    def later(mean_hours: float) -> timedelta:
        hours = rng.expovariate(1 / (mean_hours * scale)) + 0.02 * scale
        return timedelta(hours=min(35.5 * scale, hours))

    opens, clicks = [], []
    for n, person in enumerate(people):
        agent = f"Mozilla/5.0 {rng.choice(PEOPLE)}"
        if n % 53 == 0:  # a company's mail scanner follows every link at once
            at = sent_at + timedelta(seconds=n // 40 + 2)
            for number in range(1, 6):
                clicks.append(ClickEvent(mailing.pk, number, person.pk, at, None, agent, ""))
            continue
        if rng.random() < 0.38:
            at = sent_at + later(5)
            opens.append(OpenEvent(mailing.pk, person.pk, at, None, agent))
            if rng.random() < 0.3:
                opens.append(OpenEvent(mailing.pk, person.pk, at + later(6), None, agent))
            if rng.random() < 0.3:
                number = rng.choices([1, 2, 3, 4], weights=[70, 15, 8, 7])[0]
                clicks.append(
                    ClickEvent(
                        mailing.pk, number, person.pk, at + timedelta(minutes=1), None, agent, ""
                    )
                )
                if rng.random() < 0.25:  # back to the same page later
                    clicks.append(
                        ClickEvent(mailing.pk, number, person.pk, at + later(4), None, agent, "")
                    )
    write_opens(opens)
    write_clicks(clicks)
    signers = [c for c in clicks if c.link_number == 1 and c.person_id and rng.random() < 0.6]
    seen: set[int] = set()
    for c in signers:
        if c.person_id in seen or c.at - sent_at < timedelta(seconds=30):
            continue
        seen.add(c.person_id)  # type: ignore[arg-type]
        signature = Signature.objects.create(
            petition=cast.petition, person_id=c.person_id, mailing_id=mailing.pk, link_number=1
        )
        Signature.objects.filter(pk=signature.pk).update(created_at=c.at + timedelta(minutes=2))
    return mailing
