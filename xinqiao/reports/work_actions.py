"""Writes of work reports (工作报告制度; seed 001 四, 000 三(三); issue #9 item 3): asking for
one, the daily schedule, generating one in the background, the worker's account, submitting,
marking read and commenting. Keyword-only, one transaction each, ``ValidationError`` keyed by
field, attributed with ``audit.log.acting``.

Generation runs as a database job (``xinqiao.ops.jobs``, kind ``reports.generate_work_report``)
and is idempotent: it works only on a report that is ``generating`` and locks it first, so a
job run twice, or two jobs for one report, make one result. Everything it makes — the
snapshot, the PDF, the workbook — is made in memory and written in one UPDATE together with
the status ``ready``; if anything fails on the way the savepoint is rolled back and the report
is ``failed`` with the error, without documents (a database constraint says so too), and a
retry is queued (a few times, spaced out; the unit can retry at once from the report page).

Logs name reports by id only (no unit names, no account text).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xinqiao.audit.log import acting
from xinqiao.hotline import trends
from xinqiao.ops.jobs import enqueue, enqueue_many, handler
from xinqiao.orgs.models import Membership, Unit
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.reports import work_documents, work_periods
from xinqiao.reports.work_access import (
    REPORTING_KINDS,
    is_reporting,
    may_review,
    may_write,
    require_reviewer,
    require_writer,
)
from xinqiao.reports.work_models import (
    SENT_UP,
    WorkReport,
    WorkReportComment,
    WorkReportKind,
    WorkReportStatus,
)

log = logging.getLogger(__name__)

GENERATE_JOB = "reports.generate_work_report"
# A failed generation is queued again this many times in all, RETRY_MINUTES × attempt later;
# after that it waits for the unit's retry button (or the next day's schedule does not touch
# it: a fault that repeats needs a person to look).
MAX_AUTOMATIC_ATTEMPTS = 3
RETRY_MINUTES = 10
ACCOUNT_MAX_LENGTH = 4000
COMMENT_MAX_LENGTH = 2000
EARLIEST = date(2000, 1, 1)


# --- free text -------------------------------------------------------------------------------

# Dates written as digits (2026-03-01, 2026/3/1, 2026.03.01, 2026年3月1日) are not telephone
# numbers: taken out before looking for numbers.
_DATE = re.compile(r"(?<!\d)\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?!\d)")


def identifiers_in(text: str) -> list[str]:
    """What kinds of personal identifiers ``text`` holds: ID card numbers, telephone numbers,
    e-mail addresses (found with the masking rules of ``xinqiao.hotline.trends.anonymise``)."""
    probe = _DATE.sub(" ", " ".join((text or "").split()))
    masked = trends.anonymise(probe, limit=len(probe) + 1)
    found = []
    for mark, label in (
        (trends.MASK_ID, _("an ID card number")),
        (trends.MASK_PHONE, _("a telephone number")),
        (trends.MASK_EMAIL, _("an e-mail address")),
    ):
        if masked.count(mark) > probe.count(mark):
            found.append(label)
    return found


def clean_free_text(field: str, label: str, text: str, *, limit: int, required: bool) -> str:
    """Free text that goes up the tree: trimmed, not too long, and without personal
    identifiers (R-PRIVACY: a work report is about the unit's work, never about a person)."""
    value = (text or "").strip()
    if required and not value:
        raise ValidationError({field: _("%(field)s: write something first.") % {"field": label}})
    if len(value) > limit:
        raise ValidationError(
            {
                field: _("%(field)s is too long: at most %(limit)d characters, this has %(n)d.")
                % {"field": label, "limit": limit, "n": len(value)}
            }
        )
    found = identifiers_in(value)
    if found:
        raise ValidationError(
            {
                field: _(
                    "%(field)s must not contain personal identifiers: it seems to hold "
                    "%(found)s. The report goes to the level above; write about the work, "
                    "not about a person, and save again."
                )
                % {"field": label, "found": "、".join(found)}
            }
        )
    return value


# --- asking for a report and the schedule ------------------------------------------------------


def _restart(report: WorkReport) -> list[str]:
    """Back to ``generating`` (retry after a failure, or regenerate before submitting): the
    documents are dropped, the worker's account kept."""
    fields = report.transition(WorkReportStatus.GENERATING)
    report.snapshot = None
    report.pdf = None
    report.xlsx = None
    report.error = ""
    report.generated_at = None
    return [*fields, "snapshot", "pdf", "xlsx", "error", "generated_at", "updated_at"]


def _job_key(report: WorkReport) -> str:
    return f"work-report:{report.pk}"


def _enqueue(report: WorkReport) -> None:
    enqueue(GENERATE_JOB, {"report": str(report.pk)}, key=_job_key(report))


def request_report(*, unit: Unit, kind: str, day: date, user: Any) -> WorkReport:
    """Make the ``kind`` report of ``unit`` for the period containing ``day``, now (on demand).
    An existing report of that period is generated again unless it was submitted; one being
    generated is left to its job."""
    require_writer(user, unit)
    if not is_reporting(unit):
        raise ValidationError({"unit": _("Only communities, streets and districts report.")})
    if kind not in WorkReportKind.values:
        raise ValidationError({"kind": _("Choose a weekly or a monthly report.")})
    today = timezone.localdate()
    if day < EARLIEST:
        raise ValidationError({"day": _("Choose a day after 2000.")})
    period = work_periods.period_of(kind, day)
    if period.start > today:
        raise ValidationError({"day": _("That period has not begun yet.")})
    with transaction.atomic():
        report, created = WorkReport.objects.select_for_update().get_or_create(
            unit=unit,
            kind=kind,
            period_start=period.start,
            defaults={
                "period_end": period.end,
                "due_on": work_periods.due_on(kind, period),
                "created_by": user,
            },
        )
        if not created:
            if report.status in SENT_UP:
                raise ValidationError(
                    {
                        "kind": _(
                            "The report of this period was submitted on %(day)s; it is not "
                            "made again."
                        )
                        % {"day": f"{timezone.localtime(report.submitted_at):%Y-%m-%d}"}
                    }
                )
            if report.status == WorkReportStatus.GENERATING:
                return report
            fields = _restart(report)
            with acting(user):
                report.save(update_fields=fields)
        _enqueue(report)
    log.info("work report %s requested", report.pk)
    return report


def retry(*, report: WorkReport, user: Any) -> WorkReport:
    """Generate a failed report again, or a ready one (regenerate before submitting)."""
    require_writer(user, report.unit)
    with transaction.atomic():
        locked = WorkReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == WorkReportStatus.GENERATING:
            return locked
        if not locked.may_become(WorkReportStatus.GENERATING):
            raise ValidationError({"status": _("A submitted report is not generated again.")})
        fields = _restart(locked)
        with acting(user):
            locked.save(update_fields=fields)
        _enqueue(locked)
    return locked


@dataclass(frozen=True)
class Scheduled:
    created: int
    retried: int
    refreshed: int


def schedule_due(*, today: date | None = None) -> Scheduled:
    """The daily run: every active reporting unit (community, street, district) gets its
    weekly and monthly report for the last closed period. Idempotent (the unique constraint
    on unit, kind and period start; run twice, it makes nothing new), and safe to run on two
    workers at once. It also queues again a failed report that has attempts left, and a
    ready one whose figures were taken before its period ended (made on demand mid-period)."""
    today = today or timezone.localdate()
    units = list(
        Unit.objects.filter(kind__in=REPORTING_KINDS, is_active=True).values_list("pk", flat=True)
    )
    created = retried = refreshed = 0
    for kind in work_periods.KINDS:
        period = work_periods.last_closed(kind, today)
        due = work_periods.due_on(kind, period)
        with transaction.atomic():
            have = set(
                WorkReport.objects.filter(kind=kind, period_start=period.start).values_list(
                    "unit_id", flat=True
                )
            )
            new = [
                WorkReport(
                    unit_id=unit_id,
                    kind=kind,
                    period_start=period.start,
                    period_end=period.end,
                    due_on=due,
                )
                for unit_id in units
                if unit_id not in have
            ]
            # A concurrent run may have made some of them: those are skipped, and only the
            # rows this run inserted get a job.
            WorkReport.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
            inserted = list(
                WorkReport.objects.filter(pk__in=[r.pk for r in new]).values_list("pk", flat=True)
            )
            enqueue_many(
                GENERATE_JOB, [({"report": str(pk)}, f"work-report:{pk}") for pk in inserted]
            )
            created += len(inserted)
        for report in WorkReport.objects.filter(
            kind=kind,
            period_start=period.start,
            status__in=[WorkReportStatus.FAILED, WorkReportStatus.READY],
        ).defer("pdf", "xlsx", "snapshot"):
            if report.status == WorkReportStatus.FAILED and (
                report.attempts >= MAX_AUTOMATIC_ATTEMPTS
            ):
                continue
            if report.status == WorkReportStatus.READY and not _taken_before_end(report):
                continue
            with transaction.atomic():
                locked = WorkReport.objects.select_for_update().get(pk=report.pk)
                if locked.status != report.status:
                    continue
                locked.save(update_fields=_restart(locked))
                _enqueue(locked)
            if report.status == WorkReportStatus.FAILED:
                retried += 1
            else:
                refreshed += 1
    log.info(
        "work reports scheduled: %d new, %d retried, %d refreshed", created, retried, refreshed
    )
    return Scheduled(created=created, retried=retried, refreshed=refreshed)


def _taken_before_end(report: WorkReport) -> bool:
    """Were the figures taken before the period was over (a report made mid-period)?"""
    return report.generated_at is not None and (
        timezone.localdate(report.generated_at) <= report.period_end
    )


# --- generating (a job) ------------------------------------------------------------------------


def _snapshot(report: WorkReport) -> dict[str, Any]:
    from xinqiao.reports import indicators, tables

    dashboard = indicators.build(
        unit=report.unit,
        period=work_periods.period_of(report.kind, report.period_start),
        suppress=True,
    )
    return tables.as_json(dashboard)


def _render(report: WorkReport) -> tuple[bytes, bytes]:
    return work_documents.pdf(report), work_documents.xlsx(report)


def generate(*, report_id: Any, queued_retry: bool = False) -> WorkReport | None:
    """Make the snapshot and the documents of a report that is ``generating`` (or, for a
    queued retry, ``failed``); anything else is left as it is (the job ran before)."""
    with transaction.atomic():
        report = (
            WorkReport.objects.select_for_update(of=("self",))
            .select_related("unit", "submitted_by")
            .filter(pk=report_id)
            .first()
        )
        if report is None:
            return None
        if queued_retry and report.status == WorkReportStatus.FAILED:
            report.save(update_fields=_restart(report))
        if report.status != WorkReportStatus.GENERATING:
            return report
        report.attempts += 1
        try:
            with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
                report.snapshot = _snapshot(report)
                report.generated_at = timezone.now()
                report.transition(WorkReportStatus.READY)
                report.pdf, report.xlsx = _render(report)
                report.error = ""
                report.save(
                    update_fields=[
                        "snapshot",
                        "generated_at",
                        "status",
                        "pdf",
                        "xlsx",
                        "error",
                        "attempts",
                        "updated_at",
                    ]
                )
        except Exception as exc:  # any failure: no half report, the error shown, a retry
            _failed(report, exc)
        else:
            log.info("work report %s ready (attempt %d)", report.pk, report.attempts)
    return report


def _failed(report: WorkReport, exc: Exception) -> None:
    report.status = WorkReportStatus.GENERATING  # as it was before the failed attempt
    report.transition(WorkReportStatus.FAILED)
    report.snapshot = None
    report.pdf = None
    report.xlsx = None
    report.generated_at = None
    report.error = (f"{type(exc).__name__}: {exc}".strip())[:1000] or "error"
    report.save(
        update_fields=[
            "status",
            "snapshot",
            "pdf",
            "xlsx",
            "generated_at",
            "error",
            "attempts",
            "updated_at",
        ]
    )
    log.warning(
        "work report %s: generation failed on attempt %d (%s)",
        report.pk,
        report.attempts,
        type(exc).__name__,
    )
    if report.attempts < MAX_AUTOMATIC_ATTEMPTS:
        enqueue(
            GENERATE_JOB,
            {"report": str(report.pk), "retry": True},
            run_at=timezone.now() + timedelta(minutes=RETRY_MINUTES * report.attempts),
            key=f"{_job_key(report)}:retry:{report.attempts}",
        )


@handler(GENERATE_JOB)
def _generate_job(payload: dict[str, Any]) -> None:
    generate(report_id=payload["report"], queued_retry=bool(payload.get("retry")))


# --- the worker's account, submitting, reading, comments ---------------------------------------


def _lock(report: WorkReport) -> WorkReport:
    return (
        WorkReport.objects.select_for_update(of=("self",))
        .select_related("unit", "submitted_by")
        .get(pk=report.pk)
    )


def save_account(*, report: WorkReport, user: Any, account: str) -> WorkReport:
    """The worker's own account of the period (工作小结), before submitting; the documents
    are made again from the stored snapshot with it."""
    require_writer(user, report.unit)
    text = clean_free_text(
        "account", _("Summary of the work"), account, limit=ACCOUNT_MAX_LENGTH, required=False
    )
    with transaction.atomic():
        locked = _lock(report)
        if locked.status != WorkReportStatus.READY:
            raise ValidationError(
                {
                    "account": _(
                        "The summary can be written only while the report is ready and not "
                        "yet submitted (now: %(status)s)."
                    )
                    % {"status": locked.get_status_display()}
                }
            )
        locked.account = text
        _remake_documents(locked, "account")
        with acting(user):
            locked.save(update_fields=["account", "pdf", "xlsx", "updated_at"])
    return locked


def _remake_documents(report: WorkReport, field: str) -> None:
    try:
        with translation.override(settings.LANGUAGE_CODE):
            report.pdf, report.xlsx = _render(report)
    except Exception as exc:
        log.warning("work report %s: documents not made (%s)", report.pk, type(exc).__name__)
        raise ValidationError(
            {
                field: _(
                    "The documents could not be made (%(error)s); nothing was changed. "
                    "Try again later."
                )
                % {"error": type(exc).__name__}
            }
        ) from None


_NOT_SUBMITTABLE = {
    WorkReportStatus.GENERATING: gettext_noop("The report is still being generated."),
    WorkReportStatus.FAILED: gettext_noop("The report could not be generated: retry first."),
    WorkReportStatus.SUBMITTED: gettext_noop("The report was already submitted."),
    WorkReportStatus.READ: gettext_noop("The report was already submitted and read."),
}


def submit(*, report: WorkReport, user: Any) -> WorkReport:
    """Send the report up: the documents are made a last time (with who submitted it, when)
    and do not change afterwards; the reviewers of the unit above are told."""
    require_writer(user, report.unit)
    today = timezone.localdate()
    with transaction.atomic():
        locked = _lock(report)
        if not locked.may_become(WorkReportStatus.SUBMITTED):
            raise ValidationError({"status": _(_NOT_SUBMITTABLE[WorkReportStatus(locked.status)])})
        if locked.period_end >= today:
            raise ValidationError(
                {
                    "status": _("The period is not over yet: submit the report from %(day)s.")
                    % {"day": f"{locked.period_end + timedelta(days=1):%Y-%m-%d}"}
                }
            )
        if _taken_before_end(locked):
            raise ValidationError(
                {
                    "status": _(
                        "The figures were taken before the period was over: generate the "
                        "report again, then submit it."
                    )
                }
            )
        fields = locked.transition(WorkReportStatus.SUBMITTED)
        locked.submitted_at = timezone.now()
        locked.submitted_by = user
        _remake_documents(locked, "status")
        with acting(user):
            locked.save(
                update_fields=[*fields, "submitted_at", "submitted_by", "pdf", "xlsx", "updated_at"]
            )
        _notify_submitted(locked)
    log.info("work report %s submitted", locked.pk)
    return locked


def mark_read(*, report: WorkReport, user: Any) -> WorkReport:
    """A reviewer of a unit above has read the report (a second time changes nothing)."""
    require_reviewer(user, report.unit)
    with transaction.atomic():
        locked = _lock(report)
        if locked.status == WorkReportStatus.READ:
            return locked
        if not locked.may_become(WorkReportStatus.READ):
            raise ValidationError({"status": _("Only a submitted report can be marked read.")})
        fields = locked.transition(WorkReportStatus.READ)
        locked.read_at = timezone.now()
        locked.read_by = user
        with acting(user):
            locked.save(update_fields=[*fields, "read_at", "read_by", "updated_at"])
    return locked


def add_comment(*, report: WorkReport, user: Any, text: str) -> WorkReportComment:
    """A comment on a report sent up, by a reviewer above or by the unit's writers (a reply).
    A reviewer's comment is told to the unit's writers."""
    reviewer = may_review(user, report.unit)
    if not reviewer and not may_write(user, report.unit):
        raise PermissionDenied(_("You do not have permission to do this."))
    value = clean_free_text("text", _("Comment"), text, limit=COMMENT_MAX_LENGTH, required=True)
    with transaction.atomic():
        locked = _lock(report)
        if locked.status not in SENT_UP:
            raise ValidationError({"text": _("Comments are written on submitted reports.")})
        with acting(user):
            comment = WorkReportComment.objects.create(report=locked, author=user, text=value)
        if reviewer:
            _notify_comment(locked, user)
    return comment


# --- notifications ---------------------------------------------------------------------------


def _members_allowed(unit: Unit | None, action: Action, exclude: Any = None) -> list[Any]:
    if unit is None:
        return []
    return [
        m.user
        for m in Membership.objects.filter(unit=unit, user__is_active=True).select_related("user")
        if role_allows(m.role, action) and m.user != exclude
    ]


def _period_text(report: WorkReport) -> dict[str, str]:
    return {
        "unit": report.unit.name,
        "kind": str(report.get_kind_display()),
        "start": f"{report.period_start:%Y-%m-%d}",
        "end": f"{report.period_end:%Y-%m-%d}",
    }


def _send(users: list[Any], report: WorkReport, subject: str, body: str) -> None:
    from xinqiao.notify.actions import notify

    url = reverse("reports:work_report", kwargs={"work_report_id": report.pk})
    by_language: dict[str, list[Any]] = {}
    for user in users:
        by_language.setdefault(user.language or settings.LANGUAGE_CODE, []).append(user)
    for language, group in by_language.items():
        with translation.override(language):
            values = _period_text(report)
            notify(
                recipients=group,
                subject=_(subject) % values,
                body=_(body) % values,
                url=url,
                obj=report,
            )


def _notify_submitted(report: WorkReport) -> None:
    """The reviewers of the unit directly above (the street for a community)."""
    users = _members_allowed(report.unit.parent, Action.WORK_REPORT_REVIEW)
    _send(
        users,
        report,
        gettext_noop("Work report submitted: %(unit)s, %(kind)s %(start)s — %(end)s"),
        gettext_noop(
            "%(unit)s submitted its %(kind)s for %(start)s — %(end)s. Open it to read it, "
            "comment and mark it read."
        ),
    )


def _notify_comment(report: WorkReport, author: Any) -> None:
    users = _members_allowed(report.unit, Action.WORK_REPORT_WRITE, exclude=author)
    _send(
        users,
        report,
        gettext_noop("Comment on the work report: %(unit)s, %(kind)s %(start)s — %(end)s"),
        gettext_noop(
            "The level above commented on the %(kind)s of %(unit)s for %(start)s — %(end)s."
        ),
    )
