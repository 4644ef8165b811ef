from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from groundswell.orgs.models import MailingList
from tests.cast import make_list, make_org


@pytest.mark.django_db
class TestMailingList:
    def test_it_is_the_organisations_default_list_when_marked_so(self):
        org = make_org(default_list=None)
        make_list(org, "news")
        supporters = make_list(org, "supporters", is_default=True)
        assert org.default_list == supporters

    def test_an_organisation_without_a_default_list_has_none(self):
        org = make_org(default_list=None)
        make_list(org, "news")
        assert org.default_list is None

    def test_an_organisation_cannot_have_two_default_lists(self):
        org = make_org(default_list=None)
        make_list(org, "supporters", is_default=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            make_list(org, "news", is_default=True)
        assert MailingList.objects.filter(organisation=org).count() == 1

    def test_each_organisation_has_its_own_default_list(self):
        make_list(
            make_org("Earthworm", "earthworm", default_list=None), "supporters", is_default=True
        )
        make_list(make_org("Moles", "moles", default_list=None), "supporters", is_default=True)
        assert MailingList.objects.filter(is_default=True).count() == 2

    def test_many_lists_may_be_not_default(self):
        org = make_org(default_list=None)
        for slug in ("a", "b", "c"):
            make_list(org, slug)
        assert org.mailing_lists.count() == 3

    def test_form_validation_explains_the_second_default_list(self):
        org = make_org(default_list=None)
        make_list(org, "supporters", is_default=True)
        news = MailingList(organisation=org, name="News", slug="news", is_default=True)
        with pytest.raises(ValidationError, match="already has a default list"):
            news.full_clean()

    def test_a_list_slug_is_unique_within_its_organisation_only(self):
        make_list(make_org("Earthworm", "earthworm", default_list=None), "news")
        make_list(make_org("Moles", "moles", default_list=None), "news")
        with pytest.raises(IntegrityError), transaction.atomic():
            make_list(MailingList.objects.first().organisation, "news")

    def test_its_name_says_whose_list_it_is(self):
        org = make_org("Friends of the Earthworm", "earthworm", default_list=None)
        assert str(make_list(org, "news")) == "Friends of the Earthworm: News"


@pytest.mark.django_db
class TestOrganisation:
    def test_its_slug_is_unique(self):
        make_org("Earthworm", "earthworm", default_list=None)
        with pytest.raises(IntegrityError), transaction.atomic():
            make_org("Earthworm", "earthworm", default_list=None)

    def test_it_cannot_be_deleted_while_it_has_lists(self):
        org = make_org(default_list=None)
        make_list(org)
        with pytest.raises(ProtectedError):
            org.delete()

    def test_it_must_have_a_postal_address_for_its_emails(self):
        org = make_org(default_list=None)
        org.postal_address = ""
        with pytest.raises(ValidationError) as error:
            org.full_clean()
        assert "postal_address" in error.value.message_dict
