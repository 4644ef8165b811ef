from __future__ import annotations

from django.urls import reverse

from groundswell.members.actions.consent import do_subscribe, do_unsubscribe_everywhere
from groundswell.members.models import AuditEntry, ConsentEvent, Person, SubscriptionStatus

from .conftest import WORDING, make_signer
from .helpers import count_queries


class TestPersonAdmin:
    def test_it_lists_people_with_country_and_source(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:members_person_changelist"))
        assert response.status_code == 200
        assert "Bob@Example.org" in response.text
        assert "charlie@example.net" in response.text
        assert '<td class="field-country">GB</td>' in response.text

    def test_it_finds_a_whole_address_in_any_case_or_spacing(self, alice_client, campaign):
        url = reverse("admin:members_person_changelist")
        response = alice_client.get(url, {"q": "  BOB@example.ORG "})
        assert "Bob@Example.org" in response.text
        assert "charlie@example.net" not in response.text

    def test_it_finds_people_by_name(self, alice_client, campaign):
        response = alice_client.get(reverse("admin:members_person_changelist"), {"q": "Charl"})
        assert "charlie@example.net" in response.text
        assert "Bob@Example.org" not in response.text

    def test_it_filters_by_country_and_source(self, alice_client, campaign):
        url = reverse("admin:members_person_changelist")
        assert "Bob@Example.org" in alice_client.get(url, {"country": "GB"}).text
        assert "Bob@Example.org" not in alice_client.get(url, {"country": "FR"}).text
        assert "Bob@Example.org" in alice_client.get(url, {"source": "petition:test"}).text

    def test_it_shows_subscriptions_with_history_and_signatures(self, alice_client, campaign):
        url = reverse("admin:members_person_change", args=[campaign["bob"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "Friends of the Earthworm: Supporters" in response.text
        assert "petition:save-the-worms" in response.text  # the consent event's source
        assert "Petition save-the-worms" in response.text  # the signature inline
        assert "Dig less!" in response.text

    def test_it_offers_no_way_to_delete_a_person(self, alice_client, campaign):
        url = reverse("admin:members_person_delete", args=[campaign["bob"].pk])
        assert alice_client.get(url).status_code == 403

    def test_it_renders_the_add_page(self, alice_client, campaign):
        assert alice_client.get(reverse("admin:members_person_add")).status_code == 200

    def test_it_adds_a_person_through_the_action_with_a_normalised_email(self, alice_client, db):
        response = alice_client.post(
            reverse("admin:members_person_add"),
            {
                "email": " Dora@Example.ORG ",
                "first_name": "Dora",
                "country": "fr",
                **_empty_inlines(),
            },
        )
        assert response.status_code == 302
        dora = Person.objects.get(email_normalised="dora@example.org")
        assert (dora.first_name, dora.country, dora.source) == ("Dora", "FR", "admin:alice")

    def test_it_refuses_an_address_someone_else_has(self, alice_client, campaign):
        response = alice_client.post(
            reverse("admin:members_person_add"), {"email": "BOB@example.org", **_empty_inlines()}
        )
        assert response.status_code == 200
        assert "already here" in response.text
        assert Person.objects.count() == 2

    def test_it_refuses_a_name_holding_a_link_as_the_public_forms_do(self, alice_client, db):
        response = alice_client.post(
            reverse("admin:members_person_add"),
            {"email": "dora@example.org", "first_name": "www.win.example", **_empty_inlines()},
        )
        assert response.status_code == 200
        assert "without a web or email address" in response.text
        assert not Person.objects.exists()

    def test_it_changes_details_through_the_action_and_audits_it(self, alice_client, campaign):
        bob = campaign["bob"]
        url = reverse("admin:members_person_change", args=[bob.pk])
        response = alice_client.post(
            url,
            {
                "email": "bob.new@example.org",
                "first_name": "Robert",
                "last_name": "Member",
                "country": "GB",
                **_empty_inlines(),
            },
        )
        assert response.status_code == 302
        bob.refresh_from_db()
        assert (bob.first_name, bob.email_normalised) == ("Robert", "bob.new@example.org")
        actions = set(AuditEntry.objects.filter(person=bob).values_list("action", flat=True))
        assert actions == {"profile-updated", "email-changed"}
        assert AuditEntry.objects.filter(actor="admin:alice").count() == 2

    def test_it_unsubscribes_a_person_from_every_list_with_history(self, alice_client, campaign):
        bob = campaign["bob"]
        response = alice_client.post(
            reverse("admin:members_person_changelist"),
            {"action": "unsubscribe_from_every_list", "_selected_action": [bob.pk]},
        )
        assert response.status_code == 302
        subscription = campaign["subscription"]
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.UNSUBSCRIBED
        latest = subscription.events.last()
        assert (latest.kind, latest.source) == ("unsubscribed", "admin:alice")

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:members_person_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            make_signer(n, campaign["petition"], campaign["list"])
        with django_assert_max_num_queries(baseline):
            response = alice_client.get(url)
        assert "signer9@example.org" in response.text

    def test_its_change_page_queries_do_not_grow_with_history(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        bob = campaign["bob"]
        url = reverse("admin:members_person_change", args=[bob.pk])
        baseline = count_queries(alice_client, url)
        for _ in range(5):
            do_subscribe(bob, campaign["list"], source="again", wording=WORDING)
        with django_assert_max_num_queries(baseline):
            alice_client.get(url)


def _empty_inlines() -> dict[str, str]:
    data = {}
    for prefix in ("subscriptions", "signatures"):
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


class TestSubscriptionAdmin:
    def test_it_lists_and_filters_by_list_and_status(self, alice_client, campaign):
        url = reverse("admin:members_subscription_changelist")
        response = alice_client.get(url)
        assert response.status_code == 200
        assert "Bob@Example.org" in response.text
        assert "Bob@Example.org" in alice_client.get(url, {"status__exact": "subscribed"}).text
        unsubscribed = alice_client.get(url, {"status__exact": "unsubscribed"}).text
        assert "Bob@Example.org" not in unsubscribed
        by_list = alice_client.get(url, {"mailing_list__id__exact": campaign["list"].pk})
        assert "Bob@Example.org" in by_list.text

    def test_it_shows_the_consent_history_read_only(self, alice_client, campaign):
        url = reverse("admin:members_subscription_change", args=[campaign["subscription"].pk])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert WORDING in response.text
        assert 'name="status"' not in response.text  # no direct status edit
        assert 'name="_save"' not in response.text
        assert "events-0-DELETE" not in response.text

    def test_it_ignores_a_post_that_tries_to_change_the_status(self, alice_client, campaign):
        subscription = campaign["subscription"]
        url = reverse("admin:members_subscription_change", args=[subscription.pk])
        response = alice_client.post(url, {"status": "unsubscribed"})
        assert response.status_code == 403
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.SUBSCRIBED
        assert subscription.events.count() == 1

    def test_it_has_no_add_or_delete(self, alice_client, campaign):
        subscription = campaign["subscription"]
        assert alice_client.get(reverse("admin:members_subscription_add")).status_code == 403
        url = reverse("admin:members_subscription_delete", args=[subscription.pk])
        assert alice_client.post(url, {"post": "yes"}).status_code == 403
        assert ConsentEvent.objects.filter(subscription=subscription).count() == 1

    def test_it_unsubscribes_selected_through_the_action(self, alice_client, campaign):
        subscription = campaign["subscription"]
        response = alice_client.post(
            reverse("admin:members_subscription_changelist"),
            {"action": "unsubscribe_selected", "_selected_action": [subscription.pk]},
            follow=True,
        )
        assert "Unsubscribed 1 subscription." in response.text
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.UNSUBSCRIBED
        kinds = list(subscription.events.values_list("kind", "source"))
        assert kinds == [
            ("subscribed", "petition:save-the-worms"),
            ("unsubscribed", "admin:alice"),
        ]

    def test_it_skips_subscriptions_already_unsubscribed(self, alice_client, campaign):
        subscription = campaign["subscription"]
        data = {"action": "unsubscribe_selected", "_selected_action": [subscription.pk]}
        url = reverse("admin:members_subscription_changelist")
        alice_client.post(url, data)
        response = alice_client.post(url, data, follow=True)
        assert "Unsubscribed 0 subscriptions (1 already unsubscribed)." in response.text
        assert subscription.events.count() == 2

    def test_its_changelist_queries_do_not_grow_with_rows(
        self, alice_client, campaign, django_assert_max_num_queries
    ):
        url = reverse("admin:members_subscription_changelist")
        baseline = count_queries(alice_client, url)
        for n in range(10):
            make_signer(n, campaign["petition"], campaign["list"])
        with django_assert_max_num_queries(baseline):
            response = alice_client.get(url)
        assert "signer9@example.org" in response.text


class TestSuppressionAndAuditAdmin:
    def test_they_list_and_find_by_whole_address(self, alice_client, campaign):
        do_unsubscribe_everywhere(campaign["bob"], source="test")
        url = reverse("admin:members_suppression_changelist")
        assert alice_client.get(url).status_code == 200
        found = alice_client.get(url, {"q": "bob@EXAMPLE.org"})
        assert "0 suppressed addresses" not in found.text
        assert "1 suppressed address" in found.text
        missing = alice_client.get(url, {"q": "charlie@example.net"})
        assert "0 suppressed addresses" in missing.text
        assert alice_client.get(reverse("admin:members_auditentry_changelist")).status_code == 200
