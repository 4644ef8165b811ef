from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse


def attachment(body: str, *, content_type: str, filename: str) -> HttpResponse:
    """A file the browser saves; never cached, as what is exported names people."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def json_attachment(data: Any, *, filename: str) -> HttpResponse:
    return attachment(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
        filename=filename,
    )
