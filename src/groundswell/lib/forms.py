"""Form helpers shared by the public pages."""

from __future__ import annotations

from django import forms


class AccessibleErrorsMixin(forms.Form):
    """Ties each field's error message to the field for screen readers (WCAG 3.3.1).

    Templates render the message as <p id="id_<name>-error">.
    """

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"
        return valid
