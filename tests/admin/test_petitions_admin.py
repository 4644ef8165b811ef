from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Petition, PetitionSponsor, Signature
from tests.cast import make_org, make_person, make_petition

from .conftest import make_signer
from .helpers import count_queries


class TestPetitionAdmin:
    def test_it_lists_petitions_with_valid_signature_counts(self, alice_client, campaign):
        petition = campaign["petition"]
        make_signer(1, petition, campaign["list"])
        spam = make_signer(2, petition, campaign["list"])
        Signature.objects.filter(person=spam).update(status="invalidated")
        response = alice_client.get(reverse("admin:petitions_petition_changelist"))
        assert response.status_code == 200
        assert "Petition save-the-worms" in response.text
        assert '<td class="field-valid_signature_count">2</td>' in response.text

    def test_it_previews_the_background_as_html_with_footnotes(self, alice_client, campaign):
        url = reverse("admin:petitions_petition_change", args=[campaign["petition"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "<div class='markdown-preview'>" in response.text
        preview = response.text.split("markdown-preview")[1]
        assert '<sup><a href="#fn1" id="fnref1"' in preview
        assert '<section class="footnotes">' in preview

    def test_its_preview_escapes_raw_html(self, alice_client, campaign):
        petition = campaign["petition"]
        petition.background = "Hello <script>alert(1)</script>"
        petition.save()
        url = reverse("admin:petitions_petition_change", args=[petition.pk])
        response = alice_client.get(url)
        assert "<script>alert(1)</script>" not in response.text.split("markdown-preview")[1]

    def test_it_shows_sponsors_in_order(self, alice_client, campaign):
        petition = campaign["petition"]
        second = make_org("Friends of the Moles", "moles")
        PetitionSponsor.objects.create(petition=petition, organisation=second, position=1)
        PetitionSponsor.objects.filter(organisation=campaign["org"]).update(position=2)
        url = reverse("admin:petitions_petition_change", args=[petition.pk])
        text = alice_client.get(url).text
        assert text.index("Friends of the Moles") < text.index("Friends of the Earthworm")

    def test_it_renders_the_add_page_with_a_prepopulated_slug(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:petitions_petition_add"))
        assert response.status_code == 200
        assert "prepopulated" in response.text
        assert "Nothing yet" in response.text

    def test_it_stamps_the_opening_time_when_staff_open_it(self, alice_client, campaign):
        org = campaign["org"]
        response = alice_client.post(
            reverse("admin:petitions_petition_add"),
            {
                "title": "Plant more trees",
                "slug": "plant-more-trees",
                "status": "open",
                "target": "the council",
                "statement": "Plant trees.",
                "background": "",
                "goal": "100",
                "consent_mode": "explicit",
                "sponsorships-TOTAL_FORMS": "1",
                "sponsorships-INITIAL_FORMS": "0",
                "sponsorships-MIN_NUM_FORMS": "1",
                "sponsorships-MAX_NUM_FORMS": "1000",
                "sponsorships-0-organisation": org.pk,
                "sponsorships-0-position": "0",
            },
        )
        assert response.status_code == 302, response.text
        petition = Petition.objects.get(slug="plant-more-trees")
        assert petition.opened_at is not None
        assert petition.opened_at <= timezone.now()
        assert AuditEntry.objects.get().action == AuditAction.PETITION_OPENED
        assert list(petition.sponsors.all()) == [org]

    def test_it_closes_through_the_action_and_keeps_the_other_changes(self, alice_client, campaign):
        petition = campaign["petition"]
        url = reverse("admin:petitions_petition_change", args=[petition.pk])
        sponsor = PetitionSponsor.objects.get(petition=petition)
        form = {
            "title": "Worms, saved",
            "slug": petition.slug,
            "status": "closed",
            "target": petition.target,
            "statement": petition.statement,
            "background": petition.background,
            "goal": "100",
            "consent_mode": petition.consent_mode,
            "sponsorships-TOTAL_FORMS": "1",
            "sponsorships-INITIAL_FORMS": "1",
            "sponsorships-MIN_NUM_FORMS": "1",
            "sponsorships-MAX_NUM_FORMS": "1000",
            "sponsorships-0-id": sponsor.pk,
            "sponsorships-0-petition": petition.pk,
            "sponsorships-0-organisation": sponsor.organisation_id,
            "sponsorships-0-position": "0",
        }
        response = alice_client.post(url, form)
        assert response.status_code == 302, response.context["adminform"].form.errors
        petition.refresh_from_db()
        assert (petition.status, petition.title) == ("closed", "Worms, saved")
        assert petition.closed_at is not None
        entry = AuditEntry.objects.get(action=AuditAction.PETITION_CLOSED)
        assert (entry.actor, entry.details["petition"]) == ("admin:alice", petition.pk)

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:petitions_petition_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            make_petition(f"petition-{n}", sponsors=[campaign["org"]])
        with django_assert_max_num_queries(baseline):
            response = alice_client.get(url)
        assert "petition-9" in response.text


class TestSignatureAdmin:
    def test_it_lists_person_petition_source_date_and_status(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:petitions_signature_changelist"))
        assert response.status_code == 200
        for text in ("Bob Member &lt;Bob@Example.org&gt;", "Petition save-the-worms", "facebook"):
            assert text in response.text

    def test_it_filters_by_petition_source_status_and_date(self, alice_client, campaign):
        url = reverse("admin:petitions_signature_changelist")
        other = make_petition("other", sponsors=[campaign["org"]])
        Signature.objects.create(petition=other, person=campaign["charlie"], source="twitter")
        by_petition = alice_client.get(url, {"petition__id__exact": other.pk}).text
        assert "Charlie" in by_petition and "Bob Member" not in by_petition
        by_source = alice_client.get(url, {"source": "facebook"}).text
        assert "Bob Member" in by_source and "Charlie" not in by_source
        by_status = alice_client.get(url, {"status__exact": "invalidated"}).text
        assert "Bob Member" not in by_status
        today = timezone.localdate()
        by_day = alice_client.get(
            url,
            {
                "created_at__year": today.year,
                "created_at__month": today.month,
                "created_at__day": today.day,
            },
        )
        assert by_day.status_code == 200
        assert "Bob Member" in by_day.text

    def test_it_searches_by_email(self, alice_client, campaign):
        url = reverse("admin:petitions_signature_changelist")
        response = alice_client.get(url, {"q": "BOB@example.org"})
        assert "Bob Member" in response.text
        assert "Bob Member" not in alice_client.get(url, {"q": "nobody@example.org"}).text

    def test_it_renders_change_and_add_pages_without_a_list_of_everyone(
        self, alice_client, campaign
    ):
        url = reverse("admin:petitions_signature_change", args=[campaign["signature"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "Dig less!" in response.text
        add = alice_client.get(reverse("admin:petitions_signature_add"))
        assert add.status_code == 200
        # Autocomplete: people are looked up as you type, not rendered as <option>s.
        assert "charlie@example.net" not in add.text
        assert "admin-autocomplete" in add.text

    def test_it_invalidates_with_a_reason_and_a_time(self, alice_client, campaign):
        signature = campaign["signature"]
        url = reverse("admin:petitions_signature_change", args=[signature.pk])
        response = alice_client.post(
            url,
            {"status": "invalidated", "invalidated_reason": "spam", "comment": "Dig less!"},
        )
        assert response.status_code == 302
        signature.refresh_from_db()
        assert (signature.status, signature.invalidated_reason) == ("invalidated", "spam")
        assert signature.invalidated_at is not None
        assert signature.person == campaign["bob"]  # who signed cannot be changed here

    def test_an_invalidation_is_audited_and_a_restore_counts_it_again(
        self, alice_client, campaign, django_capture_on_commit_callbacks
    ):
        petition, signature = campaign["petition"], campaign["signature"]
        url = reverse("admin:petitions_signature_change", args=[signature.pk])
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(url, {"status": "invalidated", "invalidated_reason": "spam"})
        clear_process_cache()
        assert petition_count(petition).count == 0
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(url, {"status": "valid", "invalidated_reason": ""})
        clear_process_cache()
        assert petition_count(petition).count == 1
        signature.refresh_from_db()
        assert (signature.status, signature.invalidated_at) == ("valid", None)
        actions = list(AuditEntry.objects.order_by("pk").values_list("action", "actor", "person"))
        assert actions == [
            (AuditAction.SIGNATURE_INVALIDATED, "admin:alice", campaign["bob"].pk),
            (AuditAction.SIGNATURE_RESTORED, "admin:alice", campaign["bob"].pk),
        ]
        clear_process_cache()

    def test_an_invalidation_lowers_the_public_count(
        self, alice_client, campaign, django_capture_on_commit_callbacks
    ):
        petition = campaign["petition"]
        make_signer(1, petition, campaign["list"])
        assert petition_count(petition).count == 2
        clear_process_cache()
        url = reverse("admin:petitions_signature_change", args=[campaign["signature"].pk])
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(url, {"status": "invalidated", "invalidated_reason": "spam"})
        assert petition_count(petition).count == 1

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:petitions_signature_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            make_signer(n, campaign["petition"], campaign["list"])
        other = make_petition("other", sponsors=[campaign["org"]])
        Signature.objects.create(petition=other, person=make_person("x@example.org"))
        with django_assert_max_num_queries(baseline):
            response = alice_client.get(url)
        assert "signer9@example.org" in response.text
