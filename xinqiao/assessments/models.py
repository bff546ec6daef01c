"""Assessments (心理测评): MISSION.md R-ASSESS, R-CONSENT.

An assessment is one instrument taken once, either administered by staff on a person's file
or taken by the person through a link or QR code (an invitation; several make a campaign, or
one open link makes an anonymous campaign). Scores are computed on the server by the pure
engine (``xinqiao.instruments.engine``) and stored with the answers; a half-finished
self-assessment stays "incomplete" and is never scored.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField, blind_index
from xinqiao.instruments.engine import Band, Instrument
from xinqiao.instruments.library import get

# The blind-index context of invitation tokens (a label, not a secret).
TOKEN_PURPOSE = "assessment.invitation"  # noqa: S105


class Intervention(models.TextChoices):
    """The kind of intervention a band suggests (R-ASSESS "Results suggest the kind of
    intervention (group / family / individual)", seed 000 二(四))."""

    NONE = "none", _("No intervention needed")
    EDUCATION = "education", _("Mental-health education and self-help")
    GROUP = "group", _("Group counselling")
    FAMILY = "family", _("Family counselling")
    INDIVIDUAL = "individual", _("Individual counselling")
    URGENT = "urgent", _("Urgent one-to-one intervention")


class AssessmentStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Incomplete")
    COMPLETED = "completed", _("Completed")
    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")


class AssessmentMode(models.TextChoices):
    STAFF = "staff", _("Administered by staff")
    SELF_SERVICE = "self_service", _("Self-assessment (link or QR code)")


class AssessmentChannel(models.TextChoices):
    """Where a self-service assessment came in. The public portal (issue #8 item 4) takes
    anonymous assessments outside any campaign: no file, no link, only the portal's unit."""

    DIRECT = "", _("On a file, or through a link")
    PORTAL = "portal", _("The public portal")


class Respondent(models.TextChoices):
    SELF = "self", _("The person")
    GUARDIAN = "guardian", _("A guardian, with the person")


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Campaign(models.Model):
    """An assessment campaign for a unit (a school class, an isolation hotel, a community):
    personal links for listed people, or one open link answered anonymously (aggregates
    only, no file)."""

    scope_path_lookup = "unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        CampaignStatus.OPEN: frozenset({CampaignStatus.CLOSED}),
        CampaignStatus.CLOSED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    instrument = models.CharField(_("instrument"), max_length=32)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    expected_count = models.PositiveIntegerField(_("people invited"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"))
    status = models.CharField(
        _("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assessment campaign")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="campaign_anonymous_has_expected_count",
                condition=Q(anonymous=False) | Q(expected_count__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def instrument_definition(self) -> Instrument:
        return get(self.instrument)


class Invitation(models.Model):
    """A self-assessment link (and its QR code). Personal invitations are for one person's
    file and single-use; a campaign's open link (no person) may be answered many times,
    anonymously. The token is a bearer secret: stored encrypted (so the QR code can be
    printed again) and found through a keyed blind index."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(_("instrument"), max_length=32)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    token = EncryptedTextField()
    token_index = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assessment invitation")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="invitation_for_a_person_or_a_campaign",
                condition=Q(person__isnull=False) | Q(campaign__isnull=False),
            ),
            models.CheckConstraint(
                name="invitation_open_links_are_never_used_up",
                condition=Q(person__isnull=False) | Q(used_at__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["campaign", "person"],
                condition=Q(campaign__isnull=False) & Q(person__isnull=False),
                name="invitation_one_per_person_in_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.created_at:%Y-%m-%d}"

    BLIND_INDEX_FIELDS = ("token_index",)

    def refresh_blind_indexes(self) -> None:
        """Recompute the token's blind index with the newest key (``xinqiao rotate_keys``)."""
        self.token_index = blind_index(self.token, TOKEN_PURPOSE)

    @property
    def is_personal(self) -> bool:
        return self.person_id is not None

    @property
    def instrument_definition(self) -> Instrument:
        return get(self.instrument)


class Assessment(models.Model):
    # An assessment follows its person's file (a transfer takes it along, and the old unit
    # loses it); an anonymous one has no file and is seen only in its campaign's aggregates.
    scope_path_lookup = "person__unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        AssessmentStatus.IN_PROGRESS: frozenset({AssessmentStatus.COMPLETED}),
        AssessmentStatus.COMPLETED: frozenset({AssessmentStatus.ENTERED_IN_ERROR}),
        AssessmentStatus.ENTERED_IN_ERROR: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(_("instrument"), max_length=32, db_index=True)
    instrument_version = models.CharField(max_length=100, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=AssessmentMode.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.IN_PROGRESS,
    )
    language = models.CharField(max_length=8, default="zh")
    # Published option values in item order; None for an item not (yet) answered.
    answers = models.JSONField(default=list)
    # Self-service: index of the question on screen (== number of items once all are done).
    position = models.PositiveSmallIntegerField(default=0)
    raw = models.IntegerField(null=True, blank=True)
    total = models.IntegerField(_("score"), null=True, blank=True)
    band_code = models.CharField(max_length=32, blank=True)
    band_index = models.PositiveSmallIntegerField(null=True, blank=True)
    intervention = models.CharField(
        _("suggested intervention"), max_length=12, choices=Intervention.choices, blank=True
    )
    subscales = models.JSONField(default=dict, blank=True)
    critical_items = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    respondent = models.CharField(
        _("answered by"), max_length=12, choices=Respondent.choices, default=Respondent.SELF
    )
    consent = models.ForeignKey(
        "people.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=AssessmentChannel.choices, blank=True, default=""
    )
    # Hash of the resume key kept in the respondent's browser (self-service only).
    resume_digest = models.CharField(max_length=64, blank=True, editable=False)
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    error_reason = models.CharField(_("reason"), max_length=200, blank=True)
    marked_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_in_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-completed_at", "-started_at"]
        constraints = [
            models.CheckConstraint(
                name="assessment_scored_iff_not_in_progress",
                condition=(
                    Q(status="in_progress") & Q(total__isnull=True) & Q(completed_at__isnull=True)
                )
                | (
                    ~Q(status="in_progress")
                    & Q(total__isnull=False)
                    & Q(completed_at__isnull=False)
                    & ~Q(band_code="")
                ),
            ),
            # Anonymous only in a campaign, or on the public portal (issue #8 item 4).
            models.CheckConstraint(
                name="assessment_anonymous_in_a_campaign_or_the_portal",
                condition=Q(person__isnull=False) | Q(campaign__isnull=False) | Q(channel="portal"),
            ),
            # A portal assessment is anonymous self-service, outside any link or campaign.
            models.CheckConstraint(
                name="assessment_portal_is_anonymous_self_service",
                condition=~Q(channel="portal")
                | (
                    Q(person__isnull=True)
                    & Q(invitation__isnull=True)
                    & Q(campaign__isnull=True)
                    & Q(mode="self_service")
                ),
            ),
            # A personal link is single-use: one assessment per personal invitation.
            models.UniqueConstraint(
                fields=["invitation"],
                condition=Q(invitation__isnull=False) & Q(person__isnull=False),
                name="assessment_one_per_personal_invitation",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "instrument", "completed_at"]),
            models.Index(fields=["campaign", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.started_at:%Y-%m-%d}"

    @property
    def instrument_definition(self) -> Instrument:
        return get(self.instrument)

    @property
    def band(self) -> Band | None:
        definition = self.instrument_definition
        return next((b for b in definition.bands if b.code == self.band_code), None)

    def answer_rows(self, language: str) -> list[dict[str, Any]]:
        """Each item with its text, the chosen option and whether it is critical."""
        rows = []
        zh = language.startswith("zh")
        for item, value in zip(self.instrument_definition.items, self.answers, strict=False):
            option = next((o for o in item.options if o.value == value), None)
            rows.append(
                {
                    "number": item.number,
                    "text": item.zh if zh else item.en,
                    "value": value,
                    "option": (option.zh if zh else option.en) if option else "",
                    "critical": item.number in (self.critical_items or []),
                    "scored": item.scored,
                }
            )
        return rows
