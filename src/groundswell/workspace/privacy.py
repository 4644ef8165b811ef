"""A person's rows in people imports, on erasure (registered with members/privacy.py in
apps.py): the uploaded file of an import not yet done and the refused rows of any
import lose every row that holds the person's address."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError
from django.db.models import Q

from groundswell.lib.addresses import normalise_email
from groundswell.members.models import Person
from groundswell.workspace.models import PeopleImport


def _names_address(cells: list[str], address: str) -> bool:
    for cell in cells:
        try:
            if normalise_email(cell) == address:
                return True
        except ValidationError:
            continue
    return False


def without_address(text: str, address: str) -> str:
    """The CSV `text` without the rows that hold `address` (a normalised email)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for cells in csv.reader(io.StringIO(text)):
        if not _names_address(cells, address):
            writer.writerow(cells)
    return out.getvalue()


def forget_person(person: Person) -> dict[str, int]:
    address = person.email_normalised
    local = address.split("@", 1)[0]
    changed = 0
    # A cheap filter first (the local part as typed, any case), then the exact test.
    for found in PeopleImport.objects.filter(
        Q(data__icontains=local) | Q(rejected_report__icontains=local)
    ).only("pk", "data", "rejected_report"):
        data = without_address(found.data, address) if found.data else ""
        report = without_address(found.rejected_report, address) if found.rejected_report else ""
        if (data, report) != (found.data, found.rejected_report):
            PeopleImport.objects.filter(pk=found.pk).update(data=data, rejected_report=report)
            changed += 1
    return {"imports": changed} if changed else {}
