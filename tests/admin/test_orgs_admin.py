from __future__ import annotations

from django.urls import reverse

from groundswell.members.actions.consent import do_subscribe, do_unsubscribe
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import default_list, make_org, make_person

from .conftest import WORDING
from .helpers import count_queries


class TestOrganisationAdmin:
    def test_it_lists_organisations_with_their_list_count(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:orgs_organisation_changelist"))
        assert response.status_code == 200
        assert "Friends of the Earthworm" in response.text
        assert '<td class="field-list_count">1</td>' in response.text

    def test_it_shows_the_lists_inline_on_the_change_page(self, alice_client, campaign):
        url = reverse("admin:orgs_organisation_change", args=[campaign["org"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "1 Loam Lane" in response.text
        assert 'value="supporters"' in response.text

    def test_it_renders_the_add_page(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:orgs_organisation_add"))
        assert response.status_code == 200
        assert "postal_address" in response.text

    def test_it_adds_an_organisation_with_its_default_list(self, alice_client, db):
        response = alice_client.post(
            reverse("admin:orgs_organisation_add"),
            {
                "name": "Mole Watch",
                "slug": "mole-watch",
                "postal_address": "2 Burrow Road",
                "privacy_policy_url": "https://moles.example.org/privacy",
                "sender_name": "Mole Watch",
                "sender_email": "hi@moles.example.org",
                "mailing_lists-TOTAL_FORMS": "1",
                "mailing_lists-INITIAL_FORMS": "0",
                "mailing_lists-0-name": "Everyone",
                "mailing_lists-0-slug": "everyone",
                "mailing_lists-0-is_default": "on",
            },
        )
        assert response.status_code == 302
        org = Organisation.objects.get(slug="mole-watch")
        assert org.default_list is not None
        assert org.default_list.slug == "everyone"

    def test_it_refuses_a_second_default_list_with_a_message(self, alice_client, campaign):
        org = campaign["org"]
        response = alice_client.post(
            reverse("admin:orgs_mailinglist_add"),
            {"organisation": org.pk, "name": "Other", "slug": "other", "is_default": "on"},
        )
        assert response.status_code == 200  # the form again, with the error
        assert not MailingList.objects.filter(slug="other").exists()
        assert "one_default_list_per_org" in response.text or "default" in response.text

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:orgs_organisation_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            make_org(f"Org {n}", f"org{n}")
        with django_assert_max_num_queries(baseline):
            assert alice_client.get(url).status_code == 200


class TestMailingListAdmin:
    def test_it_counts_subscribers_now_and_ever(self, alice_client, campaign):
        charlie = campaign["charlie"]
        do_subscribe(charlie, campaign["list"], source="test", wording=WORDING)
        do_unsubscribe(charlie, campaign["list"], source="test")
        response = alice_client.get(reverse("admin:orgs_mailinglist_changelist"))
        assert response.status_code == 200
        assert '<td class="field-subscribed_count">1</td>' in response.text
        assert '<td class="field-subscription_count">2</td>' in response.text

    def test_it_renders_the_change_and_add_pages(self, alice_client, campaign):
        url = reverse("admin:orgs_mailinglist_change", args=[campaign["list"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "Supporters" in response.text
        assert alice_client.get(reverse("admin:orgs_mailinglist_add")).status_code == 200

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:orgs_mailinglist_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            mailing_list = default_list(make_org(f"Org {n}", f"org{n}"))
            do_subscribe(make_person(f"p{n}@example.org"), mailing_list, source="t", wording="w")
        with django_assert_max_num_queries(baseline):
            response = alice_client.get(url)
        assert response.text.count('class="field-subscribed_count"') == 11
