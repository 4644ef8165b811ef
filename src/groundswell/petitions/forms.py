"""The signing form: the fields of the public contract, one consent box per sponsor."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from groundswell.lib.addresses import normalise_email
from groundswell.members.models import Person
from groundswell.orgs.models import Organisation
from groundswell.petitions.countries import COUNTRIES
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
        value = str(params.get(name, "") or "").strip()
        limit = 500 if name == "referer" else 100
        values[name] = value[:limit]
    if values["referer"] and urlsplit(values["referer"]).scheme not in ("http", "https"):
        values["referer"] = ""
    return values


class SignForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        error_messages={"required": _("Enter your first name.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
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
    country = forms.ChoiceField(
        label=_("Country"),
        choices=[("", _("Choose your country")), *COUNTRIES],
        error_messages={"required": _("Choose your country.")},
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    comment = forms.CharField(
        label=_("Why are you signing?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    show_name = forms.BooleanField(
        label=_("Show my first name, last initial and country among recent signers"),
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
        if member is not None:
            for name in ("first_name", "last_name", "email"):
                del self.fields[name]
            if member.postal_code or not petition.require_postal_code:
                del self.fields["postal_code"]
            if member.country or not petition.require_country:
                del self.fields["country"]
        if petition.consent_mode == ConsentMode.EXPLICIT:
            for organisation in self.sponsors:
                self.fields[consent_field_name(organisation)] = forms.BooleanField(
                    label=organisation.name, required=False
                )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        try:
            normalise_email(email)
        except ValidationError:
            raise ValidationError(
                _("Enter an email address like name@example.org."), code="invalid"
            ) from None
        return email

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"
        return valid

    def ticked_organisations(self) -> list[Organisation]:
        if self.petition.consent_mode != ConsentMode.EXPLICIT:
            return []
        return [o for o in self.sponsors if self.cleaned_data.get(consent_field_name(o))]

    def consent_boxes(self) -> list[tuple[Organisation, forms.BoundField]]:
        if self.petition.consent_mode != ConsentMode.EXPLICIT:
            return []
        return [(o, self[consent_field_name(o)]) for o in self.sponsors]
