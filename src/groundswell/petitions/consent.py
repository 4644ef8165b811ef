"""The consent sentences shown above the sign button, and recorded as shown.

The page and the action build them with the same functions in the same language,
so the wording stored on each consent event is the wording the signer read.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from groundswell.orgs.models import Organisation


def explicit_sentence(organisation: Organisation) -> str:
    return _(
        "Tick this box to let %(organisation)s email you updates about this and other "
        "campaigns. You can unsubscribe at any time."
    ) % {"organisation": organisation.name}


def notice_sentence(organisations: Sequence[Organisation]) -> str:
    names = get_text_list([o.name for o in organisations], _("and"))
    return _(
        "By signing, you agree that %(organisations)s may email you updates about this "
        "and other campaigns. You can unsubscribe at any time."
    ) % {"organisations": names}


def privacy_link_text(organisation: Organisation) -> str:
    return _("Privacy policy of %(organisation)s") % {"organisation": organisation.name}


def recorded_wording(sentence: str, organisations: Sequence[Organisation]) -> str:
    """The sentence plus the privacy links beside it, as text."""
    links = " ".join(f"{privacy_link_text(o)}: {o.privacy_policy_url}" for o in organisations)
    return f"{sentence} {links}"
