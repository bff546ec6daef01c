"""Risk signals, risk levels, crisis alerts and the response matrix (R-RISK, R-CRISIS).

A signal (an assessment result, a worker's report, a hotline call …) is stored with its
source; the rule table (``rules.py``) gives it a level; the person's level rises to it; at an
alerting level a crisis alert opens in the same transaction, its notifications and its
escalation clock are jobs in the same transaction too (``xinqiao.ops.jobs``), so a committed
signal is never without its alert and an alert never without its deadline.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.fields import EncryptedTextField


class RiskLevel(models.IntegerChoices):
    CRISIS = 1, _("Level 1 · crisis")
    HIGH = 2, _("Level 2 · high risk")
    MODERATE = 3, _("Level 3 · moderate")
    GENERAL = 4, _("Level 4 · general")


class SignalSource(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment")
    CONCERN_REPORT = "concern_report", _("Report of a concern")
    HOTLINE_CALL = "hotline_call", _("Hotline call")
    MAILBOX = "mailbox", _("Mailbox message")
    PORTAL_CALLBACK = "portal_callback", _("Call-back request from the portal")
    HOSPITAL_DISCHARGE = "hospital_discharge", _("Hospital discharge")
    SMI_GRADE = "smi_grade", _("Severe mental disorder risk grade")


class RiskSignal(models.Model):
    # A signal follows its person's file (a transfer takes it along); a signal from an
    # anonymous assessment has no file and is seen only in its campaign's aggregates.
    scope_path_lookup = "person__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_signals",
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=24, choices=SignalSource.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=RiskLevel.choices)
    # The rules of rules.py that applied, and the facts they read (no personal data).
    rules = models.JSONField(default=list)
    facts = models.JSONField(default=dict)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("risk signal")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id"], name="risk_signal_one_per_object"
            ),
            models.CheckConstraint(
                name="risk_signal_level_1_to_4", condition=Q(level__gte=1) & Q(level__lte=4)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.level}"

    @property
    def critical_items(self) -> list[int]:
        return [
            r["item"] for r in self.facts.get("reasons", ()) if r.get("code") == "critical_item"
        ]


class ConcernBehaviour(models.TextChoices):
    """The checklist of a worker's report (keys of ``rules.CONCERN_BEHAVIOURS``)."""

    SUICIDE_TALK = "suicide_talk", _("Talks of suicide or of wanting to die")
    SELF_HARM = "self_harm", _("Has harmed themself")
    THREATS_TO_OTHERS = "threats_to_others", _("Threatens to harm others")
    AGITATION = "agitation", _("Agitated, out of control")
    SEVERE_INSOMNIA = "severe_insomnia", _("Severe insomnia")
    NOT_EATING = "not_eating", _("Not eating")
    SHUT_IN = "shut_in", _("Shuts themself in, withdrawn")


class ConcernReport(models.Model):
    """A worker's "report a concern" (seed 000 二(六) 基层工作人员反映有心理行为异常): what they
    saw, from the checklist, and in their words."""

    scope_path_lookup = "person__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="concern_reports"
    )
    behaviours = models.JSONField(_("observed behaviour"), default=list)
    note = EncryptedTextField(_("what you saw"), blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report of a concern")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {','.join(self.behaviours)}"


class PersonRisk(models.Model):
    """A person's current risk level (one row per person under risk management)."""

    scope_path_lookup = "person__unit__path"

    person = models.OneToOneField(
        "people.Person", primary_key=True, on_delete=models.PROTECT, related_name="risk"
    )
    level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel.choices)
    since = models.DateTimeField(_("since"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Who looks after the person now: whoever last took on their alert, or was assigned.
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible worker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_contact_due = models.DateField(_("next contact due"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk level")
        indexes = [models.Index(fields=["level"], name="person_risk_level")]
        constraints = [
            models.CheckConstraint(
                name="person_risk_level_1_to_4", condition=Q(level__gte=1) & Q(level__lte=4)
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.level}"


class RiskLevelChange(models.Model):
    """The history of a person's level, with the reason: append-only."""

    scope_path_lookup = "person__unit__path"

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    from_level = models.PositiveSmallIntegerField(null=True, choices=RiskLevel.choices)
    to_level = models.PositiveSmallIntegerField(choices=RiskLevel.choices)
    reason = models.CharField(max_length=300)
    signal = models.ForeignKey(RiskSignal, null=True, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_level} → {self.to_level}"


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_INTERVENTION = "in_intervention", _("In intervention")
    REFERRED = "referred", _("Referred")
    RESOLVED = "resolved", _("Resolved")


ACTIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.IN_INTERVENTION)


class Alert(models.Model):
    """A crisis alert: someone must acknowledge it by ``ack_deadline`` or it escalates up the
    tree, again and again, until someone does (R-CRISIS)."""

    scope_path_lookup = "person__unit__path"
    TRANSITIONS: dict[str, frozenset[str]] = {
        AlertStatus.OPEN: frozenset({AlertStatus.ACKNOWLEDGED}),
        AlertStatus.ACKNOWLEDGED: frozenset(
            {AlertStatus.IN_INTERVENTION, AlertStatus.REFERRED, AlertStatus.RESOLVED}
        ),
        AlertStatus.IN_INTERVENTION: frozenset({AlertStatus.REFERRED, AlertStatus.RESOLVED}),
        AlertStatus.REFERRED: frozenset({AlertStatus.RESOLVED}),
        AlertStatus.RESOLVED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="alerts")
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=RiskLevel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    signal = models.ForeignKey(RiskSignal, on_delete=models.PROTECT, related_name="alerts")
    created_at = models.DateTimeField(_("raised"), auto_now_add=True, db_index=True)
    ack_deadline = models.DateTimeField(_("acknowledge by"))
    # How far up the tree it has gone unacknowledged (0: the person's own community).
    escalation_step = models.PositiveSmallIntegerField(default=0)
    escalated_to = models.ForeignKey(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = EncryptedTextField(pgettext_lazy("alert", "outcome"), blank=True, default="")

    class Meta:
        verbose_name = _("crisis alert")
        ordering = ["level", "-created_at"]
        constraints = [
            # One active alert per person: a new signal joins it (and may raise its level).
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["open", "acknowledged", "in_intervention"]),
                name="alert_one_active_per_person",
            ),
            models.CheckConstraint(
                name="alert_acknowledged_has_time_and_person",
                condition=Q(status="open")
                | (Q(acknowledged_at__isnull=False) & Q(acknowledged_by__isnull=False)),
            ),
            models.CheckConstraint(
                name="alert_level_1_to_4", condition=Q(level__gte=1) & Q(level__lte=4)
            ),
        ]
        indexes = [models.Index(fields=["status", "ack_deadline"], name="alert_due")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ALERT_STATUSES


class AlertEventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    SIGNAL = "signal", _("New signal")
    LEVEL_RAISED = "level_raised", _("Level raised")
    NOTIFIED = "notified", _("Notified")
    ESCALATED = "escalated", _("Escalated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CONTACT = "contact", _("Contact with the person")
    REFERRED = "referred", _("Referred")
    RESOLVED = "resolved", _("Resolved")


class AlertEvent(models.Model):
    """Every step of an alert, timestamped: append-only."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=AlertEventKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.kind}"


class RequiredAction(models.TextChoices):
    """Labels of ``response.ACTIONS``."""

    ONE_TO_ONE_AND_HOSPITAL = (
        "one_to_one_and_hospital",
        _(
            "One-to-one intervention now; assess for admission to the designated hospital; "
            "report to the street office"
        ),
    )
    ONE_TO_ONE = (
        "one_to_one",
        _("One-to-one intervention within a day; assess the risk of suicide and self-harm"),
    )
    COUNSELLOR_CONTACT = (
        "counsellor_contact",
        _("A counsellor contacts the person within three days; group or individual counselling"),
    )
    ROUTINE_FOLLOW_UP = "routine_follow_up", _("Routine follow-up and mental-health education")


class ResponsePolicy(models.Model):
    """A city's change to one row of the default response matrix (``response.py``)."""

    scope_path_lookup = "city__path"

    id = models.BigAutoField(primary_key=True)
    city = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), choices=RiskLevel.choices)
    alert = models.BooleanField(_("raises an alert"))
    ack_minutes = models.PositiveIntegerField(_("acknowledge within (minutes)"))
    notify_team = models.BooleanField(_("tell the community team"))
    notify_street = models.BooleanField(_("report to the street office at once"))
    action = models.CharField(_("required action"), max_length=32, choices=RequiredAction.choices)
    followup_days = models.PositiveSmallIntegerField(_("follow up every (days)"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("response policy")
        constraints = [
            models.UniqueConstraint(fields=["city", "level"], name="response_policy_one_per_level"),
            models.CheckConstraint(
                name="response_followup_at_most_half_a_year",
                condition=Q(followup_days__gte=1) & Q(followup_days__lte=180),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city_id} level {self.level}"


# --- severe mental disorders (R-SMI; rules in smi.py) ------------------------------------------


class SmiDiagnosis(models.TextChoices):
    SCHIZOPHRENIA = "schizophrenia", _("Schizophrenia")
    SCHIZOAFFECTIVE = "schizoaffective", _("Schizoaffective disorder")
    DELUSIONAL = "delusional", _("Persistent delusional disorder")
    BIPOLAR = "bipolar", _("Bipolar disorder")
    EPILEPSY_MENTAL = "epilepsy_mental", _("Mental disorder due to epilepsy")
    INTELLECTUAL_DISABILITY_PSYCHOTIC = (
        "intellectual_disability_psychotic",
        _("Intellectual disability with psychotic disorder"),
    )


class SmiStatus(models.TextChoices):
    STABLE = "stable", _("Stable")
    BASICALLY_STABLE = "basically_stable", _("Basically stable")
    UNSTABLE = "unstable", _("Unstable")


class SmiPatient(models.Model):
    """A patient with a severe mental disorder under community management (R-SMI; seed 002
    篇1 (九), seed 004 四(五))."""

    scope_path_lookup = "person__unit__path"

    person = models.OneToOneField(
        "people.Person", primary_key=True, on_delete=models.PROTECT, related_name="smi"
    )
    diagnosis = models.CharField(_("diagnosis"), max_length=40, choices=SmiDiagnosis.choices)
    diagnosed_on = models.DateField(_("diagnosed on"), null=True, blank=True)
    guardian_name = models.CharField(_("guardian"), max_length=100, blank=True)
    guardian_phone = EncryptedTextField(_("guardian's phone"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=SmiStatus.choices, default=SmiStatus.BASICALLY_STABLE
    )
    risk_grade = models.PositiveSmallIntegerField(_("risk grade"), default=0)
    next_followup_due = models.DateField(_("next follow-up due"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient with a severe mental disorder")
        constraints = [
            models.CheckConstraint(
                name="smi_risk_grade_0_to_5", condition=Q(risk_grade__gte=0) & Q(risk_grade__lte=5)
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ({self.diagnosis})"


class CustodyRole(models.TextChoices):
    FAMILY = "family", _("Family member / guardian")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMUNITY_DOCTOR = "community_doctor", _("Community doctor")
    POLICE = "police", _("Community police officer")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil-affairs worker")
    OTHER = "other", _("Other")


class CustodyMember(models.Model):
    """A member of the patient's custody group (监护小组)."""

    id = models.BigAutoField(primary_key=True)
    patient = models.ForeignKey(SmiPatient, on_delete=models.PROTECT, related_name="custody")
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=CustodyRole.choices)
    phone = EncryptedTextField(_("phone"), blank=True, default="")

    class Meta:
        verbose_name = _("custody group member")

    def __str__(self) -> str:
        return self.get_role_display()


class Symptoms(models.TextChoices):
    NONE = "none", _("Largely gone")
    PRESENT = "present", _("Present")
    MARKED = "marked", _("Marked psychotic symptoms")


class Insight(models.TextChoices):
    GOOD = "good", _("Largely back")
    PARTIAL = "partial", _("Partial")
    NONE = "none", _("None")


class SocialFunction(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class Severity3(models.TextChoices):
    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    SERIOUS = "serious", _("Serious")


class PhysicalIllness(models.TextChoices):
    NONE = "none", _("None")
    STABLE = "stable", _("Stable")
    SERIOUS = "serious", _("Serious")


class Compliance(models.TextChoices):
    REGULAR = "regular", _("Takes them regularly")
    INTERMITTENT = "intermittent", _("Intermittently")
    NONE = "none", _("Does not take them")


class SmiFollowUp(models.Model):
    """One follow-up of an SMI patient: the risk grade and findings, the status they give, the
    medication and its adverse effects, and the next date (smi.py)."""

    scope_path_lookup = "patient__person__unit__path"

    id = models.BigAutoField(primary_key=True)
    patient = models.ForeignKey(SmiPatient, on_delete=models.PROTECT, related_name="followups")
    date = models.DateField(_("date"))
    risk_grade = models.PositiveSmallIntegerField(_("risk grade"))
    symptoms = models.CharField(_("psychotic symptoms"), max_length=10, choices=Symptoms.choices)
    insight = models.CharField(_("insight"), max_length=10, choices=Insight.choices)
    social_function = models.CharField(
        _("social function"), max_length=10, choices=SocialFunction.choices
    )
    adverse_reaction = models.CharField(
        _("adverse drug reaction"), max_length=10, choices=Severity3.choices
    )
    physical_illness = models.CharField(
        _("physical illness"), max_length=10, choices=PhysicalIllness.choices
    )
    compliance = models.CharField(
        _("takes the medication"), max_length=14, choices=Compliance.choices
    )
    medication = EncryptedTextField(_("medication and doses"), blank=True, default="")
    adverse_effects = EncryptedTextField(_("adverse effects"), blank=True, default="")
    guidance = EncryptedTextField(
        _("guidance given (medication, family support)"), blank=True, default=""
    )
    status = models.CharField(_("status"), max_length=20, choices=SmiStatus.choices)
    next_due = models.DateField(_("next follow-up"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("severe mental disorder follow-up")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                name="smi_followup_grade_0_to_5",
                condition=Q(risk_grade__gte=0) & Q(risk_grade__lte=5),
            ),
            models.CheckConstraint(
                name="smi_followup_next_after_date", condition=Q(next_due__gt=models.F("date"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.status}"
