from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link, time_added, time_last_saved
from groundswell.lib.limits import LimitSyntaxError, parse_limits
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation

# The keys a petition's sign_limits (and the SIGN_LIMITS setting) may name.
SIGN_LIMIT_KEYS = ("network", "domain")


def validate_sign_limits(value: str) -> None:
    try:
        parse_limits(value, keys=SIGN_LIMIT_KEYS, defaults={})
    except LimitSyntaxError as error:
        raise ValidationError(str(error), code="invalid") from None


class PetitionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class ConsentMode(models.TextChoices):
    EXPLICIT = "explicit", _("explicit: one unticked box per organisation")
    NOTICE = "notice", _("notice: signing subscribes, as the page says")


class Petition(models.Model):
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    target = models.CharField(
        _("target"),
        max_length=200,
        help_text=_('Who it is addressed to, e.g. "the leaders of Microsoft".'),
    )
    statement = models.TextField(
        _("statement"), help_text=_("What is delivered to the target. Plain text.")
    )
    background = models.TextField(
        _("background"),
        blank=True,
        help_text=_(
            "Markdown, shown on the page, not delivered. Footnotes: text[^1] and [^1]: source."
        ),
    )
    goal = models.PositiveIntegerField(_("goal"), default=1000)
    auto_raise_goal = models.BooleanField(
        _("raise the goal automatically"),
        default=True,
        help_text=_("When the count reaches the goal, set a new, higher goal."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PetitionStatus.choices, default=PetitionStatus.DRAFT
    )
    sponsors: models.ManyToManyField[Organisation, PetitionSponsor] = models.ManyToManyField(
        Organisation,
        through="PetitionSponsor",
        related_name="petitions",
        verbose_name=_("sponsors"),
    )
    consent_mode = models.CharField(
        _("consent mode"), max_length=10, choices=ConsentMode.choices, default=ConsentMode.EXPLICIT
    )
    require_postal_code = models.BooleanField(_("postal code required"), default=True)
    require_country = models.BooleanField(_("country required"), default=True)
    thank_you_text = models.TextField(
        _("thank-you text"),
        blank=True,
        help_text=_(
            "Shown on the thank-you page and in the thank-you email, below the share link."
        ),
    )
    share_text = models.CharField(
        _("share text"), max_length=280, blank=True, help_text=_("Suggested words for sharing.")
    )
    social_image = models.ImageField(_("social image"), upload_to="petitions/", blank=True)
    created_at = time_added(_("created"))
    # Part of the public page's cache key: an edit shows at once.
    updated_at = time_last_saved(_("updated"))
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The kill switch (`groundswell signing off`): an open petition that takes no
    # signatures for now, its count still shown.
    signing_off = models.BooleanField(_("signing switched off"), default=False, editable=False)
    # Defences on signing (docs/security.md); blank: the site's own settings.
    sign_limits = models.CharField(
        _("signing rate limits"),
        max_length=200,
        blank=True,
        validators=[validate_sign_limits],
        help_text=_(
            "Blank for the site's default. E.g. network=100/10m,1000/24h; domain=off "
            "(signatures per client address and per email domain, per minutes and per "
            "hours), or off."
        ),
    )
    sign_min_seconds = models.PositiveSmallIntegerField(
        _("minimum seconds to sign"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(600)],
        help_text=_(
            "Blank for the site's default. A submission sooner than this after the page "
            "was shown is refused as a script's; 0 turns the check off."
        ),
    )
    confirm_by_email = models.BooleanField(
        _("confirm signatures by email"),
        null=True,
        blank=True,
        help_text=_(
            "Blank for the site's default. A signature stays pending, out of the count, "
            "until the signer presses the button on the page their email links to."
        ),
    )
    proof_of_work = models.CharField(
        _("proof of work"),
        max_length=10,
        blank=True,
        choices=[
            ("off", _("off")),
            ("allow", _("on; signers without JavaScript may still sign")),
            ("require", _("required; signing needs JavaScript")),
        ],
        help_text=_(
            "Blank for the site's default. The signer's browser solves a small puzzle "
            "before the form is sent, which makes signing by script costly."
        ),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/sign/{self.slug}/"

    def lead_sponsor_id(self) -> int | None:
        """The first sponsor on the page: the organisation the petition's audit entries
        are filed under."""
        return (
            self.sponsorships.order_by("position", "pk")
            .values_list("organisation_id", flat=True)
            .first()
        )

    def sponsors_with_lists(self) -> list[tuple[Organisation, MailingList | None]]:
        """The sponsors in page order, each with the default list its consent goes to."""
        sponsors = [s.organisation for s in self.sponsorships.select_related("organisation")]
        lists = {
            ml.organisation_id: ml
            for ml in MailingList.objects.filter(organisation__in=sponsors, is_default=True)
        }
        return [(org, lists.get(org.pk)) for org in sponsors]


class PetitionUpdate(models.Model):
    """News staff post on the petition's page (and may email to its signers)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="updates")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("update"), help_text=_("Markdown, shown on the page."))
    posted_by = models.CharField(_("posted by"), max_length=200)
    created_at = time_added(_("posted"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("petition update")
        verbose_name_plural = _("petition updates")

    def __str__(self) -> str:
        return self.title


class PetitionSponsor(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="sponsorships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sponsorships"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")
        constraints = [
            models.UniqueConstraint(fields=["petition", "organisation"], name="sponsor_once")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} sponsors {self.petition}"


class SignatureStatus(models.TextChoices):
    VALID = "valid", _("valid")
    INVALIDATED = "invalidated", _("invalidated")
    # Waiting for the signer to confirm by email: out of the count; expires.
    PENDING = "pending", _("waiting for confirmation")


class Signature(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="signatures")
    # Empty once the signer is erased or anonymised: the signature still counts.
    person = optional_link(Person, on_delete=models.PROTECT, related_name="signatures")
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    # From a member link in a mailing: which mailing, and which numbered link in it.
    mailing_id = models.PositiveBigIntegerField(_("mailing"), null=True, blank=True, db_index=True)
    link_number = models.PositiveIntegerField(_("link number"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Staff hid the comment (abuse): left off the public page and the delivery.
    comment_hidden_at = models.DateTimeField(_("comment hidden"), null=True, blank=True)
    show_name = models.BooleanField(
        _("name may be shown"), default=False, help_text=_("Among recent signers on the page.")
    )
    source = models.CharField(_("source"), max_length=100, blank=True, db_index=True)
    referrer = optional_link(
        Person, related_name="referred_signatures", verbose_name=_("referred by")
    )
    http_referer = models.URLField(_("referring page"), max_length=500, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    # Where it came from, for the rate limits and the trust page: the client's IPv4
    # address or its IPv6 /64 network (one household or phone), and the email's
    # domain. Blanked when the signer is erased; the network also after a while.
    client_network = models.CharField(_("network"), max_length=50, blank=True)
    email_domain = models.CharField(_("email domain"), max_length=255, blank=True)
    created_at = time_added(_("signed"))
    status = models.CharField(
        _("status"), max_length=12, choices=SignatureStatus.choices, default=SignatureStatus.VALID
    )
    invalidated_reason = models.CharField(_("why invalidated"), max_length=200, blank=True)
    invalidated_at = models.DateTimeField(_("invalidated"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by email"), null=True, blank=True)
    # Moved on again when an "already signed" note goes (at most daily, tasks.py).
    thanked_at = models.DateTimeField(
        _("thank-you email sent"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(fields=["petition", "person"], name="sign_once_per_petition")
        ]
        indexes = [
            models.Index(fields=["petition", "status"], name="signature_count_idx"),
            models.Index(fields=["petition", "-created_at"], name="signature_recent_idx"),
            # Pending signatures that expire unconfirmed, found without reading the rest.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="signature_pending_idx",
            ),
            # The dashboard's newest comments: only signatures with one, so a big
            # petition where few leave a comment is not read from its newest back.
            models.Index(
                fields=["petition", "-created_at"],
                condition=models.Q(comment__gt=""),
                name="signature_comments_idx",
            ),
            # One index per criterion serves both its readers, read from the index alone:
            # the rate limits count one network's or domain's signatures of the last
            # minutes or hours whatever their status (an invalidated flood still
            # counts against its sender), and the trust page counts the valid ones per
            # network or domain, in a period or before it. Two more indexes on the
            # hottest insert instead of four.
            models.Index(
                fields=["petition", "client_network", "status", "created_at"],
                name="signature_network_idx",
            ),
            models.Index(
                fields=["petition", "email_domain", "status", "created_at"],
                name="signature_domain_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} signed {self.petition}"


# Models kept in modules of their own, imported here: Django registers them in this
# order, and the rest of the code imports every petitions model from this module.
from groundswell.petitions.confirmation_models import SignatureConfirmation  # noqa: E402, F401
from groundswell.petitions.count_models import (  # noqa: E402, F401
    PetitionCount,
    SignatureTally,
    TallyDimension,
    TallyMark,
)
