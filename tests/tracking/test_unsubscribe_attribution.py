"""Unsubscribing through a mailing's link is counted against that mailing."""

from __future__ import annotations

import pytest

from groundswell.lib.tokens import make_member_token
from groundswell.mailings.models import MailingRecipient

pytestmark = pytest.mark.django_db


def unsubscribed_at(cast, person):
    return MailingRecipient.objects.get(mailing=cast.mailing, person=person).unsubscribed_at


class TestUnsubscribeAttribution:
    def test_the_unsubscribe_page_marks_the_recipient_of_that_mailing(self, client, cast):
        response = client.post(f"/unsubscribe/{cast.token(cast.bob)}/")
        assert response.status_code == 200
        assert unsubscribed_at(cast, cast.bob) is not None
        assert unsubscribed_at(cast, cast.dora) is None

    def test_one_click_unsubscribe_is_attributed_too(self, client, cast):
        response = client.post(
            f"/unsubscribe/{cast.token(cast.dora)}/",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert unsubscribed_at(cast, cast.dora) is not None

    def test_viewing_the_unsubscribe_page_changes_nothing(self, client, cast):
        client.get(f"/unsubscribe/{cast.token(cast.bob)}/")
        assert unsubscribed_at(cast, cast.bob) is None

    def test_a_token_not_from_a_mailing_marks_no_mailing(self, client, cast):
        client.post(f"/unsubscribe/{make_member_token(cast.bob.pk)}/")
        assert unsubscribed_at(cast, cast.bob) is None

    def test_a_second_unsubscribe_keeps_the_first_time(self, client, cast):
        client.post(f"/unsubscribe/{cast.token(cast.bob)}/")
        first = unsubscribed_at(cast, cast.bob)
        client.post(f"/unsubscribe/{cast.token(cast.bob)}/")
        assert unsubscribed_at(cast, cast.bob) == first
