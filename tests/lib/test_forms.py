"""lib/forms.py: forms that share their fields' widgets, and errors tied to fields."""

from __future__ import annotations

from django import forms

from groundswell.lib.forms import AccessibleErrorsMixin, SharedWidgetsMixin


class NameForm(AccessibleErrorsMixin, SharedWidgetsMixin, forms.Form):
    first = forms.CharField()
    last = forms.CharField()


def test_an_error_on_one_form_does_not_mark_another_forms_field_invalid() -> None:
    broken = NameForm({"first": "", "last": "Lee"})
    fine = NameForm({"first": "Ann", "last": "Lee"})

    assert not broken.is_valid()
    assert fine.is_valid()

    assert broken.fields["first"].widget.attrs["aria-invalid"] == "true"
    assert "aria-invalid" not in fine.fields["first"].widget.attrs
    assert "aria-invalid" not in NameForm.base_fields["first"].widget.attrs


def test_it_orders_fields_as_asked_like_any_django_form() -> None:
    assert list(NameForm(field_order=["last", "first"]).fields) == ["last", "first"]
    assert list(NameForm().fields) == ["first", "last"]


def test_a_forms_own_change_to_a_field_stays_with_that_form() -> None:
    changed = NameForm()
    changed.fields["last"].required = False

    assert NameForm().fields["last"].required
