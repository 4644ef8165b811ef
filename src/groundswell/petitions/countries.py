"""ISO 3166-1 countries for the signing form: code and English name, translatable,
in English alphabetical order.

The list is data, in countries.toml (generated from Debian's iso-codes). The names are
marked for translation as they are read, so a catalogue that has them translates them;
`makemessages` does not look in the data file, so a catalogue gets them from iso-codes.
"""

from __future__ import annotations

import tomllib
from importlib import resources

from django.utils.translation import gettext_lazy as _

_TABLE = resources.files("groundswell.petitions").joinpath("countries.toml").read_text("utf-8")

COUNTRIES = [(code, _(name)) for code, name in tomllib.loads(_TABLE)["countries"].items()]

COUNTRY_NAMES = dict(COUNTRIES)
