"""The signing form: the fields of the public contract, one consent box per sponsor."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from groundswell.lib.addresses import normalise_email
from groundswell.lib.disposable import BUILT_IN as DISPOSABLE_DOMAINS
from groundswell.lib.forms import AccessibleErrorsMixin, SharedWidgetsMixin
from groundswell.lib.limits import domain_of, is_under
from groundswell.lib.names import name_problem
from groundswell.members.models import Person
from groundswell.orgs.models import Organisation
from groundswell.petitions.countries import COUNTRIES, COUNTRY_NAMES
from groundswell.petitions.models import ConsentMode, Petition

ATTRIBUTION_FIELDS = (
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
    "referer",
)


def consent_field_name(organisation: Organisation) -> str:
    return f"consent_{organisation.slug}"


def attribution_from(params: Any) -> dict[str, str]:
    """Source, UTM, referral and referring page, trimmed to what the model stores.

    Never an error: a visitor cannot see or fix a hidden field.
    """
    values = {}
    for name in ATTRIBUTION_FIELDS:
        # Without NUL, which PostgreSQL cannot store: one answered 500 (tests/hostile/).
        value = str(params.get(name, "") or "").replace("\x00", "").strip()
        limit = 500 if name == "referer" else 100
        values[name] = value[:limit]
    if values["referer"] and urlsplit(values["referer"]).scheme not in ("http", "https"):
        values["referer"] = ""
    return values


@lru_cache(maxsize=32)
def _country_options(language: str | None) -> str:
    with translation.override(language):
        first = f'<option value="">{escape(_("Choose your country"))}</option>'
        return first + "".join(
            f'<option value="{code}">{escape(name)}</option>' for code, name in COUNTRIES
        )


class CountrySelect(forms.Widget):
    """A select of the ISO countries, its options rendered once per language.

    Rendering 250 options through Django's widget templates, and copying the
    choices for every form, took most of the page's rendering time.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        options = _country_options(translation.get_language())
        selected = "" if value is None else str(value)
        if selected in COUNTRY_NAMES:
            options = options.replace(
                f'<option value="{selected}">', f'<option value="{selected}" selected>', 1
            )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final_attrs)}>{options}</select>')  # noqa: S308


# Long enough for any real given or family name, compound ones included; short enough
# that a name, printed in our emails, cannot carry a message of its own.
NAME_MAX_LENGTH = 60


class SignForm(AccessibleErrorsMixin, SharedWidgetsMixin, forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": _("Enter your first name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": _("Enter your last name.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        error_messages={"required": _("Enter your email address.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=20,
        error_messages={"required": _("Enter your postal code.")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "input-short"}),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        error_messages={"required": _("Choose your country.")},
        widget=CountrySelect(attrs={"autocomplete": "country"}),
    )
    comment = forms.CharField(
        label=_("Why are you signing?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    show_name = forms.BooleanField(
        label=_("Show my first name, last initial, country and comment among recent signers"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        petition: Petition,
        sponsors: Sequence[Organisation],
        member: Person | None = None,
        consented: Collection[int] = (),
        **kwargs: Any,
    ) -> None:
        """`member` is a recognised person: the form asks only for what we lack of
        them, and offers boxes only for organisations they have not consented to
        (`consented` holds those organisations' ids)."""
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.member = member
        self.sponsors = [o for o in sponsors if o.pk not in consented]
        self.fields["postal_code"].required = petition.require_postal_code
        self.fields["country"].required = petition.require_country
        # Staff may include comments in the delivery: say so where it is written.
        self.fields["comment"].help_text = _(
            "Your comment may go to %(target)s with your name when the petition is delivered, "
            "and appears on this page if you choose to be shown among recent signers."
        ) % {"target": petition.target}
        if member is not None:
            asked = asked_of_member(petition, member)
            for name in ("first_name", "last_name", "email", "postal_code", "country"):
                if name not in asked:
                    del self.fields[name]
        if petition.consent_mode == ConsentMode.EXPLICIT:
            for organisation in self.sponsors:
                self.fields[consent_field_name(organisation)] = forms.BooleanField(
                    label=organisation.name, required=False
                )

    # normalise_email of the cleaned email, once the form is valid (the view hands it
    # on, so it is worked out once per signature).
    normalised_email: str | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        try:
            self.normalised_email = normalise_email(email)
        except ValidationError:
            raise ValidationError(
                _("Enter an email address like name@example.org."), code="invalid"
            ) from None
        if is_blocked_domain(self.normalised_email):
            raise ValidationError(BLOCKED_DOMAIN, code="blocked")
        return email

    def clean_first_name(self) -> str:
        return _checked_name(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return _checked_name(self.cleaned_data["last_name"])

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        if code and code not in COUNTRY_NAMES:
            raise ValidationError(_("Choose your country."), code="invalid")
        return code

    def ticked_organisations(self) -> list[Organisation]:
        if self.petition.consent_mode != ConsentMode.EXPLICIT:
            return []
        return [o for o in self.sponsors if self.cleaned_data.get(consent_field_name(o))]

    def consent_boxes(self) -> list[tuple[Organisation, forms.BoundField]]:
        if self.petition.consent_mode != ConsentMode.EXPLICIT:
            return []
        return [(o, self[consent_field_name(o)]) for o in self.sponsors]


# The details a petition may require of a recognised member, each with the
# petition's field that says whether it does.
_REQUIRABLE = (("postal_code", "require_postal_code"), ("country", "require_country"))
REQUIRABLE_OF_MEMBERS = tuple(name for name, _flag in _REQUIRABLE)


def required_of_members(petition: Petition) -> tuple[str, ...]:
    """The details of theirs a recognised member's record must hold to sign this
    petition with one click: the postal code and country where it requires them."""
    return tuple(name for name, flag in _REQUIRABLE if getattr(petition, flag))


def asked_of_member(petition: Petition, member: Person) -> tuple[str, ...]:
    """Which of the signer's details the form still asks a recognised member for: a
    postal code or country the petition requires and we do not have. The member's page
    keeps its rendered fields per answer (pages.render_recognised_page)."""
    return tuple(name for name in required_of_members(petition) if not getattr(member, name))


def _checked_name(value: str) -> str:
    """A name fit to go into an email from the organisation (lib/names.py)."""
    problem = name_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid")
    return value


BLOCKED_DOMAIN = _(
    "Use an email address you keep: we cannot take addresses from temporary-mail services."
)


def is_blocked_domain(normalised_email: str) -> bool:
    """Whether the address is at a disposable-mail domain we refuse (SIGN_BLOCK_DISPOSABLE,
    SIGN_BLOCKED_DOMAINS_FILE)."""
    domain = domain_of(normalised_email)
    if settings.SIGN_BLOCKED_DOMAINS and is_under(domain, settings.SIGN_BLOCKED_DOMAINS):
        return True
    return bool(settings.SIGN_BLOCK_DISPOSABLE) and is_under(domain, DISPOSABLE_DOMAINS)


# The honeypot: a field people never see (hidden by the stylesheet, out of the tab
# order, labelled for screen readers to leave alone) that form-filling scripts fill.
HONEYPOT_FIELD = "website"
# The signed moment the page was made (defences.form_stamp), put in per request.
SHOWN_FIELD = "shown"
# The proof-of-work puzzle put in per request (defences.challenge_fields), and the
# number the browser found for it (static/js/proof-of-work.js).
CHALLENGE_FIELD = "challenge"
SOLUTION_FIELD = "solution"


# --- The common submission, read without the Form machinery --------------------------

# The text fields SignForm reads from an anonymous signer, with their max_length.
_PLAIN_TEXT_FIELDS = {
    name: SignForm.base_fields[name].max_length  # type: ignore[attr-defined]
    for name in ("first_name", "last_name", "email", "postal_code", "country", "comment")
}
_ALWAYS_REQUIRED = ("first_name", "last_name", "email")


@dataclass(frozen=True)
class ValidSubmission:
    """What a valid SignForm would give: its cleaned_data, normalised_email and
    ticked_organisations()."""

    cleaned_data: dict[str, Any]
    normalised_email: str | None
    ticked: list[Organisation]


def read_plain_submission(
    data: Any,
    petition: Petition,
    sponsors: Sequence[Organisation],
    *,
    member: Person | None = None,
    consented: Collection[int] = (),
    asked: tuple[str, ...] | None = None,
) -> ValidSubmission | None:
    """A signer's submission read as SignForm would read it, when it is plainly valid:
    every field given at most once, within its length, no null character, a known
    country, an address normalise_email accepts, and each box either absent or "on"
    (what a browser sends for a ticked box). For a recognised `member` (with the
    organisations they have `consented` to), only what SignForm asks of them: the
    comment, the boxes, and a postal code or country we lack (`asked`, when the caller
    knows it already).

    None whenever it is anything else: SignForm then decides, and names the problems.
    Building and cleaning SignForm's nine fields is costly (docs/performance.md). The test
    tests/petitions/test_plain_submission.py checks, over generated submissions, that
    every one read here is valid to SignForm with the same values.
    """
    if member is None:
        read = _PLAIN_TEXT_FIELDS
    else:
        if asked is None:
            asked = asked_of_member(petition, member)
        read = {n: m for n, m in _PLAIN_TEXT_FIELDS.items() if n in asked or n == "comment"}
    cleaned: dict[str, Any] = {}
    for name, max_length in read.items():
        values = data.getlist(name)
        if len(values) > 1:
            return None
        value = values[0].strip() if values else ""
        if len(value) > max_length or "\x00" in value:
            return None
        cleaned[name] = value
    if member is None:
        for name in _ALWAYS_REQUIRED:
            if not cleaned[name]:
                return None
        if name_problem(cleaned["first_name"]) or name_problem(cleaned["last_name"]):
            return None
    if "postal_code" in cleaned and petition.require_postal_code and not cleaned["postal_code"]:
        return None
    if "country" in cleaned:
        country = cleaned["country"].upper()
        if (country or petition.require_country) and country not in COUNTRY_NAMES:
            return None
        cleaned["country"] = country
    normalised = None
    if member is None:
        try:
            normalised = normalise_email(cleaned["email"])
        except ValidationError:
            return None
        if is_blocked_domain(normalised):
            return None
    # A member is offered boxes only for organisations they have not consented to.
    sponsors = [o for o in sponsors if o.pk not in consented]
    boxes = ["show_name"]
    explicit = petition.consent_mode == ConsentMode.EXPLICIT
    if explicit:
        boxes += [consent_field_name(o) for o in sponsors]
    for name in boxes:
        values = data.getlist(name)
        if values not in ([], ["on"]):
            return None
        cleaned[name] = bool(values)
    ticked = [o for o in sponsors if cleaned.get(consent_field_name(o))] if explicit else []
    return ValidSubmission(cleaned_data=cleaned, normalised_email=normalised, ticked=ticked)
