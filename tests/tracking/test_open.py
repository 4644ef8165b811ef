"""/o/<mailing>/<akid>.gif: a tiny transparent image that counts an open."""

from __future__ import annotations

import pytest

from groundswell.lib.tokens import make_member_token
from groundswell.tracking.models import Open
from groundswell.tracking.recording import flush_all

pytestmark = pytest.mark.django_db


class TestOpenImage:
    def test_it_returns_a_43_byte_transparent_gif_never_cached(self, client, cast):
        response = client.get(f"/o/{cast.mailing.pk}/{cast.token(cast.bob)}.gif")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert len(response.content) == 43
        assert response.content.startswith(b"GIF89a\x01\x00\x01\x00")
        assert "no-store" in response["Cache-Control"]
        assert response["Pragma"] == "no-cache"

    def test_it_records_the_open_after_the_flush(self, client, cast):
        client.get(
            f"/o/{cast.mailing.pk}/{cast.token(cast.bob)}.gif",
            HTTP_USER_AGENT="Thunderbird/128",
            REMOTE_ADDR="2001:db8::1",
        )
        assert not Open.objects.exists()
        flush_all()
        opened = Open.objects.get()
        assert (opened.mailing_id, opened.person_id) == (cast.mailing.pk, cast.bob.pk)
        assert opened.ip_address == "2001:db8::1"
        assert opened.user_agent == "Thunderbird/128"

    @pytest.mark.parametrize("kind", ["tampered", "other-mailing", "garbage"])
    def test_it_answers_the_image_but_counts_nothing_for_a_bad_token(self, client, cast, kind):
        token = {
            "tampered": cast.token(cast.bob)[:-2] + "zz",
            "other-mailing": make_member_token(cast.bob.pk, cast.mailing.pk + 7),
            "garbage": "..%2e%2e",
        }[kind]
        response = client.get(f"/o/{cast.mailing.pk}/{token}.gif")
        assert response.status_code == 200
        assert len(response.content) == 43
        flush_all()
        assert not Open.objects.exists()

    def test_every_open_is_kept_for_the_total(self, client, cast):
        for _ in range(3):
            client.get(f"/o/{cast.mailing.pk}/{cast.token(cast.bob)}.gif")
        flush_all()
        assert Open.objects.filter(person=cast.bob).count() == 3
