"""Personal data held by other apps, exported and forgotten by the apps that hold it.

members sits below the apps that keep rows about a person (signatures, copies of
mailings, clicks, bounces, queued tasks). Each of them registers here, as it starts
(its apps.py), what to put in a copy of a person's data, how to forget the person,
and, for rows that follow a person whose address changed to another's, how to move
them. members' actions call these inside their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from groundswell.members.models import Person

# Sections of a copy of the person's data: a name, then one dict per item.
Exporter = Callable[[Person], dict[str, list[dict[str, object]]]]
# Forget the person's rows (before the person is deleted); counts for the audit entry.
Forgetter = Callable[[Person], dict[str, int]]
# Move `other`'s rows onto `keep` (before `other` is deleted); counts for the audit entry.
Merger = Callable[[Person, Person], dict[str, int]]


@dataclass(frozen=True)
class PersonalData:
    export: Exporter | None
    forget: Forgetter | None
    merge: Merger | None


_holders: dict[str, PersonalData] = {}


def register(
    app_label: str,
    *,
    export: Exporter | None = None,
    forget: Forgetter | None = None,
    merge: Merger | None = None,
) -> None:
    """Called once per app from its AppConfig.ready(), in INSTALLED_APPS order, which is
    the order of the sections in an export."""
    _holders[app_label] = PersonalData(export, forget, merge)


def export_sections(person: Person) -> dict[str, list[dict[str, object]]]:
    sections: dict[str, list[dict[str, object]]] = {}
    for holder in _holders.values():
        if holder.export is not None:
            sections.update(holder.export(person))
    return sections


def forget_everywhere(person: Person) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Higher apps first: their rows may be found through a lower app's (a bounce through
    # the copy of the mailing it is about), which must still point at the person.
    for holder in reversed(_holders.values()):
        if holder.forget is not None:
            counts.update(holder.forget(person))
    return counts


def merge_everywhere(keep: Person, other: Person) -> dict[str, int]:
    counts: dict[str, int] = {}
    for holder in _holders.values():
        if holder.merge is not None:
            counts.update(holder.merge(keep, other))
    return counts
