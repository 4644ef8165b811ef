from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from groundswell.lib.markdown import render_markdown
from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions import consent
from groundswell.petitions.models import Petition, PetitionStatus, Signature

pytestmark = pytest.mark.django_db

CAMPAIGN_A = "microsoft-end-ice-contract"
CAMPAIGN_B = "microsoft-cancelthecontract"


def load(signatures: int) -> str:
    out = StringIO()
    call_command("load_demo", signatures=signatures, stdout=out)
    return out.getvalue()


def footnote_numbers(markdown: str) -> tuple[list[str], list[str]]:
    references = re.findall(r"\[\^(\d+)\](?!:)", markdown)
    definitions = re.findall(r"^\[\^(\d+)\]:", markdown, flags=re.MULTILINE)
    return references, definitions


def counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "lists": MailingList.objects.count(),
        "petitions": Petition.objects.count(),
        "people": Person.objects.count(),
        "signatures": Signature.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "events": ConsentEvent.objects.count(),
    }


class TestLoadDemo:
    def test_it_creates_campaign_a_sponsored_by_two_sister_organisations(self) -> None:
        load(50)
        petition = Petition.objects.get(slug=CAMPAIGN_A)
        sponsors = [s.organisation for s in petition.sponsorships.order_by("position")]
        assert [org.name for org in sponsors] == ["Tallgrass Rights Trust", "Tallgrass Action Fund"]
        assert petition.target == "the leaders of Microsoft"
        assert petition.status == PetitionStatus.OPEN
        assert petition.consent_mode == "explicit"
        assert "Immigration and Customs Enforcement" in petition.statement
        assert "$19.4 million" in petition.background
        assert '"mission critical"' in petition.background
        assert "The Nation, 27 June 2018" in petition.background

    def test_it_creates_campaign_b_with_a_lead_organisation_and_its_coalition(self) -> None:
        load(50)
        petition = Petition.objects.get(slug=CAMPAIGN_B)
        sponsors = [s.organisation.name for s in petition.sponsorships.order_by("position")]
        assert sponsors[0] == "Fieldstone Action"
        assert len(sponsors) == 4
        assert petition.target == "Satya Nadella, CEO of Microsoft"
        assert petition.consent_mode == "explicit"
        background = " ".join(petition.background.split())
        for partner in sponsors[1:]:
            assert partner in background

    def test_it_numbers_every_footnote_and_defines_each_once(self) -> None:
        load(10)
        a = Petition.objects.get(slug=CAMPAIGN_A)
        b = Petition.objects.get(slug=CAMPAIGN_B)
        references, definitions = footnote_numbers(b.background)
        assert definitions == ["1", "2", "3", "4", "5", "6"]
        assert sorted(set(references)) == definitions
        references, definitions = footnote_numbers(a.background)
        assert definitions == [str(n) for n in range(1, len(definitions) + 1)]
        assert sorted(set(references)) == definitions
        # The renderer turns them into a numbered list of notes, not literal brackets.
        html = render_markdown(b.background)
        assert "[^" not in html
        assert html.count('<li id="fn') == 6

    def test_it_opens_both_petitions_some_weeks_ago(self) -> None:
        load(10)
        for petition in Petition.objects.all():
            assert petition.opened_at is not None
            age = timezone.now() - petition.opened_at
            assert timedelta(days=14) < age < timedelta(days=60)
            assert petition.created_at < petition.opened_at
            assert petition.goal >= 1000

    def test_it_gives_each_organisation_full_details_and_a_default_list(self) -> None:
        load(10)
        assert Organisation.objects.count() == 6
        for org in Organisation.objects.all():
            assert org.postal_address.count("\n") >= 2
            assert org.privacy_policy_url == f"{org.website}/privacy"
            assert org.privacy_policy_url.startswith("https://")
            assert org.sender_name and org.sender_email.endswith(".example")
            assert org.default_list is not None

    def test_it_creates_exactly_the_signatures_asked_for(self) -> None:
        out = load(300)
        assert Signature.objects.count() == 300
        assert "300 signatures" in out
        sources = set(Signature.objects.values_list("source", flat=True))
        assert sources == {"email", "facebook", "twitter", "website"}
        assert Signature.objects.exclude(comment="").exists()
        assert Signature.objects.filter(show_name=True).exists()
        assert Signature.objects.filter(show_name=False).exists()
        assert Person.objects.filter(country="US").exists()
        assert Person.objects.filter(country="GB").exists()

    def test_it_spreads_signatures_over_the_weeks_since_opening(self) -> None:
        load(400)
        now = timezone.now()
        for petition in Petition.objects.all():
            times = list(petition.signatures.values_list("created_at", flat=True))
            assert petition.opened_at is not None
            assert min(times) >= petition.opened_at
            assert max(times) <= now
            days = {time.date() for time in times}
            assert len(days) >= 7

    def test_it_records_consent_with_the_wording_source_and_time_of_signing(self) -> None:
        load(200)
        # Katy ticked both sister organisations' boxes.
        signature = Signature.objects.get(
            petition__slug=CAMPAIGN_A, person__email_normalised="katy@example.org"
        )
        events = ConsentEvent.objects.filter(
            subscription__person=signature.person,
            subscription__mailing_list__organisation__sponsorships__petition__slug=CAMPAIGN_A,
        ).select_related("subscription__mailing_list__organisation")
        assert events.count() == 2  # one per sister organisation, each with its own box
        for event in events:
            org = event.subscription.mailing_list.organisation
            assert event.source == f"petition:{CAMPAIGN_A}"
            assert event.created_at == signature.created_at
            assert org.name in event.wording
            assert "unsubscribe at any time" in event.wording
            assert org.privacy_policy_url in event.wording
            assert event.ip_address

    def test_it_records_the_words_the_petition_page_shows(self) -> None:
        load(100)
        for slug in (CAMPAIGN_A, CAMPAIGN_B):
            petition = Petition.objects.get(slug=slug)
            sponsors = [s.organisation for s in petition.sponsorships.all()]
            if petition.consent_mode == "notice":
                shown = {consent.recorded_wording(consent.notice_sentence(sponsors), sponsors)}
            else:
                shown = {
                    consent.recorded_wording(consent.explicit_sentence(org), [org])
                    for org in sponsors
                }
            recorded = set(
                ConsentEvent.objects.filter(source=f"petition:{slug}").values_list(
                    "wording", flat=True
                )
            )
            assert recorded and recorded <= shown

    def test_it_asks_each_coalition_member_separately_on_campaign_b(self) -> None:
        load(600)
        events = ConsentEvent.objects.filter(source=f"petition:{CAMPAIGN_B}")
        lead = events.filter(subscription__mailing_list__organisation__slug="fieldstone-action")
        partner = events.filter(subscription__mailing_list__organisation__slug="keystroke-workers")
        assert lead.count() > partner.count() > 0
        event = partner.first()
        assert event is not None
        assert "Keystroke Workers for Justice" in event.wording
        assert "Fieldstone" not in event.wording

    def test_it_keeps_a_history_for_people_who_unsubscribed_later(self) -> None:
        load(1000)
        left = Subscription.objects.filter(status=SubscriptionStatus.UNSUBSCRIBED)
        assert left.exists()
        subscription = left.first()
        assert subscription is not None
        kinds = list(subscription.events.values_list("kind", flat=True))
        assert kinds == ["subscribed", "unsubscribed"]
        first, last = subscription.events.all()
        assert first.created_at < last.created_at <= timezone.now()
        assert (
            Subscription.objects.filter(status=SubscriptionStatus.SUBSCRIBED).count()
            > left.count() * 10
        )

    def test_it_adds_nothing_when_run_twice(self) -> None:
        load(250)
        before = counts()
        out = load(250)
        assert counts() == before
        assert "added 0 people, 0 signatures, 0 subscriptions and 0 consent events" in out

    def test_it_brings_back_the_same_people_and_adds_only_the_difference(self) -> None:
        load(100)
        first_people = set(Person.objects.values_list("email_normalised", flat=True))
        load(180)
        assert Signature.objects.count() == 180
        assert first_people < set(Person.objects.values_list("email_normalised", flat=True))
        # Every subscription still has exactly one subscribed event: none was repeated.
        for subscription in Subscription.objects.all():
            assert subscription.events.filter(kind=SubscriptionStatus.SUBSCRIBED).count() == 1

    def test_it_includes_katy_the_member_we_recognise(self) -> None:
        load(5)
        katy = Person.objects.get(email_normalised="katy@example.org")
        assert katy.first_name == "Katy"
        signature = katy.signatures.get()
        assert signature.petition.slug == CAMPAIGN_A
        assert signature.show_name
        assert set(
            katy.subscriptions.values_list("mailing_list__organisation__slug", flat=True)
        ) == {"tallgrass-rights-trust", "tallgrass-action-fund"}

    def test_it_rejects_a_negative_number(self) -> None:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            load(-1)


class TestDemoMailing:
    def test_it_drafts_campaign_b_email_for_fieldstones_list(self) -> None:
        from groundswell.mailings.models import Mailing, MailingStatus
        from groundswell.mailings.rendering import render_preview
        from groundswell.mailings.targeting import count_recipients

        load(30)
        load(30)
        mailing = Mailing.objects.get()
        assert mailing.status == MailingStatus.DRAFT
        assert mailing.organisation.name == "Fieldstone Action"
        assert mailing.petition is not None and mailing.petition.slug == CAMPAIGN_B
        assert [m.organisation.slug for m in mailing.include_lists.all()] == ["fieldstone-action"]
        assert count_recipients(mailing) > 0
        assert "Microsoft" in mailing.subject and "ICE" in mailing.subject
        assert mailing.signoff_name == "Marisol Whitcombe"
        assert mailing.body.startswith('Dear {{ first_name|default:"friend" }},')
        references = re.findall(r"^([1-6])\. ", mailing.body, flags=re.MULTILINE)
        assert references == ["1", "2", "3", "4", "5", "6"]
        katy = Person.objects.get(email="katy@example.org")
        _subject, html, text = render_preview(mailing, katy)
        assert "Dear Katy," in text
        assert html.count('class="button"') == 3
        assert "Share on Facebook" in html and "Share on X" in html
        assert "PO Box 20417" in html
