"""Hotline, worry mailbox and early warning: MISSION.md R-HOTLINE, R-MAILBOX.

- A hotline centre (``orgs.Unit`` of kind ``hotline_centre``) has ``Seat``s; a ``Shift`` puts one
  operator on one seat for a period (seed 002 篇6 三(五)2: 坐席数增加到4部, 24小时不间断服务).
  An operator takes calls only with a recorded ``HotlineTraining`` (same seed: 热线接听人员 …
  在上岗之前, 应接受新冠肺炎疫情应对心理援助培训).
- A ``Call`` is the log of one call: who called (type, sex, age band, group), what about
  (``CallProblem`` rows from the two-level taxonomy of ``xinqiao.hotline.categories``), the
  suicide-risk questions, what was done, a call-back; notes encrypted. It is anonymous or
  linked to a person file.
- A ``MailboxMessage`` is a thread written from the portal (解忧信箱 or 网络咨询) under an
  unguessable reference code; ``MailboxReply`` rows are the counsellor's answers and the
  writer's follow-ups. Every message passes text triage (``xinqiao.hotline.triage``) first.
- An ``EmergingIssueReport`` is made when the aberration detector (``xinqiao.hotline.detect``)
  raises an alarm on a daily count (seed 000 二(七): 对发现的突出问题或可能的应激事件 … 报告街道).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField


class TextRisk(models.TextChoices):
    """The levels of ``xinqiao.hotline.triage`` (and of a call's risk)."""

    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class AgeBand(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    UNDER_12 = "under_12", _("Under 12")
    AGE_12_17 = "12_17", _("12–17")
    AGE_18_24 = "18_24", _("18–24")
    AGE_25_34 = "25_34", _("25–34")
    AGE_35_44 = "35_44", _("35–44")
    AGE_45_59 = "45_59", _("45–59")
    AGE_60_PLUS = "60_plus", _("60 and over")


# --- roster --------------------------------------------------------------------------------


class HotlineTraining(models.Model):
    """Training in epidemic psychological assistance, required before taking calls
    (seed 002 篇6 三(五)2)."""

    scope_path_lookup = "centre__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hotline_trainings"
    )
    centre = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    course = models.CharField(_("course"), max_length=200)
    completed_on = models.DateField(_("completed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on"]
        constraints = [
            models.CheckConstraint(
                name="training_valid_range",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("completed_on")),
            ),
        ]

    def __str__(self) -> str:
        return self.course


class Seat(models.Model):
    """One answering position of a hotline centre."""

    scope_path_lookup = "centre__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    centre = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="hotline_seats")
    name = models.CharField(_("name"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "name"], name="seat_name_unique_in_centre")
        ]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    """One operator on one seat from ``starts_at`` to ``ends_at``."""

    scope_path_lookup = "seat__centre__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="shifts")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hotline_shifts"
    )
    starts_at = models.DateTimeField(_("from"), db_index=True)
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                name="shift_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))
            ),
        ]

    # --- calls ---------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.seat_id} {self.starts_at:%Y-%m-%d %H:%M}"


class CallerType(models.TextChoices):
    SELF = "self", _("The person themself")
    FAMILY = "family", _("Family member")
    FRIEND = "friend", _("Friend")
    PROFESSIONAL = "professional", _("Professional")
    ANONYMOUS = "anonymous", _("Anonymous")


class Intervention(models.TextChoices):
    SUPPORT = "support", _("Listening and emotional support")
    INFORMATION = "information", _("Information and psychoeducation")
    STABILISATION = "stabilisation", _("Stabilisation and relaxation")
    SAFETY_PLAN = "safety_plan", _("Safety plan")
    CRISIS = "crisis", _("Crisis intervention")
    EMERGENCY = "emergency", _("Emergency services called (110/120)")


class CallReferral(models.TextChoices):
    NONE = "none", _("No referral")
    COUNSELLING = "counselling", _("Counselling appointment")
    COMMUNITY = "community", _("Community psychological service")
    HOSPITAL = "hospital", _("Psychiatric / medical care")
    EMERGENCY = "emergency", _("Emergency services")
    OTHER = "other", _("Other service")


class Call(models.Model):
    """One hotline call. ``risk`` is the operator's judgement on the call (at least what the
    suicide-risk answers give, ``xinqiao.hotline.callrisk``); ``text_risk`` is the triage of
    the notes. Notes are encrypted; nothing here is logged."""

    scope_path_lookup = "centre__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=16, unique=True)
    centre = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="hotline_calls")
    seat = models.ForeignKey(
        Seat, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hotline_calls"
    )
    started_at = models.DateTimeField(_("started"), db_index=True)
    ended_at = models.DateTimeField(_("ended"))
    caller_type = models.CharField(_("caller"), max_length=16, choices=CallerType.choices)
    caller_sex = models.CharField(_("sex"), max_length=8, default="unknown")
    age_band = models.CharField(
        _("age band"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    # A value of people.TargetGroup, or "" when not known / the general public.
    caller_group = models.CharField(_("caller's group"), max_length=32, blank=True)
    # The caller's street, when said: emerging-issue reports go to that street office.
    area = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("caller's street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_calls",
    )
    # Suicide-risk questions asked on the call (C-SSRS screener domains, Posner et al. 2011).
    risk_wish_dead = models.BooleanField(_("wishes to be dead or not wake up"), default=False)
    risk_ideation = models.BooleanField(_("thoughts of killing themself"), default=False)
    risk_method = models.BooleanField(_("has thought about how"), default=False)
    risk_intent = models.BooleanField(_("intends to act"), default=False)
    risk_plan = models.BooleanField(_("has a plan or has prepared"), default=False)
    risk_behaviour = models.BooleanField(_("has attempted or prepared"), default=False)
    risk_harm_others = models.BooleanField(_("threatens to harm others"), default=False)
    risk = models.CharField(_("risk"), max_length=8, choices=TextRisk.choices)
    text_risk = models.CharField(
        _("text triage"), max_length=8, choices=TextRisk.choices, default=TextRisk.NONE
    )
    interventions = models.JSONField(_("intervention"), default=list, blank=True)
    referral = models.CharField(
        _("referral"), max_length=16, choices=CallReferral.choices, default=CallReferral.NONE
    )
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    callback_done_at = models.DateTimeField(_("called back"), null=True, blank=True)
    callback_phone = EncryptedTextField(_("call-back number"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    alert = models.ForeignKey(
        "risk.Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                name="call_ends_after_start", condition=Q(ended_at__gte=F("started_at"))
            ),
            models.CheckConstraint(
                name="call_callback_after_start",
                condition=Q(callback_at__isnull=True) | Q(callback_at__gte=F("started_at")),
            ),
        ]
        indexes = [models.Index(fields=["centre", "started_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def duration_seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())


class CallProblem(models.Model):
    """One problem category of a call: ``code`` is ``group`` or ``group.sub`` from
    ``xinqiao.hotline.categories``; ``group`` is its first level, for counting."""

    id = models.BigAutoField(primary_key=True)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="problems")
    group = models.CharField(max_length=32, db_index=True)
    code = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="call_problem_unique"),
        ]

    # --- mailbox -------------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.code


class MessageKind(models.TextChoices):
    MAILBOX = "mailbox", _("Worry mailbox")
    CONSULTATION = "consultation", _("Online consultation")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    IN_PROGRESS = "in_progress", _("Being answered")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class MailboxMessage(models.Model):
    """A thread from the portal. The writer holds ``reference`` (shown once, unguessable);
    only its digest is stored. Body and contact are encrypted and always shown as text."""

    scope_path_lookup = "unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        MessageStatus.QUEUED: frozenset({MessageStatus.IN_PROGRESS, MessageStatus.CLOSED}),
        MessageStatus.IN_PROGRESS: frozenset(
            {MessageStatus.QUEUED, MessageStatus.ANSWERED, MessageStatus.CLOSED}
        ),
        # The writer's follow-up puts an answered thread back in the queue.
        MessageStatus.ANSWERED: frozenset({MessageStatus.QUEUED, MessageStatus.CLOSED}),
        MessageStatus.CLOSED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Short number for staff ("M-7K3Q2X"); the writer's code is separate and secret.
    number = models.CharField(_("number"), max_length=16, unique=True)
    code_digest = models.CharField(max_length=64, unique=True, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=MessageKind.choices, default=MessageKind.MAILBOX
    )
    subject = EncryptedTextField(_("subject"), blank=True, default="")
    body = EncryptedTextField(_("message"))
    contact = EncryptedTextField(_("contact"), blank=True, default="")
    writer_group = models.CharField(_("writer's group"), max_length=32, blank=True)
    age_band = models.CharField(
        _("age band"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    area = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Triage of the whole thread's writer text: the highest level seen, and its signals
    # (kinds and spans only, no text).
    text_risk = models.CharField(
        _("text triage"), max_length=8, choices=TextRisk.choices, default=TextRisk.NONE
    )
    signals = models.JSONField(default=list, blank=True)
    # Queue order: 0 high, 1 medium, 2 the rest (then oldest first).
    priority = models.PositiveSmallIntegerField(default=2, db_index=True)
    # First-level category from xinqiao.hotline.categories, set by the counsellor.
    category = models.CharField(_("category"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alert = models.ForeignKey(
        "risk.Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_writer_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "created_at"]
        constraints = [
            models.CheckConstraint(name="message_priority_0_2", condition=Q(priority__lte=2)),
        ]

    def __str__(self) -> str:
        return self.number


class MailboxReply(models.Model):
    """One entry of a thread after the first message: a counsellor's answer (``author`` set)
    or the writer's follow-up (``author`` empty)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(MailboxMessage, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = EncryptedTextField(_("answer"))
    text_risk = models.CharField(
        _("text triage"), max_length=8, choices=TextRisk.choices, default=TextRisk.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def from_writer(self) -> bool:
        return self.author_id is None


# --- early warning -------------------------------------------------------------------------


class ReportStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class EmergingIssueReport(models.Model):
    """An alarm of the detector on one daily series, reported to the unit that must look
    (the street office of the callers' street; seed 000 二(七))."""

    scope_path_lookup = "unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        ReportStatus.NEW: frozenset({ReportStatus.ACKNOWLEDGED, ReportStatus.CLOSED}),
        ReportStatus.ACKNOWLEDGED: frozenset({ReportStatus.CLOSED}),
        ReportStatus.CLOSED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("reported to"), on_delete=models.PROTECT, related_name="+"
    )
    # What was counted: calls and messages whose street (or centre) is ``source_unit``,
    # in first-level ``category`` ("" = all categories).
    source_unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("counted in"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=32, blank=True)
    day = models.DateField(_("day of the alarm"))
    method = models.CharField(_("method"), max_length=32)
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.FloatField(_("expected"))
    score = models.FloatField(_("score"))
    # The daily counts the detector read: [["YYYY-MM-DD", n], ...] (no personal data).
    series = models.JSONField(default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.NEW
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(_("response"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_unit", "category", "day"], name="issue_report_once_per_series_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category or '*'}"


# --- call-back requests from the portal (issue #8) ------------------------------------------


class CallbackSource(models.TextChoices):
    CRISIS = "crisis", _("“I need help now” on the portal")
    SELF_ASSESSMENT = "self_assessment", _("After a self-assessment result")


class CallbackStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLING = "calling", _("Being called")
    DONE = "done", _("Called back")
    UNREACHABLE = "unreachable", _("Could not be reached")


class CallbackRequest(models.Model):
    """A number left on the portal for the hotline to call back, urgently (issue #8 item 2:
    "leave a number for a call-back, which creates an urgent item for the hotline"). The
    number is encrypted; its blind index shows staff that the same number asked before."""

    scope_path_lookup = "unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        CallbackStatus.WAITING: frozenset({CallbackStatus.CALLING}),
        # Calling ends with the call logged, or back in the queue when nobody answered (tried
        # again), or unreachable after the attempts.
        CallbackStatus.CALLING: frozenset(
            {CallbackStatus.WAITING, CallbackStatus.DONE, CallbackStatus.UNREACHABLE}
        ),
        CallbackStatus.DONE: frozenset(),
        CallbackStatus.UNREACHABLE: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The unit whose portal the request came from.
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    # The hotline centre whose queue it waits in (xinqiao.hotline.callbacks.serving_centre).
    centre = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("hotline centre"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=16, choices=CallbackSource.choices)
    phone = EncryptedTextField(_("phone number"))
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    # What the person wrote beside the number (optional), triaged like a mailbox message.
    note = EncryptedTextField(_("message"), blank=True, default="")
    text_risk = models.CharField(
        _("text triage"), max_length=8, choices=TextRisk.choices, default=TextRisk.NONE
    )
    # The self-assessment whose result offered the call-back (its score helps the operator).
    assessment = models.ForeignKey(
        "assessments.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CallbackStatus.choices, default=CallbackStatus.WAITING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # What the operator noted when closing it as unreachable (free text: encrypted).
    outcome = EncryptedTextField(_("outcome"), blank=True, default="")
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    # The crisis alert the request raised (a high-risk note, or a self-assessment whose
    # facts call for one), on the unnamed file opened for it.
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alert = models.ForeignKey(
        "risk.Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The call logged when the person was reached.
    call = models.OneToOneField(
        Call, null=True, blank=True, on_delete=models.PROTECT, related_name="callback"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("call-back request")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                name="callback_done_has_call",
                condition=~Q(status="done") | Q(call__isnull=False),
            ),
            models.CheckConstraint(
                name="callback_calling_is_taken",
                condition=~Q(status="calling") | Q(taken_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d %H:%M}"

    BLIND_INDEX_FIELDS = ("phone_index",)

    def refresh_blind_indexes(self) -> None:
        """The same index as a person file's phone, so staff can find the caller's file."""
        from xinqiao.people.actions import phone_index

        self.phone_index = phone_index(self.phone)
