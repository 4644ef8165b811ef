"""/go/<mailing>/<n>/: redirects only to the stored destination, and counts the click."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.lib.tokens import make_member_token
from groundswell.tracking.models import Click
from groundswell.tracking.recording import CLICKS, flush_all
from tests.tracking.cast import Cast

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36"


class TestRedirect:
    def test_it_redirects_to_the_stored_destination(self, client: Client, cast: Cast):
        response = client.get(f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.bob)}")
        assert response.status_code == 302
        assert response["Location"] == "https://news.example.com/2018/06/contract"
        assert response["Cache-Control"] == "private, no-store"

    def test_it_keeps_the_stored_query_string_of_the_destination(self, client, cast):
        response = client.get(f"/go/{cast.mailing.pk}/3/")
        assert response["Location"] == cast.links[2].url

    @pytest.mark.parametrize(
        "path",
        ["/go/{m}/99/", "/go/999999/1/", "/go/{m}/0/"],
    )
    def test_it_answers_404_with_a_plain_page_for_an_unknown_link(self, client, cast, path):
        response = client.get(path.format(m=cast.mailing.pk) + "?url=https://evil.example/")
        assert response.status_code == 404
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert b"evil.example" not in response.content
        flush_all()
        assert not Click.objects.exists()

    def test_it_refuses_post(self, client, cast):
        assert client.post(f"/go/{cast.mailing.pk}/2/").status_code == 405

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        query=st.lists(
            st.tuples(
                st.sampled_from(["url", "next", "u", "redirect", "akid", "t", "to", "r"])
                | st.text(min_size=1, max_size=10),
                st.sampled_from(
                    [
                        "https://evil.example/",
                        "//evil.example",
                        "/\\evil.example",
                        "javascript:alert(1)",
                        "\r\nLocation: https://evil.example/",
                    ]
                )
                | st.text(max_size=40),
            ),
            max_size=5,
        ),
        tail=st.sampled_from(["", "&", "?", "#", "%0d%0aLocation:%20https://evil.example/"]),
    )
    def test_no_query_string_changes_the_destination(self, client, cast, query, tail):
        response = client.get(f"/go/{cast.mailing.pk}/2/?{urlencode(query)}{tail}")
        if any("\x00" in part for pair in query for part in pair):
            # No real link holds a NUL: refused outright (lib/nul_bytes.py), and still
            # never sent anywhere else.
            assert response.status_code == 400
            assert "Location" not in response
            return
        assert response.status_code == 302
        assert response["Location"] == "https://news.example.com/2018/06/contract"


class TestClickRecording:
    def test_the_click_waits_in_memory_then_lands_with_the_recipient(self, client, cast):
        client.get(
            f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.bob)}",
            HTTP_USER_AGENT=BROWSER,
            REMOTE_ADDR="203.0.113.7",
        )
        assert CLICKS.pending() == 1
        assert not Click.objects.exists()
        assert flush_all() == 1
        click = Click.objects.get()
        assert (click.mailing_id, click.link_number, click.person_id) == (
            cast.mailing.pk,
            2,
            cast.bob.pk,
        )
        assert click.ip_address == "203.0.113.7"
        assert click.user_agent == BROWSER
        assert not click.is_machine

    def test_a_click_without_a_token_counts_for_no_one(self, client, cast):
        client.get(f"/go/{cast.mailing.pk}/1/", HTTP_USER_AGENT=BROWSER)
        flush_all()
        assert Click.objects.get().person_id is None

    def test_a_token_for_another_mailing_names_no_one(self, client, cast):
        other = make_member_token(cast.bob.pk, cast.mailing.pk + 1)
        client.get(f"/go/{cast.mailing.pk}/1/?akid={other}", HTTP_USER_AGENT=BROWSER)
        flush_all()
        assert Click.objects.get().person_id is None

    def test_a_tampered_token_still_redirects_but_names_no_one(self, client, cast):
        token = cast.token(cast.bob)[:-1] + ("A" if cast.token(cast.bob)[-1] != "A" else "B")
        response = client.get(f"/go/{cast.mailing.pk}/1/?akid={token}", HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 302
        flush_all()
        assert Click.objects.get().person_id is None

    def test_it_cuts_a_long_browser_name(self, client, cast):
        client.get(f"/go/{cast.mailing.pk}/1/", HTTP_USER_AGENT=BROWSER + "x" * 1000)
        flush_all()
        assert len(Click.objects.get().user_agent) == 300

    def test_a_head_request_is_a_machine(self, client, cast):
        response = client.head(f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.bob)}")
        assert response.status_code == 302
        flush_all()
        click = Click.objects.get()
        assert click.is_machine
        assert click.machine_reason == "scanner"

    def test_a_changed_destination_is_seen_within_the_cache_time(self, client, cast):
        # The destination is read from the database (then cached briefly), never the request.
        client.get(f"/go/{cast.mailing.pk}/2/")
        cast.links[1].url = "https://news.example.com/corrected"
        cast.links[1].save()
        from groundswell.tracking.links import clear_link_cache

        clear_link_cache()
        assert client.get(f"/go/{cast.mailing.pk}/2/")["Location"] == (
            "https://news.example.com/corrected"
        )
