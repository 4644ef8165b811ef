"""Petition links in a mailing (/sign/<slug>/?t=<n>&akid=<token>) count as clicks too."""

from __future__ import annotations

import pytest

from groundswell.lib.tokens import make_member_token
from groundswell.tracking.models import Click
from groundswell.tracking.recording import flush_all

pytestmark = pytest.mark.django_db


class TestPetitionLinkClicks:
    def test_a_member_arriving_from_the_mailing_is_counted_on_that_link(self, client, cast):
        response = client.get(f"/sign/{cast.petition.slug}/?t=1&akid={cast.token(cast.bob)}")
        assert response.status_code == 200
        assert "Not Bob?" in response.content.decode()
        flush_all()
        click = Click.objects.get()
        assert (click.mailing_id, click.link_number, click.person_id) == (
            cast.mailing.pk,
            1,
            cast.bob.pk,
        )

    def test_a_visit_remembered_by_cookie_is_not_another_click(self, client, cast):
        client.get(f"/sign/{cast.petition.slug}/?t=1&akid={cast.token(cast.bob)}")
        client.get(f"/sign/{cast.petition.slug}/")
        client.get(f"/sign/{cast.petition.slug}/?t=1")
        flush_all()
        assert Click.objects.count() == 1

    @pytest.mark.parametrize("t", ["", "99", "abc"])
    def test_a_link_number_the_mailing_does_not_have_is_not_counted(self, client, cast, t):
        response = client.get(f"/sign/{cast.petition.slug}/?t={t}&akid={cast.token(cast.bob)}")
        assert response.status_code == 200
        flush_all()
        assert not Click.objects.exists()

    def test_a_token_not_from_a_mailing_is_not_a_click(self, client, cast):
        client.get(f"/sign/{cast.petition.slug}/?t=1&akid={make_member_token(cast.bob.pk)}")
        flush_all()
        assert not Click.objects.exists()
