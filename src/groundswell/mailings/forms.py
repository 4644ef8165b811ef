"""Forms for the staff compose pages: they parse and validate; actions/ writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from groundswell.lib.forms import AccessibleErrorsMixin, choose_the_only_choice
from groundswell.mailings import merge
from groundswell.mailings.actions.compose import MAX_TEST_ADDRESSES
from groundswell.mailings.models import Mailing
from groundswell.mailings.targeting import parse_country_codes
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition

# The compose page's sections, in the page's order: a heading and the fields under it.
COMPOSE_SECTIONS = [
    (_("Sender"), ["organisation", "from_name", "from_email", "reply_to"]),
    (_("Message"), ["subject", "preheader", "petition", "body"]),
    (_("Signed by"), ["signoff_name", "signoff_title", "signoff_organisation"]),
    (
        _("Who receives it"),
        [
            "include_lists",
            "exclude_lists",
            "exclude_signers_of",
            "only_signers_of",
            "countries",
            "postal_code_prefix",
        ],
    ),
    (
        _("A/B subject test and pace"),
        ["subject_b", "ab_sample_percent", "ab_metric", "ab_wait_minutes", "rate_limit"],
    ),
]
COMPOSE_FIELDS = [name for _heading, names in COMPOSE_SECTIONS for name in names]


class MailingForm(AccessibleErrorsMixin, forms.ModelForm):
    """The compose form. An empty sender is filled in by the action (the organisation's)."""

    class Meta:
        model = Mailing
        fields = COMPOSE_FIELDS
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24, "class": "compose-body"}),
            "include_lists": forms.CheckboxSelectMultiple,
            "exclude_lists": forms.CheckboxSelectMultiple,
            "exclude_signers_of": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "from_name": _("Empty: the organisation's default sender name."),
            "from_email": _("Empty: the organisation's default sender address."),
        }

    def __init__(self, *args: Any, organisations: Iterable[int], **kwargs: Any) -> None:
        """`organisations`: those the user may write mailings for. The choices hold
        only them, their lists and the petitions they sponsor, so a partner's mailing
        reaches only people on that partner's lists."""
        super().__init__(*args, **kwargs)
        allowed = list(organisations)
        self.fields["from_name"].required = False
        self.fields["from_email"].required = False
        choices: dict[str, QuerySet[Any]] = {
            "organisation": Organisation.objects.filter(pk__in=allowed).order_by("name"),
            "include_lists": MailingList.objects.filter(organisation__in=allowed).select_related(
                "organisation"
            ),
            "exclude_lists": MailingList.objects.filter(organisation__in=allowed).select_related(
                "organisation"
            ),
        }
        sponsored = Petition.objects.filter(sponsors__in=allowed).distinct().order_by("title")
        for name in ("petition", "exclude_signers_of", "only_signers_of"):
            choices[name] = sponsored
        for name, queryset in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset
        choose_the_only_choice(self.fields["organisation"])

    def sections(self) -> list[tuple[Any, list[BoundField]]]:
        return [(heading, [self[name] for name in names]) for heading, names in COMPOSE_SECTIONS]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        # The mixin points each invalid field at its error; keep its help text too.
        for name in self.errors:
            if name in self.fields and self.fields[name].help_text:
                attrs = self.fields[name].widget.attrs
                attrs["aria-describedby"] += f" id_{name}_helptext"
        return valid

    def _clean_merge(self, name: str, *, allow_urls: bool) -> str:
        value: str = self.cleaned_data.get(name) or ""
        try:
            merge.check(value, allow_urls=allow_urls)
        except merge.MergeError as error:
            raise ValidationError(str(error)) from None
        return value

    def clean_subject(self) -> str:
        return self._clean_merge("subject", allow_urls=False)

    def clean_subject_b(self) -> str:
        return self._clean_merge("subject_b", allow_urls=False)

    def clean_preheader(self) -> str:
        return self._clean_merge("preheader", allow_urls=False)

    def clean_body(self) -> str:
        return self._clean_merge("body", allow_urls=True)

    def clean_countries(self) -> str:
        codes = parse_country_codes(self.cleaned_data.get("countries") or "")
        for code in codes:
            if len(code) != 2 or not code.isalpha():
                raise ValidationError(
                    _("“%(code)s” is not a two-letter country code (such as GB or US).")
                    % {"code": code}
                )
        return ", ".join(codes)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        org = data.get("organisation")
        if "body" in data and not self.has_error("body"):
            from groundswell.mailings.body import render_body
            from groundswell.mailings.links import RenderError

            trial = Mailing(body=data["body"], petition=data.get("petition"))
            try:
                render_body(trial)
            except RenderError as error:
                self.add_error("body", str(error))
        for name in ("include_lists", "exclude_lists"):
            lists = data.get(name) or []
            if org is not None and any(
                mailing_list.organisation_id != org.pk for mailing_list in lists
            ):
                self.add_error(name, _("Choose lists of the sending organisation only."))
        return data

    def action_fields(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in COMPOSE_FIELDS if name in self.cleaned_data
        }


class TestSendForm(forms.Form):
    addresses = forms.CharField(
        label=_("Send a test to"),
        help_text=_("Staff addresses, separated by commas (at most 10)."),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    as_member = forms.EmailField(
        label=_("As member"),
        required=False,
        help_text=_("Empty: neutral values and no member links."),
    )

    def clean_addresses(self) -> list[str]:
        addresses = [a.strip() for a in self.cleaned_data["addresses"].split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(
                    _("“%(address)s” is not an email address.") % {"address": address}
                ) from None
        if not addresses:
            raise ValidationError(_("Give at least one address."))
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise ValidationError(
                _("A test goes to at most %(count)d addresses.") % {"count": MAX_TEST_ADDRESSES}
            )
        return addresses


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class UnknownDecisionForm(forms.Form):
    """A decision about unknown recipients: one (its id), or all (how many staff saw)."""

    recipient = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    expected = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("recipient") is None) == (data.get("expected") is None):
            raise ValidationError(_("Choose one recipient, or all of them."))
        return data

    def action_arguments(self) -> dict[str, Any]:
        recipient = self.cleaned_data["recipient"]
        return {
            "recipient_ids": None if recipient is None else [recipient],
            "expected": self.cleaned_data["expected"],
        }
