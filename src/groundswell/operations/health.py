"""/healthz and /readyz, for a load balancer or a service manager.

/healthz says only that the process answers. /readyz says whether this node can take
signatures now: the database answers (on SQLite, its write lock can be had within a
second) and, where `groundswell serve` runs a signature writer for this data
directory, the writer accepts connections. Neither touches the session or a template,
so they stay cheap when asked every second.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from groundswell.petitions.writer_service import socket_path

# How long /readyz waits for SQLite's write lock before calling the database busy.
SQLITE_LOCK_SECONDS = 1.0

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = {
        name: problem
        for name, problem in (
            ("database", database_problem()),
            ("signature_writer", writer_problem()),
        )
        if problem
    }
    if problems:
        return JsonResponse({"status": "unavailable", **problems}, status=503)
    return JsonResponse({"status": "ok"})


def database_problem() -> str:
    """Why the database cannot take signatures now; empty when it can."""
    if connection.vendor == "sqlite":
        return _sqlite_problem()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        # The next request (this one's retry included) connects afresh: that is how
        # the node comes back by itself when the database does.
        connection.close()
        return _unavailable(error)
    return ""


def _sqlite_problem() -> str:
    # A connection of its own, with a short timeout: Django's waits 20 s for the lock.
    path = Path(str(settings.DATABASES["default"]["NAME"])).resolve()
    try:
        probe = sqlite3.connect(
            f"{path.as_uri()}?mode=rw", uri=True, timeout=SQLITE_LOCK_SECONDS, isolation_level=None
        )
    except sqlite3.Error as error:
        return _unavailable(error)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            logger.warning("Not ready: the database stays locked (%s)", error)
            return "locked by another process for over a second"
        return _unavailable(error)
    except sqlite3.Error as error:
        return _unavailable(error)
    finally:
        probe.close()
    return ""


def writer_problem() -> str:
    """Why the machine's signature writer is not answering; empty when it answers or
    none is run here (SIGN_GROUP_COMMIT off, or no `serve` has ever started one for
    this data directory, as under runserver and the tests)."""
    path = socket_path()
    if not settings.SIGN_GROUP_COMMIT or not path.with_name(f"{path.name}.lock").exists():
        return ""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError as error:
            logger.warning("Not ready: the signature writer does not answer (%s)", error)
            return "not answering"
    return ""


def _unavailable(error: Exception) -> str:
    # The page is public: host names and paths go to the log, not to the answer.
    logger.warning("Not ready: the database cannot be reached (%s)", str(error).strip())
    return "unreachable"
