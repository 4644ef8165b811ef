"""The wording a consent records: kept between signatures, never stale."""

from __future__ import annotations

from django.utils import translation

from groundswell.orgs.models import Organisation
from groundswell.petitions import consent


def _org(name: str, url: str) -> Organisation:
    # Unsaved: the wording depends only on what is shown.
    return Organisation(name=name, slug="x", privacy_policy_url=url)


def test_it_is_what_the_page_shows_for_a_ticked_box() -> None:
    org = _org("Open Press", "https://open-press.example.org/privacy")

    assert consent.explicit_wording(org) == consent.recorded_wording(
        consent.explicit_sentence(org), [org]
    )


def test_it_is_what_the_page_shows_under_notice() -> None:
    orgs = [_org("Open Press", "https://a.example.org/p"), _org("Fund", "https://b.example.org/p")]

    assert consent.notice_wording(orgs) == consent.recorded_wording(
        consent.notice_sentence(orgs), orgs
    )


def test_it_follows_a_renamed_organisation_and_a_moved_privacy_policy() -> None:
    org = _org("Open Press", "https://open-press.example.org/privacy")
    before = consent.explicit_wording(org)

    org.name = "Free Press"
    renamed = consent.explicit_wording(org)
    org.privacy_policy_url = "https://free-press.example.org/privacy"
    moved = consent.explicit_wording(org)

    assert "Open Press" in before and "Free Press" in renamed and "Open Press" not in renamed
    assert moved.endswith("https://free-press.example.org/privacy")
    assert consent.notice_wording([org]).endswith("https://free-press.example.org/privacy")


def test_it_is_kept_apart_for_each_language() -> None:
    org = _org("Open Press", "https://open-press.example.org/privacy")
    wordings = []
    for language in ("en", "de", "en"):
        with translation.override(language):
            wordings.append(consent.explicit_wording(org))
    english, german, english_again = wordings

    # Found again for the first language: the very string built then, not a new one.
    assert english_again is english
    # Built on its own for the other, even where the words come out the same.
    assert german is not english
