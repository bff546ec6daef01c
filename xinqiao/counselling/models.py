"""Counselling sessions and case records (心理疏导、个案记录): MISSION.md R-SESSION.

Seed 002 篇6 三(二)2: "对于有心理行为问题的人员 … 开展心理疏导 … 建立个案记录" — a case record
of four parts: 基本情况 (basic situation), 自我评价 (self-evaluation), 导致心理挫折的生活事件
(life events that caused distress), 心理辅导建议 (counselling advice); and a toolkit handed out
(心理自助手册、宣传资料). Every free-text field is encrypted at rest (R-PRIVACY). The content is for
SESSION_NOTES_VIEW (clinical roles); SESSION_VIEW sees that a session took place.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import bump_version
from xinqiao.fields import EncryptedTextField


class SessionKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    FAMILY = "family", _("Family")
    GROUP = "group", _("Group")


class SessionFormat(models.TextChoices):
    OFFLINE = "offline", _("In person")
    ONLINE = "online", _("Online")


class Technique(models.TextChoices):
    SUPPORTIVE_LISTENING = "supportive_listening", _("Supportive listening")
    PSYCHOEDUCATION = "psychoeducation", _("Psychoeducation")
    RELAXATION = "relaxation", _("Relaxation training")
    CBT = "cbt", _("CBT techniques")
    PROBLEM_SOLVING = "problem_solving", _("Problem solving")
    MINDFULNESS = "mindfulness", _("Mindfulness")
    GRIEF = "grief", _("Grief counselling")
    CRISIS = "crisis", _("Crisis intervention")
    FAMILY_WORK = "family_work", _("Family work")


class Toolkit(models.TextChoices):
    # Seed 002 篇6 三(二)2: 发放心理自助手册 / 宣传资料.
    HANDBOOK = "handbook", _("Self-help handbook")
    LEAFLET = "leaflet", _("Resource leaflet")


class ParticipantRole(models.TextChoices):
    CLIENT = "client", _("Client")
    FAMILY_MEMBER = "family_member", _("Family member")


def validate_choices(choices: type[models.TextChoices]):  # type: ignore[no-untyped-def]
    def check(value: object) -> None:
        if not isinstance(value, list) or any(v not in choices.values for v in value):
            raise ValidationError(_("Choose from the list."))

    return check


def validate_techniques(value: object) -> None:
    validate_choices(Technique)(value)


def validate_toolkit(value: object) -> None:
    validate_choices(Toolkit)(value)


class Programme(models.Model):
    """A programme of sessions (e.g. a group programme) whose outcomes are tracked together."""

    scope_path_lookup = "unit__path"

    class Kind(models.TextChoices):
        GROUP = "group", _("Group programme")
        INDIVIDUAL = "individual", _("Individual counselling programme")
        FAMILY = "family", _("Family programme")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GROUP)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="counselling_programme_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Session(models.Model):
    """One counselling session: individual, family or group (seed 002 篇6 三(二)2)."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind of session"), max_length=16, choices=SessionKind.choices)
    format = models.CharField(_("format"), max_length=16, choices=SessionFormat.choices)
    held_at = models.DateTimeField(_("held at"), db_index=True)
    minutes = models.PositiveSmallIntegerField(_("minutes"), default=50)
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("counsellor"),
        on_delete=models.PROTECT,
        related_name="counselling_sessions",
    )
    co_counsellors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("co-counsellors"), blank=True, related_name="+"
    )
    title = models.CharField(_("topic"), max_length=200, blank=True)
    techniques = models.JSONField(
        _("techniques used"), default=list, blank=True, validators=[validate_techniques]
    )
    plan = EncryptedTextField(_("plan"), blank=True)
    toolkit = models.JSONField(
        _("toolkit handed out"), default=list, blank=True, validators=[validate_toolkit]
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
    )
    # The appointment this session was held for (R-BOOK → R-SESSION): one session each.
    appointment = models.OneToOneField(
        "booking.Appointment",
        verbose_name=_("appointment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="session",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_at"]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="counselling_minutes_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=SessionKind.values), name="counselling_session_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=SessionFormat.values), name="counselling_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_at:%Y-%m-%d}"


class SessionParticipant(models.Model):
    """A person at a session, with their case record (seed 002 篇6 三(二)2 个案记录)."""

    scope_path_lookup = "session__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="counselling_participations",
    )
    role = models.CharField(
        _("role"), max_length=16, choices=ParticipantRole.choices, default=ParticipantRole.CLIENT
    )
    attended = models.BooleanField(_("attended"), default=True)
    # The four parts of the case record (seed 002 篇6 三(二)2).
    basic_situation = EncryptedTextField(_("basic situation"), blank=True)
    self_evaluation = EncryptedTextField(_("self-evaluation"), blank=True)
    life_events = EncryptedTextField(_("life events that caused distress"), blank=True)
    advice = EncryptedTextField(_("counselling advice"), blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every save: a stale correction of the case record is refused.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    class Meta:
        ordering = ["session", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "person"], name="counselling_participant_once"
            ),
            models.CheckConstraint(
                condition=Q(role__in=ParticipantRole.values), name="counselling_role_valid"
            ),
        ]

    CASE_FIELDS = ("basic_situation", "self_evaluation", "life_events", "advice")

    def __str__(self) -> str:
        return str(self.pk)

    def save(self, *args: Any, **kwargs: Any) -> None:
        bump_version(self, kwargs)
        super().save(*args, **kwargs)
