"""The petition as it is handed to its target: a cover letter (target, statement, how
many signed, when, which organisations ask), then the signers grouped by country and
postal region, with a running header and page numbers. The same signers as CSV.

Drawn straight onto ReportLab's canvas a line at a time, from signatures read in
chunks, so a delivery of any size needs only the pages already drawn in memory (no
platypus story of one flowable per signer)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.db.models import Count
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from groundswell.petitions.countries import COUNTRIES
from groundswell.petitions.models import Petition, Signature, SignatureStatus

CHUNK = 5000
COUNTRY_NAMES = {code: str(name) for code, name in COUNTRIES}

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BODY_FONT, BOLD_FONT, ITALIC_FONT = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"


@dataclass(frozen=True)
class DeliveryOptions:
    """What staff chose to include."""

    comments: bool = True
    places: bool = True


@dataclass(frozen=True)
class Signer:
    name: str
    postal_code: str
    country: str
    region: str
    comment: str


def region_of(postal_code: str) -> str:
    """The broad postal region a code belongs to: the letters it starts with (a UK
    postcode area: "BB7 3NJ" is in BB), or else its first digit (a US ZIP's zone, a
    German postal region). Codes sorted as text keep each region together."""
    code = postal_code.strip().upper()
    letters = ""
    for char in code:
        if not char.isalpha():
            break
        letters += char
    return letters or code[:1]


def _signatures(petition: Petition) -> Any:
    return Signature.objects.filter(
        petition=petition, status=SignatureStatus.VALID, person__isnull=False
    )


def signers(petition: Petition) -> Iterator[Signer]:
    """The named signers, by country, region, then name."""
    rows = (
        _signatures(petition)
        .order_by(
            "person__country",
            "person__postal_code",
            "person__last_name",
            "person__first_name",
            "pk",
        )
        .values_list(
            "person__first_name",
            "person__last_name",
            "person__postal_code",
            "person__country",
            "comment",
            "comment_hidden_at",
        )
    )
    for first, last, postal_code, country, comment, hidden in rows.iterator(chunk_size=CHUNK):
        yield Signer(
            name=f"{first} {last}".strip() or _("(no name given)"),
            postal_code=postal_code,
            country=country,
            region=region_of(postal_code),
            # A comment staff hid as abusive goes to nobody.
            comment="" if hidden else " ".join(comment.split()),
        )


@dataclass(frozen=True)
class Cover:
    total: int
    named: int
    first: datetime | None
    last: datetime | None
    sponsors: list[str]


def cover_of(petition: Petition) -> Cover:
    valid = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
    dates = valid.order_by("created_at").values_list("created_at", flat=True)
    return Cover(
        total=valid.count(),
        named=_signatures(petition).count(),
        first=dates.first(),
        last=valid.order_by("-created_at").values_list("created_at", flat=True).first(),
        sponsors=[org.name for org in petition.sponsors.order_by("sponsorships__position")],
    )


def _day(value: datetime | None) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y") if value else ""


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code) if code else _("Country not given")


class _Pages:
    """A canvas with a cursor: writes lines, starting a new page (with the running
    header and the page number) when the next one would not fit."""

    def __init__(self, out: IO[bytes], petition: Petition) -> None:
        self.canvas = Canvas(out, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(petition.title)
        self.canvas.setAuthor(", ".join(o.name for o in petition.sponsors.all()))
        self.header = petition.title
        self.page = 0
        self.y = 0.0

    def new_page(self, *, running_header: bool = True) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        self.y = PAGE_HEIGHT - MARGIN
        self.canvas.setFont(BODY_FONT, 8)
        if running_header:
            title = simpleSplit(self.header, BODY_FONT, 8, TEXT_WIDTH - 30 * mm)[0]
            self.canvas.drawString(MARGIN, PAGE_HEIGHT - 12 * mm, title)
            self.canvas.line(
                MARGIN, PAGE_HEIGHT - 13.5 * mm, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 13.5 * mm
            )
        self.canvas.drawRightString(
            PAGE_WIDTH - MARGIN, 10 * mm, _("Page %(number)d") % {"number": self.page}
        )

    def room(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.new_page()

    def text(
        self,
        text: str,
        *,
        font: str = BODY_FONT,
        size: float = 10,
        indent: float = 0,
        leading: float | None = None,
        space_after: float = 0,
    ) -> None:
        leading = leading or size * 1.3
        for line in simpleSplit(text, font, size, TEXT_WIDTH - indent) or [""]:
            self.room(leading)
            self.y -= leading
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN + indent, self.y, line)
        self.y -= space_after

    def finish(self) -> None:
        self.canvas.showPage()
        self.canvas.save()


def write_delivery_pdf(
    petition: Petition, out: IO[bytes], options: DeliveryOptions = DeliveryOptions()
) -> int:
    """Write the delivery to `out`; return how many signers it names."""
    pages = _Pages(out, petition)
    cover = cover_of(petition)
    pages.new_page(running_header=False)
    pages.text(_("To: %(target)s") % {"target": petition.target}, size=11, space_after=8)
    pages.text(petition.title, font=BOLD_FONT, size=18, space_after=10)
    for paragraph in petition.statement.split("\n\n"):
        pages.text(" ".join(paragraph.split()), size=12, leading=16, space_after=8)
    pages.y -= 6
    counted = ngettext(
        "%(count)s person signed this petition",
        "%(count)s people signed this petition",
        cover.total,
    ) % {"count": formats.number_format(cover.total, force_grouping=True)}
    if cover.first and cover.last:
        counted += " " + _("between %(first)s and %(last)s.") % {
            "first": _day(cover.first),
            "last": _day(cover.last),
        }
    pages.text(counted, font=BOLD_FONT, size=12, space_after=6)
    if cover.sponsors:
        pages.text(
            _("Delivered on %(day)s by %(sponsors)s.")
            % {"day": _day(timezone.now()), "sponsors": ", ".join(cover.sponsors)},
            size=11,
            space_after=6,
        )
    if cover.named < cover.total:
        pages.text(
            ngettext(
                "%(count)s more signed and later asked us to forget their name: "
                "they are counted, not listed.",
                "%(count)s more signed and later asked us to forget their names: "
                "they are counted, not listed.",
                cover.total - cover.named,
            )
            % {"count": formats.number_format(cover.total - cover.named, force_grouping=True)},
            size=10,
        )

    named = 0
    country = region = None
    per_country = dict(
        _signatures(petition)
        .values_list("person__country")
        .annotate(n=Count("pk"))
        .values_list("person__country", "n")
    )
    pages.new_page()
    pages.text(_("The signers"), font=BOLD_FONT, size=14, space_after=4)
    for signer in signers(petition):
        if signer.country != country:
            country, region = signer.country, None
            pages.room(40)
            pages.y -= 6
            how_many = formats.number_format(per_country.get(country, 0), force_grouping=True)
            heading = f"{country_name(country)} ({how_many})"
            pages.text(heading, font=BOLD_FONT, size=12, space_after=2)
        if options.places and signer.region != region:
            region = signer.region
            pages.room(30)
            label = (
                _("Postal region %(region)s") % {"region": region}
                if region
                else _("No postal code given")
            )
            pages.text(label, font=BOLD_FONT, size=9, indent=4 * mm, space_after=1)
        line = signer.name
        if options.places and signer.postal_code:
            line += f"  ·  {signer.postal_code}"
        pages.text(line, size=9.5, indent=8 * mm)
        if options.comments and signer.comment:
            pages.text(f"“{signer.comment}”", font=ITALIC_FONT, size=8.5, indent=12 * mm)
        named += 1
    if not named:
        pages.text(_("No one is listed yet."), size=10)
    pages.finish()
    return named


def delivery_rows(
    petition: Petition, options: DeliveryOptions = DeliveryOptions()
) -> Iterator[list[str]]:
    """The delivery's signers as rows for a CSV: the header first."""
    header = [_("name")]
    if options.places:
        header += [_("postal code"), _("region"), _("country")]
    if options.comments:
        header.append(_("comment"))
    yield header
    for signer in signers(petition):
        row = [signer.name]
        if options.places:
            row += [signer.postal_code, signer.region, country_name(signer.country)]
        if options.comments:
            row.append(signer.comment)
        yield row
