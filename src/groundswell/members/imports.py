"""Reading a CSV of people to import: each row checked, and a reason for each one
refused. Nothing here writes (members.actions.imports does)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from groundswell.lib.addresses import normalise_email
from groundswell.lib.names import name_problem
from groundswell.members.actions.people import PersonDetails

FIELDS = ("email", "first_name", "last_name", "postal_code", "country", "address")
LIMITS = {"first_name": 100, "last_name": 100, "postal_code": 20, "address": 1000}
# Headings a spreadsheet may use for our fields.
ALIASES = {
    "e-mail": "email",
    "email address": "email",
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "postcode": "postal_code",
    "post code": "postal_code",
    "zip": "postal_code",
    "zip code": "postal_code",
    "postal code": "postal_code",
    "country code": "country",
}


@dataclass(frozen=True)
class Row:
    line: int
    details: PersonDetails
    normalised: str


@dataclass(frozen=True)
class Rejected:
    line: int
    email: str
    reason: str


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no email column, not CSV, not UTF-8)."""


def guess_columns(header: Iterable[str]) -> dict[str, int]:
    """Which column holds each of our fields, from the header's names (a field no
    column is named for is left out)."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower().lstrip("\ufeff")
        field = ALIASES.get(key, key.replace(" ", "_"))
        if field in FIELDS and field not in found:
            found[field] = index
    return found


def column_map(header: Iterable[str]) -> dict[str, int]:
    """guess_columns, for a file that must name its email column."""
    found = guess_columns(header)
    if "email" not in found:
        raise ImportFileError(_("The file needs a column named “email”."))
    return found


def read_header(text: str) -> list[str]:
    """The first row's cells: the column names."""
    try:
        header = next(csv.reader(io.StringIO(text)))
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None
    except csv.Error as error:
        raise ImportFileError(_("This is not a CSV file: %(error)s") % {"error": error}) from None
    if not any(cell.strip() for cell in header):
        raise ImportFileError(_("The first row must name the columns."))
    return header


def read_rows(text: str, columns: dict[str, int] | None = None) -> Iterator[Row | Rejected]:
    """Each data row of the CSV, as a Row to import or a Rejected with its reason.
    Line numbers count the header as line 1, as a spreadsheet shows them. `columns`
    says which column holds each field (as chosen on the import page); without it
    they are found from the header's names."""
    header = read_header(text)
    if columns is None:
        columns = column_map(header)
    elif "email" not in columns:
        raise ImportFileError(_("Choose the column that holds the email addresses."))
    reader = csv.reader(io.StringIO(text))
    next(reader)
    seen: dict[str, int] = {}
    line = 1
    try:
        for cells in reader:
            line += 1
            if not any(cell.strip() for cell in cells):
                continue
            values = {
                field: cells[index].strip() if index < len(cells) else ""
                for field, index in columns.items()
            }
            yield _checked(line, values, seen)
    except csv.Error as error:
        yield Rejected(
            line, "", _("The file cannot be read from here: %(error)s") % {"error": error}
        )


def _checked(line: int, values: dict[str, str], seen: dict[str, int]) -> Row | Rejected:
    email = values.get("email", "")
    if not email:
        return Rejected(line, email, _("No email address."))
    try:
        normalised = normalise_email(email)
    except ValidationError as error:
        return Rejected(line, email, " ".join(error.messages))
    if normalised in seen:
        return Rejected(
            line, email, _("The same address as line %(line)d.") % {"line": seen[normalised]}
        )
    for field, limit in LIMITS.items():
        if len(values.get(field, "")) > limit:
            return Rejected(
                line,
                email,
                _("%(field)s is longer than %(limit)d characters.")
                % {"field": field.replace("_", " ").capitalize(), "limit": limit},
            )
    for field in ("first_name", "last_name"):
        # The same rule as the public forms: an imported name goes into our emails too.
        problem = name_problem(values.get(field, ""))
        if problem is not None:
            label = field.replace("_", " ").capitalize()
            return Rejected(line, email, f"{label}: {problem}")
    country = values.get("country", "").upper()
    if country and not (len(country) == 2 and country.isalpha()):
        return Rejected(
            line,
            email,
            _("Country must be a two-letter code such as GB; got “%(value)s”.")
            % {"value": values["country"]},
        )
    seen[normalised] = line
    details = PersonDetails(
        email=email,
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        postal_code=values.get("postal_code", ""),
        country=country,
        address=values.get("address", ""),
    )
    return Row(line, details, normalised)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a BOM)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8”.")
        ) from None
    # No text has one, and PostgreSQL cannot store it: the upload answered 500.
    if "\x00" in text:
        raise ImportFileError(
            _("The file holds a NUL character, so it is not text: save it as “CSV UTF-8”.")
        )
    return text
