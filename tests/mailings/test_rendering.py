"""Rendering once per mailing: numbered links kept in the database, previews, web version."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.mailings.links import (
    LinksFrozen,
    RenderError,
    is_web_version_tag,
    web_version_path,
)
from groundswell.mailings.models import LinkKind, Mailing, MailingStatus, TrackedLink
from groundswell.mailings.rendering import prepare_mailing, render_preview, render_web_version
from groundswell.members.models import Person

pytestmark = pytest.mark.django_db
HREF = re.compile(r'href="([^"]+)"')


def rows(mailing: Mailing) -> list[tuple[int, str, str]]:
    return list(
        TrackedLink.objects.filter(mailing=mailing)
        .order_by("number")
        .values_list("number", "kind", "url")
    )


class TestLinkNumbers:
    def test_it_numbers_body_links_in_order_then_the_standard_ones(self, mailing: Mailing) -> None:
        prepare_mailing(mailing)
        numbered = rows(mailing)
        kinds = [kind for _n, kind, _u in numbered]
        assert [n for n, _k, _u in numbered] == list(range(1, 10))
        assert kinds == [
            LinkKind.PETITION,  # Add your name
            LinkKind.EXTERNAL,  # the workers' letter
            LinkKind.PETITION,  # our report, written as /sign/<slug>/
            LinkKind.PETITION,  # Sign the petition
            LinkKind.SHARE,
            LinkKind.SHARE,
            LinkKind.WEB_VERSION,
            LinkKind.PROFILE,
            LinkKind.SUBSCRIPTIONS,
        ]
        assert numbered[1][2] == "https://news.example.net/letter?id=7&from=mail"
        assert numbered[0][2] == "http://testserver/sign/cancel-the-contract/"
        labels = list(TrackedLink.objects.filter(mailing=mailing).values_list("label", flat=True))
        assert labels[:4] == [
            "Add your name",
            "the workers' letter",
            "our report",
            "Sign the petition",
        ]

    def test_it_renumbers_a_draft_after_an_edit(self, mailing: Mailing) -> None:
        prepare_mailing(mailing)
        mailing.body = "Only one link: [read](https://example.net/a)."
        mailing.save()
        prepare_mailing(mailing)
        numbered = rows(mailing)
        assert len(numbered) == 6
        assert numbered[0] == (1, LinkKind.EXTERNAL, "https://example.net/a")

    def test_it_freezes_links_once_the_send_has_started(self, mailing: Mailing) -> None:
        prepare_mailing(mailing)
        before = rows(mailing)
        Mailing.objects.filter(pk=mailing.pk).update(
            status=MailingStatus.SENDING, body="[elsewhere](https://evil.example/)"
        )
        with pytest.raises(LinksFrozen):
            prepare_mailing(mailing)
        assert rows(mailing) == before

    def test_it_numbers_links_when_the_send_starts_if_nobody_did_before(
        self, mailing: Mailing
    ) -> None:
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
        prepared = prepare_mailing(mailing)
        assert len(rows(mailing)) == 9
        again = prepare_mailing(mailing)
        assert [s.url for s in again.links] == [s.url for s in prepared.links]

    def test_a_preview_of_a_draft_writes_nothing(self, mailing: Mailing, bob: Person) -> None:
        subject, html, text = render_preview(mailing, bob)
        assert rows(mailing) == []
        assert subject == "Tell Microsoft: stop enabling ICE"
        assert "Dear Bob," in html and "Dear Bob," in text

    def test_it_makes_lone_petition_links_into_buttons(self, mailing: Mailing, bob: Person) -> None:
        _s, html, _t = render_preview(mailing, bob)
        buttons = re.findall(r'<a class="button"[^>]*>([^<]+)</a>', html)
        assert buttons == ["Add your name", "Sign the petition"]

    def test_it_refuses_petition_url_without_a_petition(self, mailing: Mailing) -> None:
        mailing.petition = None
        mailing.save()
        with pytest.raises(RenderError, match="choose the mailing's petition"):
            prepare_mailing(mailing)

    def test_it_refuses_merge_fields_inside_a_link_address(self, mailing: Mailing) -> None:
        mailing.body = "[me](https://example.net/?name={{ first_name }})"
        mailing.save()
        with pytest.raises(RenderError, match="cannot be part of a link"):
            prepare_mailing(mailing)

    def test_it_escapes_raw_html_written_in_the_body(self, mailing: Mailing, bob: Person) -> None:
        mailing.body = "Hi <script>alert(1)</script> [y](javascript:alert(1))"
        mailing.save()
        _s, html, _t = render_preview(mailing, bob)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="javascript' not in html


class TestWebVersion:
    def test_it_shows_neutral_values_and_nothing_personal(
        self, mailing: Mailing, bob: Person
    ) -> None:
        prepare_mailing(mailing)
        html = render_web_version(mailing)
        assert "Dear friend," in html
        assert "akid" not in html
        assert "bob@example.org" not in html
        assert "This email was sent to" not in html
        assert "/o/" not in html
        assert "/profile/" not in html and "/unsubscribe/" not in html
        assert "PO Box 20417" in html
        assert f"/go/{mailing.pk}/2/" in html

    def test_its_address_is_stable_and_keyed(self, mailing: Mailing, settings: Any) -> None:
        path = web_version_path(mailing.pk)
        assert path == web_version_path(mailing.pk)
        tag = path.rstrip("/").split("-")[-1]
        assert is_web_version_tag(mailing.pk, tag)
        assert not is_web_version_tag(mailing.pk + 1, tag)
        old = settings.SECRET_KEY
        settings.SECRET_KEY = "a-new-key-0123456789-0123456789-0123456789"
        settings.SECRET_KEY_FALLBACKS = [old]
        assert is_web_version_tag(mailing.pk, tag)


URLS = st.one_of(
    st.builds(
        lambda host, path: f"https://{host}/{path}",
        st.sampled_from(["example.net", "evil.example", "testserver.evil.example"]),
        st.text(alphabet="abc/?=&%.-_", max_size=20),
    ),
    st.builds(lambda path: f"/{path}", st.text(alphabet="abcsign/-", max_size=20)),
    st.sampled_from(["mailto:x@example.net", "#fn1", "javascript:alert(1)", "//evil.example/"]),
)


@given(st.lists(URLS, min_size=1, max_size=6))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_link_leads_through_our_site_to_a_stored_address(
    mailing: Mailing, bob: Person, urls: list[str]
) -> None:
    mailing.body = "\n\n".join(f"[link {i}](<{url}>)" for i, url in enumerate(urls))
    mailing.save()
    prepared = prepare_mailing(mailing)
    html, _text = prepared.parts(bob, bob.email, "1.1.token")
    stored = dict(TrackedLink.objects.filter(mailing=mailing).values_list("number", "url"))
    for href in HREF.findall(html):
        href = href.replace("&amp;", "&")
        if href.startswith(("#", "mailto:")):
            continue
        # No address of the writer's reaches the reader except through a stored row.
        assert href.startswith("http://testserver/"), href
        match = re.match(rf"http://testserver/go/{mailing.pk}/(\d+)/\?akid=", href)
        if match:
            assert int(match.group(1)) in stored
