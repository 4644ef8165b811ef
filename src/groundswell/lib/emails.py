"""Plain-text email bodies from templates."""

from __future__ import annotations

from typing import Any

from django.template import Context, Engine


def render_plain_text(template_name: str, context: dict[str, Any]) -> str:
    """Rendered without HTML escaping: a text/plain part shows `&#x27;` as typed, so
    autoescaping would greet O'Brien as O&#x27;Brien."""
    template = Engine.get_default().get_template(template_name)
    return template.render(Context(context, autoescape=False))
