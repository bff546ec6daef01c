"""Referrals and feedback (转介, 绿色通道): MISSION.md R-REFER.

A referral sends a person from the unit that looks after them to another unit: a designated
hospital or psychiatric institution (admission, outpatient care, the green channel for a
relapse), civil affairs for hardship relief (救助), a school, or another community; and back
from the hospital to the community on discharge. The receiving unit accepts or declines and
records the outcome, which is fed back to the person's file (seed 000 二(六) "将信息反馈给
患者所在社区(村)"; seed 002 篇6 三(一)2, 三(三)3; seed 002 篇1 (九)).

A referral belongs to two units. It has no single scope path: ``xinqiao.referrals.access``
decides who sees it (the sending side with REFERRAL_SEND, the receiving side with
REFERRAL_RECEIVE), and ``scoped()`` refuses the model on purpose.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField
from xinqiao.orgs.models import UnitKind


class ReferralKind(models.TextChoices):
    # Seed 000 二(六) "及时与定点医院联系收治入院": admission to the designated hospital.
    ADMISSION = "admission", _("Admission to hospital")
    # Seed 002 篇6 三(二)3, 三(三)1 "引导其至精神卫生医疗机构进行诊疗", "协助他们到精神卫生医疗
    # 机构就诊": diagnosis and treatment without admission.
    OUTPATIENT = "outpatient", _("Outpatient or specialist care")
    # Seed 002 篇1 (九) "建立绿色通道,患者在社区康复期间病情复发的,可通过社区康复机构向医院
    # 快速转介": the relapse fast-track.
    GREEN_CHANNEL = "green_channel", _("Green channel: relapse fast-track")
    # Seed 002 篇6 三(一)2 "对于贫困患者 … 民政 … 做好医疗、生活救助工作", 三(三)3 "困难救助 …
    # 转介服务"; seed 000 三(一) "实施救助".
    RELIEF = "relief", _("Hardship relief (civil affairs)")
    # Seed 002 篇5 二5 "转介到其它专业心理咨询机构 … 建立跟踪反馈制度": schools refer and
    # are referred to, with feedback.
    SCHOOL = "school", _("To a school")
    COMMUNITY = "community", _("To another community")
    # Seed 002 篇1 (九) "患者出院时进行出院康复评估 … 由医院转介到相应的社区康复机构";
    # seed 002 篇6 三(一)2 "要将信息转至其居住地所在基层医疗卫生机构"; seed 000 二(六)
    # "同时将信息反馈给患者所在社区(村)".
    DISCHARGE = "discharge", _("Discharge back to the community")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent (within a day)")
    EMERGENCY = "emergency", _("Emergency (now)")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)

HOSPITAL_KINDS: frozenset[str] = frozenset(
    {UnitKind.DESIGNATED_HOSPITAL, UnitKind.PSYCHIATRIC_INSTITUTION}
)
# Referrals that share the person's data with a hospital: data_sharing_hospital consent, or
# an emergency reason (R-CONSENT).
MEDICAL_KINDS: frozenset[str] = frozenset(
    {ReferralKind.ADMISSION, ReferralKind.OUTPATIENT, ReferralKind.GREEN_CHANNEL}
)
# Which kinds of unit receive each kind of referral.
RECEIVING_UNIT_KINDS: dict[str, frozenset[str]] = {
    ReferralKind.ADMISSION: HOSPITAL_KINDS,
    ReferralKind.OUTPATIENT: HOSPITAL_KINDS,
    ReferralKind.GREEN_CHANNEL: HOSPITAL_KINDS,
    ReferralKind.RELIEF: frozenset({UnitKind.CIVIL_AFFAIRS}),
    ReferralKind.SCHOOL: frozenset({UnitKind.SCHOOL}),
    ReferralKind.COMMUNITY: frozenset({UnitKind.COMMUNITY}),
    # Back to the unit that looks after the person (seed 002 篇1 (九) 社区康复机构).
    ReferralKind.DISCHARGE: frozenset(
        {UnitKind.COMMUNITY, UnitKind.SCHOOL, UnitKind.SERVICE_STATION}
    ),
}
# Kinds a worker chooses on the referral form; a discharge is recorded by the hospital.
SENDABLE_KINDS: tuple[str, ...] = tuple(k for k in ReferralKind if k != ReferralKind.DISCHARGE)


class Referral(models.Model):
    """One referral of one person from one unit to another, and what came of it."""

    # The only lifecycle: sent → accepted → done; sent → declined; sent → cancelled (by the
    # sender). ``xinqiao.referrals.actions`` moves a referral through this table only.
    TRANSITIONS: dict[str, frozenset[str]] = {
        ReferralStatus.SENT: frozenset(
            {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED}
        ),
        ReferralStatus.ACCEPTED: frozenset({ReferralStatus.DONE}),
        ReferralStatus.DONE: frozenset(),
        ReferralStatus.DECLINED: frozenset(),
        ReferralStatus.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    from_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("referring unit"),
        on_delete=models.PROTECT,
        related_name="referrals_out",
    )
    to_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("receiving unit"),
        on_delete=models.PROTECT,
        related_name="referrals_in",
    )
    kind = models.CharField(_("kind of referral"), max_length=16, choices=ReferralKind.choices)
    urgency = models.CharField(
        _("urgency"), max_length=12, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    # Why the person is referred (for a discharge: the follow-up plan).
    reason = EncryptedTextField(_("reason"))
    # Whom the receiving unit calls with questions: the sender's work phone.
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    # The data-sharing consent in force when the referral was sent (medical referrals) ...
    consent = models.ForeignKey(
        "people.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # ... or, without it, why it could not wait (break-glass, written to the access log).
    emergency_reason = EncryptedTextField(_("emergency reason"), blank=True, default="")
    alert = models.ForeignKey(
        "risk.Alert",
        verbose_name=_("crisis alert"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    # A discharge answers the referral that brought the person to the hospital.
    previous = models.ForeignKey(
        "self",
        verbose_name=_("in answer to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    discharged_on = models.DateField(_("discharged on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)
    # Who accepted or declined it (the receiving side), or cancelled it (the sending side).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decline_reason = EncryptedTextField(_("reason for declining"), blank=True, default="")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True, default="")
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                name="referral_between_different_units", condition=~Q(from_unit=F("to_unit"))
            ),
            # One open referral per person and kind: a second one while the first waits is a
            # duplicate (cancel the first to send it elsewhere).
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(status__in=["sent", "accepted"]),
                name="referral_one_open_per_person_and_kind",
            ),
            models.CheckConstraint(name="referral_has_a_reason", condition=~Q(reason="")),
            models.CheckConstraint(
                name="referral_decided_has_who_and_when",
                condition=Q(status="sent")
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="referral_declined_has_a_reason",
                condition=~Q(status="declined") | ~Q(decline_reason=""),
            ),
            models.CheckConstraint(
                name="referral_done_has_outcome",
                condition=~Q(status="done")
                | (
                    Q(completed_by__isnull=False)
                    & Q(completed_at__isnull=False)
                    & Q(outcome_on__isnull=False)
                    & ~Q(outcome="")
                ),
            ),
            # R-CONSENT: sharing data with a hospital needs consent or an emergency reason.
            models.CheckConstraint(
                name="referral_medical_has_consent_or_emergency",
                condition=~Q(kind__in=sorted(MEDICAL_KINDS))
                | Q(consent__isnull=False)
                | ~Q(emergency_reason=""),
            ),
            models.CheckConstraint(
                name="referral_emergency_only_without_consent",
                condition=Q(emergency_reason="") | Q(consent__isnull=True),
            ),
            models.CheckConstraint(
                name="referral_discharge_has_its_date",
                condition=(Q(kind="discharge") & Q(discharged_on__isnull=False))
                | (~Q(kind="discharge") & Q(discharged_on__isnull=True)),
            ),
        ]
        indexes = [
            models.Index(fields=["to_unit", "status"], name="referral_inbox"),
            models.Index(fields=["from_unit", "status"], name="referral_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_medical(self) -> bool:
        return self.kind in MEDICAL_KINDS

    @property
    def is_break_glass(self) -> bool:
        return bool(self.emergency_reason)

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]
