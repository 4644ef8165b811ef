"""JSON lines for log collectors (LOG_FORMAT=json), each with the id of the request it
came from, and nothing that names a person.

What a person typed or is (addresses, names, links with their token, IP addresses)
never belongs in a log line. Our own messages say counts and ids; Django's request
logger puts the path in its message, and paths carry member tokens
(/unsubscribe/<token>/), so its lines keep the status and the reason only. An
exception is logged as its type and the frames it passed through, without its
message, which can quote a row (an IntegrityError names the duplicate address).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

_request_id: ContextVar[str] = ContextVar("request_id", default="")

# An id a proxy in front may have given the request, if it looks like one.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Loggers whose messages end with the request's path.
_PATH_LOGGERS = ("django.request", "django.security", "django.server")


def start_request(given: str | None) -> str:
    """This request's id (the proxy's X-Request-ID when usable), for every line it logs."""
    request_id = given if given and _GIVEN_ID.match(given) else uuid.uuid4().hex[:16]
    _request_id.set(request_id)
    return request_id


def end_request(**_: object) -> None:
    _request_id.set("")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name.startswith(_PATH_LOGGERS):
            # "Not Found: /unsubscribe/<token>/" → "Not Found"
            entry["message"] = record.getMessage().split(":", 1)[0]
            if hasattr(record, "status_code"):
                entry["status"] = record.status_code
        else:
            entry["message"] = record.getMessage()
        summary = getattr(record, "summary", None)
        if isinstance(summary, dict):
            # A summary line's figures (lib/summaries.py), for a collector to graph.
            entry["summary"] = summary
        request_id = _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["exception"] = type(error).__qualname__
            entry["frames"] = [
                f"{frame.filename}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(error.__traceback__)
            ]
        return json.dumps(entry, default=str)
