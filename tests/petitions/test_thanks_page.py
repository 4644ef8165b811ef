from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client

from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.referrals import read_referral_code
from tests.cast import make_petition
from tests.petitions.conftest import sign_data

URL = "/sign/cancel-the-contract/"
THANKS = URL + "thanks/"


def share_hrefs(html: str) -> dict[str, str]:
    return {
        network: href.replace("&amp;", "&")
        for network, href in re.findall(r'class="share share-(\w+)" href="([^"]+)"', html)
    }


@pytest.mark.django_db
class TestThanksPage:
    def test_it_thanks_the_signer_with_share_links_carrying_their_code(
        self, client: Client, petition: Petition
    ) -> None:
        client.post(URL, sign_data(petition))
        html = client.get(THANKS).content.decode()

        assert "Thank you for signing" in html
        links = share_hrefs(html)
        assert set(links) == {"facebook", "x", "bluesky", "whatsapp", "email"}
        assert links["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=")
        assert links["x"].startswith("https://x.com/intent/tweet?")
        assert links["bluesky"].startswith("https://bsky.app/intent/compose?")
        assert links["whatsapp"].startswith("https://wa.me/?")
        assert links["email"].startswith("mailto:?")
        copy_url = re.search(r'id="share-url" type="text" value="([^"]+)"', html)
        assert copy_url is not None
        query = parse_qs(urlsplit(copy_url[1].replace("&amp;", "&")).query)
        signer = Signature.objects.get().person
        assert read_referral_code(query["ref"][0]) == signer.pk
        assert query["source"] == ["share-copy"]
        for link in links.values():
            assert "ref%3D" in link or "ref%253D" in link or "ref=" in unquote(link)
        assert "charlie" not in html.lower()

    def test_a_friend_who_follows_the_link_is_recorded_as_referred(
        self, client: Client, petition: Petition
    ) -> None:
        client.post(URL, sign_data(petition))
        html = client.get(THANKS).content.decode()
        copy_url = re.search(r'id="share-url" type="text" value="([^"]+)"', html)
        assert copy_url is not None
        path = urlsplit(copy_url[1].replace("&amp;", "&"))

        friend = Client()
        page = friend.get(f"{path.path}?{path.query}").content.decode()
        ref = re.search(r'name="ref" value="([^"]+)"', page)
        source = re.search(r'name="source" value="([^"]+)"', page)
        assert ref is not None and source is not None
        friend.post(
            URL,
            {**sign_data(petition, email="dora@example.org"), "ref": ref[1], "source": source[1]},
        )

        dora = Signature.objects.get(person__email="dora@example.org")
        assert dora.referrer is not None
        assert dora.referrer.email == "charlie@example.org"
        assert dora.source == "share-copy"

    def test_it_thanks_a_visitor_without_a_cookie_without_any_code(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.get(THANKS).content.decode()

        assert "Thank you for signing" in html
        assert "ref%3D" not in html and "&amp;ref=" not in html and "?ref=" not in html

    def test_it_ignores_a_tampered_cookie(self, client: Client, petition: Petition) -> None:
        client.cookies["gs_thanks"] = "cancel-the-contract|1-AAAAAAAAAAAA|1:forged:sig"

        html = client.get(THANKS).content.decode()

        assert "Thank you for signing" in html
        assert "already signed" not in html

    def test_it_ignores_the_cookie_of_another_petition(
        self, client: Client, petition: Petition
    ) -> None:
        other = make_petition("other-one", sponsors=list(petition.sponsors.all()))
        client.post(URL, sign_data(petition))
        client.post(URL, sign_data(petition))  # a repeat: "already signed" for this petition

        html = client.get(f"/sign/{other.slug}/thanks/").content.decode()

        assert "already signed" not in html

    def test_it_is_not_stored_by_shared_caches(self, client: Client, petition: Petition) -> None:
        assert "private" in client.get(THANKS)["Cache-Control"]
