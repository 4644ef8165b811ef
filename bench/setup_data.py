"""Run by bench/harness.py in the bench's environment: `setup` makes the petition the
bench signs, `count` prints the rows a run wrote (JSON). Not for use on real data.
"""

from __future__ import annotations

import json
import os
import sys

import django

SLUG = "bench-petition"
ORG_SLUG = "bench-org"


def setup() -> None:
    from django.utils import timezone

    from groundswell.benchsupport.views import create_bench_table
    from groundswell.orgs.models import MailingList, Organisation
    from groundswell.petitions.models import Petition, PetitionSponsor, PetitionStatus

    org = Organisation.objects.create(
        name="Bench Campaigns",
        slug=ORG_SLUG,
        website="https://bench.example.org",
        postal_address="1 Example Street\nLondon N1 9GU",
        privacy_policy_url="https://bench.example.org/privacy",
        sender_name="Bench Campaigns",
        sender_email="hello@bench.example.org",
    )
    MailingList.objects.create(organisation=org, name="Updates", slug="updates", is_default=True)
    petition = Petition.objects.create(
        slug=SLUG,
        title="Keep the library open on Sundays",
        target="the borough council",
        statement="We ask the council to keep the central library open on Sundays.",
        background=(
            "The library is the only warm, free place open to everyone in the centre "
            "of town.[^1] Closing it on Sundays saves little.[^2]\n\n"
            "[^1]: Council survey of public spaces.\n[^2]: Budget papers, item 12.\n"
        ),
        goal=100_000,
        status=PetitionStatus.OPEN,
        opened_at=timezone.now(),
        thank_you_text="Thank you for signing.",
        share_text="I signed: keep the library open on Sundays.",
    )
    PetitionSponsor.objects.create(petition=petition, organisation=org, position=0)
    create_bench_table()
    setup_wave(org, petition)


# Members who got the mailing whose click wave the bench replays (page-member,
# sign-member, go, mixed-wave): distinct people, each with a link to follow. Enough
# that the one-click signatures of a run (after page-member has used its share) are
# all by people who have not signed yet: a repeat is an "already signed" note, not
# the first signature the scenario measures.
WAVE_MEMBERS = 20_000
WAVE_FILE = "bench-members.json"


def setup_wave(org: object, petition: object) -> None:
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from groundswell.lib.tokens import make_member_token
    from groundswell.mailings.models import (
        LinkKind,
        Mailing,
        MailingRecipient,
        RecipientState,
        TrackedLink,
    )
    from groundswell.members.models import Person, Subscription, SubscriptionStatus
    from groundswell.orgs.models import MailingList

    mailing = Mailing.objects.create(
        organisation=org,
        from_name="Bench Campaigns",
        from_email="hello@bench.example.org",
        subject="Keep the library open",
        body="Hello {{ first_name }}",
        petition=petition,
        status="sent",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    TrackedLink.objects.create(
        mailing=mailing,
        number=1,
        kind=LinkKind.PETITION,
        url=f"{settings.BASE_URL}/sign/{SLUG}/",
        petition=petition,
        label="Sign the petition",
    )
    TrackedLink.objects.create(
        mailing=mailing,
        number=2,
        kind=LinkKind.EXTERNAL,
        url="https://news.example.org/library",
        label="the news report",
    )
    people = Person.objects.bulk_create(
        [
            Person(
                # A thousand domains, as a real list has: one domain for all would
                # meet the per-domain rate limit (docs/security.md).
                email=f"member{i}@m{i % 1000}.bench.example.org",
                email_normalised=f"member{i}@m{i % 1000}.bench.example.org",
                first_name=f"Member{i}",
                last_name="Bench",
                postal_code="N1 9GU",
                country="GB",
            )
            for i in range(WAVE_MEMBERS)
        ],
        batch_size=1000,
    )
    # As after a real send: each member is on the list the mailing went to (so their
    # page offers no consent box, and their one click sends none), and each has the
    # copy they were sent, some minutes before they click (tracking reads sent_at).
    mailing_list = MailingList.objects.get(organisation=org, is_default=True)
    Subscription.objects.bulk_create(
        [
            Subscription(person=p, mailing_list=mailing_list, status=SubscriptionStatus.SUBSCRIBED)
            for p in people
        ],
        batch_size=1000,
    )
    sent_at = timezone.now() - timedelta(minutes=10)
    MailingRecipient.objects.bulk_create(
        [
            MailingRecipient(
                mailing=mailing,
                person=p,
                email=p.email,
                state=RecipientState.SENT,
                sent_at=sent_at,
            )
            for p in people
        ],
        batch_size=1000,
    )
    tokens = [make_member_token(p.pk, mailing.pk) for p in people]
    out = {"mailing": mailing.pk, "tokens": tokens}
    (settings.DATA_DIR / WAVE_FILE).write_text(json.dumps(out))


def count() -> None:
    from django.db import connection

    from groundswell.benchsupport.views import TABLE
    from groundswell.petitions.models import Signature

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        (bench_rows,) = cursor.fetchone()
    print(json.dumps({"signatures": Signature.objects.count(), "bench_rows": bench_rows}))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    django.setup()
    {"setup": setup, "count": count}[sys.argv[1]]()
