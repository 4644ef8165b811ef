"""Form helpers shared by the public and staff pages."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class AccessibleErrorsMixin(forms.Form):
    """Ties each field's error message to the field for screen readers (WCAG 3.3.1).

    Templates render the message as <p id="id_<name>-error">.
    """

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                # This form's own widget: a form may share its fields' widgets
                # (SharedWidgetsMixin).
                field.widget = copy.deepcopy(field.widget)
                attrs = field.widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"
        return valid


class SharedWidgetsMixin(forms.Form):
    """Each form gets shallow copies of the class's fields, sharing their widgets and
    validators, instead of Django's deep copy of every field and widget: on the sign
    form that copy was a tenth of a signature's time in the web process.

    Safe as long as nothing changes a widget in place: AccessibleErrorsMixin copies a
    widget before marking it invalid, and a form that changes other widget state must
    copy that widget first. A field's own attributes (required, label) are the form's to
    change.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # BaseForm.__init__ deep-copies self.base_fields: give it nothing to copy.
        self.base_fields = {}  # type: ignore[misc]
        super().__init__(*args, **kwargs)
        del self.base_fields
        self.fields = {name: copy.copy(field) for name, field in type(self).base_fields.items()}
        # As BaseForm.__init__ orders them: by the field_order argument, else the class's.
        order = kwargs.get("field_order")
        self.order_fields(self.field_order if order is None else order)


def choose_the_only_choice(field: forms.Field) -> None:
    """A required choice with one possible answer starts on it, not on "---------"
    (which only earns a "This field is required" after the form is sent)."""
    assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
    only = list(field.queryset.values_list("pk", flat=True)[:2])
    if field.required and len(only) == 1:
        field.empty_label = None
        field.initial = only[0]


# What str.splitlines() breaks at.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def one_line(value: str) -> str:
    """The value, if it has no line break: for text that becomes one line of something
    else, such as an email's Subject header (where a line break fails the sending, or
    would start a header of its own)."""
    if any(c in LINE_BREAKS for c in value):
        raise ValidationError(_("Write this on one line."), code="line-break")
    return value
