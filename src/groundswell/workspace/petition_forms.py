"""The petition editor's form: the petition's text and settings, and its sponsors as
the editor may choose them (the organisations where they may write; an administrator,
any)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext_lazy as _

from groundswell.lib.forms import AccessibleErrorsMixin, one_line
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.editing import EDITABLE_FIELDS
from groundswell.petitions.models import Petition

# Words the workspace's own URLs take after /staff/petitions/.
RESERVED_SLUGS = {"new"}


class PetitionForm(AccessibleErrorsMixin, forms.ModelForm):
    lead = forms.ModelChoiceField(
        label=_("Lead sponsor"),
        queryset=Organisation.objects.none(),
        empty_label=None,
        help_text=_("First on the page; it delivers the petition."),
    )
    partners = forms.ModelMultipleChoiceField(
        label=_("Coalition partners"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each gets its own consent box on the page."),
    )

    field_order = ["title", "slug", "target", "statement", "background"]

    class Meta:
        model = Petition
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 5}),
            "background": forms.Textarea(attrs={"rows": 12}),
            "thank_you_text": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "slug": _("The page's address: /sign/<slug>/. Left empty, made from the title.")
        }

    def __init__(self, *args: Any, choosable: Any, kept: list[Organisation], **kwargs: Any) -> None:
        """`choosable`: organisations the editor may add or remove as sponsors; `kept`:
        sponsors already there that the editor may not remove (another organisation's)."""
        super().__init__(*args, **kwargs)
        self.kept = kept
        self.fields["slug"].required = False
        if "confirm_by_email" in self.fields:
            # Blank is the site's default: say which it is.
            default = _("on") if settings.SIGN_CONFIRM_BY_EMAIL else _("off")
            widget = self.fields["confirm_by_email"].widget
            assert isinstance(widget, forms.Select)
            widget.choices = [
                ("unknown", _("The site's default (now %(default)s)") % {"default": default}),
                ("true", _("Yes")),
                ("false", _("No")),
            ]
        if "proof_of_work" in self.fields:
            field = self.fields["proof_of_work"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [
                (
                    "",
                    _("The site's default (now %(default)s)")
                    % {"default": settings.SIGN_PROOF_OF_WORK},
                ),
                *[
                    (value, capfirst(str(label)))
                    for value, label in Petition.proof_of_work.field.choices or ()
                ],
            ]
        for name in ("lead", "partners"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = choosable
        if choosable.count() < 2:
            # The lead is the only one the editor may choose: no partner to offer.
            del self.fields["partners"]
        if self.instance.pk:
            current = [s.organisation for s in self.instance.sponsorships.order_by("position")]
            if current:
                self.initial.setdefault("lead", current[0].pk)
                self.initial.setdefault("partners", [o.pk for o in current[1:]])

    # The title is the thank-you email's subject, and both are lines of the page's head.
    def clean_title(self) -> str:
        return one_line(self.cleaned_data["title"])

    def clean_target(self) -> str:
        return one_line(self.cleaned_data["target"])

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(self.data.get("title", ""))[:100]
        if not slug:
            raise forms.ValidationError(_("Give the page an address (letters, digits, hyphens)."))
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("“%(slug)s” is taken by the workspace.") % {"slug": slug})
        others = Petition.objects.filter(slug=slug).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Another petition has this address."))
        return slug

    def sponsors(self) -> list[Organisation]:
        """In page order: the lead, the partners chosen, then those kept."""
        lead = self.cleaned_data["lead"]
        partners = self.cleaned_data.get("partners") or []
        chosen = [lead] + [o for o in partners if o.pk != lead.pk]
        return chosen + [o for o in self.kept if o.pk not in {c.pk for c in chosen}]

    def values(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in EDITABLE_FIELDS}
