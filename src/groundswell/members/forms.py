from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from groundswell.lib.addresses import normalise_email
from groundswell.lib.forms import AccessibleErrorsMixin
from groundswell.lib.names import name_problem

# Long enough for any real given or family name, compound ones included; short enough
# that a name, printed in our emails, cannot carry a message of its own.
NAME_MAX_LENGTH = 60


class ProfileForm(AccessibleErrorsMixin, forms.Form):
    """Every field is optional: a blank field keeps what we have.

    The page never shows what we hold (someone holding only a forwarded link
    must not learn the member's address), so it cannot be pre-filled.
    """

    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX_LENGTH, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX_LENGTH, required=False)
    address = forms.CharField(
        label=_("Mailing address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.RegexField(
        label=_("Country code"),
        regex=r"^[A-Za-z]{2}$",
        required=False,
        help_text=_("Two letters, e.g. GB or US."),
        error_messages={"invalid": _("Enter a two-letter country code, e.g. GB or US.")},
    )
    new_email = forms.CharField(
        label=_("New email address"),
        max_length=254,
        required=False,
        help_text=_("We will send a link to the new address; nothing changes until it is used."),
    )

    def clean_first_name(self) -> str:
        return _checked_name(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return _checked_name(self.cleaned_data["last_name"])

    def clean_new_email(self) -> str:
        value = self.cleaned_data["new_email"].strip()
        if value:
            try:
                normalise_email(value)
            except ValidationError as error:
                raise ValidationError(error.messages[0]) from None
        return value


def _checked_name(value: str) -> str:
    """A name fit to go into our emails (lib/names.py)."""
    problem = name_problem(value) if value else None
    if problem is not None:
        raise ValidationError(problem, code="invalid")
    return value


class PrivacyRequestForm(AccessibleErrorsMixin, forms.Form):
    email = forms.CharField(label=_("Your email address"), max_length=254)
    kind = forms.ChoiceField(
        label=_("What would you like?"),
        choices=[
            ("export", _("A copy of the data you hold about me")),
            ("erase", _("Erase my data")),
        ],
        widget=forms.RadioSelect,
    )

    def clean_email(self) -> str:
        value = self.cleaned_data["email"]
        try:
            return normalise_email(value)
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None
