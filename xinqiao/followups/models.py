"""Follow-up plans and visits (随访管理): MISSION.md R-FOLLOW.

Every person under service (an active, living file) has one plan: its interval and next due
date come from ``xinqiao.followups.schedule`` (seed 000 二(五); 002 篇6 三(一)2, 三(三)1). The
plan is THE source of "next due" for the person; every visit is recorded against it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import bump_version
from xinqiao.fields import EncryptedTextField
from xinqiao.followups import schedule


class Rule(models.TextChoices):
    """The rule of ``schedule.interval`` that set the plan's interval."""

    UNDER_SERVICE = schedule.UNDER_SERVICE, _("At least every six months (everyone under service)")
    RISK_LEVEL = schedule.RISK_LEVEL, _("By the risk level")
    SMI_STATUS = schedule.SMI_STATUS, _("By the national severe-mental-disorder schedule")
    BEREAVED = schedule.BEREAVED, _("Periodic reassessment of a bereaved family")


class VisitMode(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", _("Phone call")
    VIDEO = "video", _("Video call")
    CLINIC = "clinic", _("At the clinic or service point")


class VisitOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    COULD_NOT_REACH = "could_not_reach", _("Could not reach")


class Toolkit(models.TextChoices):
    """The mental-health toolkit handed out: seed 000 二(五) 发放包括心理健康手册、服务资源
    宣传页的心理健康工具包 (MISSION.md R-SESSION, seed 002 篇6 三(二)2); the hotline card and
    self-help material are the platform's additions."""

    HANDBOOK = "handbook", _("Mental-health handbook")
    LEAFLET = "leaflet", _("Resource leaflet")
    HOTLINE_CARD = "hotline_card", _("Hotline card")
    SELF_HELP = "self_help", _("Self-help material (relaxation, sleep)")


class CurrentState(models.TextChoices):
    STABLE = "stable", _("Stable")
    IMPROVING = "improving", _("Improving")
    UNCHANGED = "unchanged", _("Unchanged")
    WORSE = "worse", _("Worse")
    UNKNOWN = "unknown", _("Not known (not reached)")


class FollowUpPlan(models.Model):
    """One per person under service."""

    scope_path_lookup = "person__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, related_name="followup_plan"
    )
    interval_days = models.PositiveSmallIntegerField(_("interval (days)"))
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    changed_on = models.DateField(_("rescheduled on"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    next_due = models.DateField(_("next due"), db_index=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible worker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followup_plans",
    )
    failed_in_a_row = models.PositiveSmallIntegerField(_("failed attempts in a row"), default=0)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every save: a visit recorded on a plan that changed since is refused.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    class Meta:
        verbose_name = _("follow-up plan")
        constraints = [
            models.CheckConstraint(
                name="followup_interval_1_to_180",
                condition=Q(interval_days__gte=1) & Q(interval_days__lte=schedule.MAX_DAYS),
            ),
            models.CheckConstraint(name="followup_rule_known", condition=Q(rule__in=Rule.values)),
            models.CheckConstraint(
                name="followup_due_not_before_change", condition=Q(next_due__gte=F("changed_on"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.next_due}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        bump_version(self, kwargs)
        super().save(*args, **kwargs)


class FollowUpVisit(models.Model):
    """One follow-up visit (or attempt)."""

    scope_path_lookup = "person__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="followup_visits"
    )
    visited_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=16, choices=VisitMode.choices)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visitor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=VisitOutcome.choices)
    assessment = models.ForeignKey(
        "assessments.Assessment",
        verbose_name=_("assessment given"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    counselling = EncryptedTextField(_("counselling given"), blank=True, default="")
    guidance = EncryptedTextField(_("health guidance"), blank=True, default="")
    toolkit = models.JSONField(_("toolkit handed out"), default=list, blank=True)
    state = models.CharField(
        _("current state"),
        max_length=16,
        choices=CurrentState.choices,
        default=CurrentState.UNKNOWN,
    )
    state_note = EncryptedTextField(_("note on the current state"), blank=True, default="")
    next_due = models.DateField(_("next due"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up visit")
        ordering = ["-visited_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                name="followup_visit_next_after_visit", condition=Q(next_due__gte=F("visited_on"))
            ),
            models.CheckConstraint(
                name="followup_visit_mode_known", condition=Q(mode__in=VisitMode.values)
            ),
            models.CheckConstraint(
                name="followup_visit_outcome_known", condition=Q(outcome__in=VisitOutcome.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.visited_on}"

    @property
    def toolkit_labels(self) -> list[str]:
        return [str(Toolkit(t).label) for t in self.toolkit if t in Toolkit.values]


class ReminderSent(models.Model):
    """The daily reminder a worker got, one per worker and day: a job run twice (a retry, a
    second worker) does not remind twice."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "on"], name="followup_reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.on}"
