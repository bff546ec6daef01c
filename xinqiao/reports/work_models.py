"""Work reports (工作报告制度; seed 001 四, seed 000 三(三); issue #9 item 3): a weekly and a
monthly report per reporting unit (community, street, district), made on schedule or on
demand, with the worker's own account of the period, submitted upward and read there.

The content is the unit's dashboard for the period with small counts suppressed (it leaves the
unit, R-PRIVACY), kept as JSON (``snapshot``) together with the PDF and the Excel workbook made
from it: what was submitted never changes afterwards. The documents exist exactly when the
report is ready, submitted or read (a database constraint), so a generation that fails halfway
leaves no half report: it is ``failed`` with its error, and is generated again on retry.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.reports import work_periods


class WorkReportKind(models.TextChoices):
    WEEKLY = work_periods.WEEKLY, _("Weekly report")
    MONTHLY = work_periods.MONTHLY, _("Monthly report")


class WorkReportStatus(models.TextChoices):
    GENERATING = "generating", _("Being generated")
    FAILED = "failed", _("Generation failed")
    READY = "ready", _("Ready to submit")
    SUBMITTED = "submitted", _("Submitted")
    READ = "read", _("Read")


# The statuses that carry the documents.
WITH_DOCUMENTS = (WorkReportStatus.READY, WorkReportStatus.SUBMITTED, WorkReportStatus.READ)
SENT_UP = (WorkReportStatus.SUBMITTED, WorkReportStatus.READ)


class WorkReport(models.Model):
    scope_path_lookup = "unit__path"

    TRANSITIONS: dict[str, frozenset[str]] = {
        WorkReportStatus.GENERATING: frozenset({WorkReportStatus.READY, WorkReportStatus.FAILED}),
        # Retry after a failure.
        WorkReportStatus.FAILED: frozenset({WorkReportStatus.GENERATING}),
        # Regenerate before submitting (new data came in), or send it up.
        WorkReportStatus.READY: frozenset(
            {WorkReportStatus.GENERATING, WorkReportStatus.SUBMITTED}
        ),
        WorkReportStatus.SUBMITTED: frozenset({WorkReportStatus.READ}),
        WorkReportStatus.READ: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=WorkReportKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WorkReportStatus.choices,
        default=WorkReportStatus.GENERATING,
    )
    # ``xinqiao.reports.tables.as_json`` of the suppressed dashboard (no personal data).
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    xlsx = models.BinaryField(null=True, blank=True, editable=False)
    # Why the last generation failed (shown to the unit with the retry button).
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("generation attempts"), default=0)
    generated_at = models.DateTimeField(_("generated"), null=True, blank=True)
    # The worker's own account of the period (工作小结): free text, no personal identifiers.
    account = models.TextField(_("summary of the work"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("read by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("work report")
        verbose_name_plural = _("work reports")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind", "period_start"], name="work_report_one_per_period"
            ),
            models.CheckConstraint(
                name="work_report_kind_known", condition=Q(kind__in=WorkReportKind.values)
            ),
            models.CheckConstraint(
                name="work_report_status_known", condition=Q(status__in=WorkReportStatus.values)
            ),
            models.CheckConstraint(
                name="work_report_period_in_order",
                condition=Q(period_end__gte=models.F("period_start"))
                & Q(due_on__gt=models.F("period_end")),
            ),
            # No half report: the snapshot and both documents exist exactly when the report
            # is ready, submitted or read.
            models.CheckConstraint(
                name="work_report_documents_iff_ready",
                condition=(
                    Q(status__in=[s.value for s in WITH_DOCUMENTS])
                    & Q(snapshot__isnull=False, pdf__isnull=False, xlsx__isnull=False)
                )
                | (
                    ~Q(status__in=[s.value for s in WITH_DOCUMENTS])
                    & Q(snapshot__isnull=True, pdf__isnull=True, xlsx__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="work_report_failure_has_its_error",
                condition=~Q(status=WorkReportStatus.FAILED) | ~Q(error=""),
            ),
            models.CheckConstraint(
                name="work_report_submitted_iff_sent",
                condition=(
                    Q(status__in=[s.value for s in SENT_UP])
                    & Q(submitted_at__isnull=False, submitted_by__isnull=False)
                )
                | (
                    ~Q(status__in=[s.value for s in SENT_UP])
                    & Q(submitted_at__isnull=True, submitted_by__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="work_report_read_iff_read",
                condition=(
                    Q(status=WorkReportStatus.READ)
                    & Q(read_at__isnull=False, read_by__isnull=False)
                )
                | (
                    ~Q(status=WorkReportStatus.READ) & Q(read_at__isnull=True, read_by__isnull=True)
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="work_report_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}"

    @property
    def has_documents(self) -> bool:
        return self.status in WITH_DOCUMENTS

    @property
    def is_sent_up(self) -> bool:
        return self.status in SENT_UP

    def may_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    def transition(self, status: WorkReportStatus) -> list[str]:
        """Move to ``status`` if the transition table allows it (ValueError otherwise); the
        fields the caller sets with it and saves are its business. Returns ["status"]."""
        if not self.may_become(status):
            raise ValueError(f"work report {self.pk}: {self.status} → {status} not allowed")
        self.status = status
        return ["status"]


class WorkReportComment(models.Model):
    """A comment on a report, by the level that reads it or by the unit that wrote it."""

    scope_path_lookup = "report__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        WorkReport,
        verbose_name=_("work report"),
        on_delete=models.CASCADE,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment on a work report")
        verbose_name_plural = _("comments on work reports")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(name="work_report_comment_not_empty", condition=~Q(text="")),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.created_at:%Y-%m-%d %H:%M}"
