"""Every write to our models happens in an action module (STYLE.md: "Writes go through
action functions"), so each change has one place for its transaction, audit row and, later,
its permission check. A view, admin, form, template tag, task or helper that writes must
be listed below with the reason it may."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import groundswell

SRC = Path(groundswell.__file__).parent

# Calls that write through the ORM, or raw SQL (reads by hand are rare enough to list).
WRITES = {
    "save",
    "delete",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "execute",
    "executemany",
}
# QuerySet.update(field=value) takes keywords only; dict.update and set.update take an
# argument, so only the keyword form counts.
KEYWORD_WRITES = {"update"}

# Where a write may live outside an action module: "path" (relative to src/groundswell,
# a folder ends in "/") or "path::function", and why. Keep it short and true.
ALLOWED = {
    "demo/": "the demo's campaigns and staff login, loaded by a command into a demo database",
    "benchsupport/views.py": "a bench-only raw table, not a model of ours",
    "lib/inserts.py": "insert_all and insert_values: bulk inserts that actions and the flush call",
    "lib/prepared.py": "fetch_prepared: runs the reads select_where (lib/db.py) hands it",
    "lib/turns.py::turn_if_free": "PRAGMA busy_timeout set and put back: no row",
    "mailings/claims.py": "the send loop's conditional-UPDATE claims and recorded answers",
    "mailings/recovery.py": "send workers' heartbeat rows, and their recipients after a death",
    "mailings/lanes.py": "a lane taken for dead drops its own worker row",
    "mailings/links.py::sync_links": "prepare_mailing stores tracked links; actions call it",
    "tracking/recording.py": "tracking's buffer flush: clicks and opens in batches, off requests",
    "petitions/counter.py": "the count cache: a derived number, refreshed by a conditional UPDATE",
    "petitions/defences.py::_lock_counted_values": "advisory locks in the writer's batch: no row",
    "petitions/defences.py::count_recent": "a read: the database counts recent signatures",
    "petitions/tally/": "the dashboard's tallies: derived counts, kept by a task and by actions",
    "bounces/complaints.py::warn_if_complaint_rate_alarming": "a once-only alert row (unique key)",
    "members/tasks.py::forget_queued_emails": "django-tasks' rows naming a person, at erasure",
    "tasks.py::prune_finished": "django-tasks' finished rows, pruned hourly by the worker",
    "taskworker.py": "django-tasks' running rows: a worker's heartbeat, a dead worker's requeued",
    "petitions/delivery.py::_Pages.finish": "ReportLab's Canvas.save writes the PDF, no model",
    "operations/health.py": "readiness probes: SELECT 1, and SQLite's write lock taken and let go",
    "operations/backup.py": "backup reads by hand; the SQLite copy's journal mode, not a model",
}


@dataclass(frozen=True)
class Write:
    path: str
    function: str
    line: int
    call: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function or '<module>'}: .{self.call}()"


def is_action_module(path: str) -> bool:
    parts = path.split("/")
    # An app's privacy.py holds its share of members' erasure and merge actions, which
    # call it inside their own transaction (members/privacy.py is the registry).
    return parts[-1] in ("actions.py", "privacy.py") or "actions" in parts[:-1]


def writes_in(source: str, path: str = "<source>") -> list[Write]:
    """Each call in the source that writes, with the function it is in."""
    found: list[Write] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                name, receiver = child.func.attr, child.func.value
                # A model's own save() or delete() handing over to Django's.
                is_super = (
                    isinstance(receiver, ast.Call)
                    and isinstance(receiver.func, ast.Name)
                    and receiver.func.id == "super"
                )
                keyword_only = bool(child.keywords) and not child.args
                if not is_super and (name in WRITES or (name in KEYWORD_WRITES and keyword_only)):
                    found.append(Write(path, ".".join(scope), child.lineno, name))
            visit(child, scope)

    visit(ast.parse(source), [])
    return found


def allowed_by(write: Write) -> str | None:
    for key in ALLOWED:
        where, _, function = key.partition("::")
        in_place = write.path.startswith(where) if where.endswith("/") else write.path == where
        if in_place and (not function or write.function == function):
            return key
    return None


def project_writes() -> list[Write]:
    found = []
    for file in sorted(SRC.rglob("*.py")):
        path = file.relative_to(SRC).as_posix()
        if is_action_module(path) or "/migrations/" in path:
            continue
        found += writes_in(file.read_text(encoding="utf-8"), path)
    return found


def test_models_are_written_only_by_actions() -> None:
    stray = [str(write) for write in project_writes() if allowed_by(write) is None]
    assert not stray, (
        "These write outside an actions module: move the write into the app's actions "
        "(or, if it truly belongs there, add it to ALLOWED with the reason):\n" + "\n".join(stray)
    )


def test_every_exception_still_has_a_write() -> None:
    used = {allowed_by(write) for write in project_writes()}
    assert set(ALLOWED) - used == set(), "ALLOWED names places that no longer write"


class TestTheCheck:
    def test_it_finds_a_save_and_a_queryset_update_in_a_view(self) -> None:
        source = (
            "def profile(request, token):\n"
            "    person.save()\n"
            "    Person.objects.filter(pk=1).update(first_name='Bob')\n"
        )
        assert [(w.function, w.call) for w in writes_in(source)] == [
            ("profile", "save"),
            ("profile", "update"),
        ]

    def test_it_passes_a_dict_update_and_a_model_handing_over_to_django(self) -> None:
        source = (
            "class Event:\n"
            "    def save(self, *args, **kwargs):\n"
            "        context.update(extra)\n"
            "        super().save(*args, **kwargs)\n"
        )
        assert writes_in(source) == []

    def test_actions_modules_and_packages_may_write(self) -> None:
        assert is_action_module("members/actions.py")
        assert is_action_module("mailings/actions/sending.py")
        assert is_action_module("petitions/privacy.py")
        assert not is_action_module("members/views/profile.py")
