"""The consent sentences shown above the sign button, and recorded as shown.

The page and the action build them with the same functions in the same language,
so the wording stored on each consent event is the wording the signer read.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Sequence

from django.utils.text import get_text_list
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import ConsentMode, Petition

logger = logging.getLogger(__name__)


def explicit_sentence(organisation: Organisation) -> str:
    return _explicit_sentence(organisation.name)


def notice_sentence(organisations: Sequence[Organisation]) -> str:
    return _notice_sentence([o.name for o in organisations])


def privacy_link_text(organisation: Organisation) -> str:
    return _privacy_link_text(organisation.name)


def recorded_wording(sentence: str, organisations: Sequence[Organisation]) -> str:
    """The sentence plus the privacy links beside it, as text."""
    return _recorded(sentence, [(o.name, o.privacy_policy_url) for o in organisations])


def explicit_wording(organisation: Organisation) -> str:
    """recorded_wording(explicit_sentence(organisation), [organisation]): what a ticked
    box records. Every signature needs it, and it is the same few strings over and
    over (a twentieth of a sign request's time when built each time), so it is kept
    per language and per everything it is made of: the name and the privacy link."""
    return _explicit_wording(get_language(), organisation.name, organisation.privacy_policy_url)


def notice_wording(organisations: Sequence[Organisation]) -> str:
    """recorded_wording(notice_sentence(organisations), organisations), kept likewise."""
    return _notice_wording(
        get_language(), tuple((o.name, o.privacy_policy_url) for o in organisations)
    )


def _explicit_sentence(name: str) -> str:
    return _(
        "Tick this box to let %(organisation)s email you updates about this and other "
        "campaigns. You can unsubscribe at any time."
    ) % {"organisation": name}


def _notice_sentence(names: Sequence[str]) -> str:
    return _(
        "By signing, you agree that %(organisations)s may email you updates about this "
        "and other campaigns. You can unsubscribe at any time."
    ) % {"organisations": get_text_list(list(names), _("and"))}


def _privacy_link_text(name: str) -> str:
    return _("Privacy policy of %(organisation)s") % {"organisation": name}


def _recorded(sentence: str, organisations: Sequence[tuple[str, str]]) -> str:
    links = " ".join(f"{_privacy_link_text(name)}: {url}" for name, url in organisations)
    return f"{sentence} {links}"


# The language is part of the key: the text is built in the language active at the
# call, which is the one the key names.
@functools.lru_cache(maxsize=1024)
def _explicit_wording(language: str | None, name: str, url: str) -> str:
    return _recorded(_explicit_sentence(name), [(name, url)])


@functools.lru_cache(maxsize=1024)
def _notice_wording(language: str | None, organisations: tuple[tuple[str, str], ...]) -> str:
    return _recorded(_notice_sentence([name for name, _url in organisations]), organisations)


def consents_to_record(
    petition: Petition,
    sponsor_lists: Sequence[tuple[Organisation, MailingList | None]],
    ticked: Collection[str],
) -> list[tuple[MailingList, str]]:
    """Each list a signer joins, with the wording they were shown for it: every
    sponsor's under a notice, else those whose box they ticked (`ticked`, slugs)."""
    if petition.consent_mode == ConsentMode.NOTICE:
        organisations = [org for org, _ in sponsor_lists]
        notice = notice_wording(organisations)
        chosen = [(org, ml, notice) for org, ml in sponsor_lists]
    else:
        chosen = [
            (org, ml, explicit_wording(org)) for org, ml in sponsor_lists if org.slug in ticked
        ]
    consents = []
    for org, mailing_list, wording in chosen:
        if mailing_list is None:
            # A setup mistake must not lose the signature; no list means no mail is sent.
            logger.error("%s has no default mailing list; consent not recorded", org.slug)
            continue
        consents.append((mailing_list, wording))
    return consents
