"""Work-report pages (工作报告制度; issue #9 item 3): the list (my units' reports, the reports
sent up to me, the late ones), a unit's reports with the on-demand form, a report (its figures,
the worker's account, submit, comments, mark read) and its PDF and Excel downloads.

Every object is fetched through ``work_access`` (404 outside scope or not sent up yet), then
the permission to act is checked (403), then the action runs (``work_actions``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.reports import work_actions, work_documents, work_periods
from xinqiao.reports.work_access import (
    access_reporting_unit,
    access_work_report,
    is_reporting,
    late,
    may_review,
    may_write,
    own_units,
    require_commenter,
    require_reviewer,
    require_writer,
    sent_up_to,
    visible,
)
from xinqiao.reports.work_models import WorkReport, WorkReportKind, WorkReportStatus
from xinqiao.workbench.forms import apply_errors
from xinqiao.workbench.forms import report as run_button

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_LIMIT = 100


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Report"), choices=WorkReportKind.choices)
    day = forms.DateField(
        label=gettext_lazy("A day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The report covers the week (Monday to Sunday) or month of it."),
    )


class AccountForm(forms.Form):
    account = forms.CharField(
        label=gettext_lazy("Summary of the work"),
        required=False,
        max_length=work_actions.ACCOUNT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "What the unit did in the period, what went well, what is needed. No names, ID "
            "card numbers, telephone numbers or e-mail addresses: the report goes up."
        ),
    )


class CommentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Comment"),
        max_length=work_actions.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _report_url(report: WorkReport) -> str:
    return reverse("reports:work_report", kwargs={"work_report_id": report.pk})


# --- lists -------------------------------------------------------------------------------------


@login_required
@require_GET
def work_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.REPORT_VIEW):
        raise Http404
    today = timezone.localdate()
    mine = [
        {
            "unit": unit,
            "writer": may_write(user, unit),
            "reports": list(visible(user).filter(unit=unit).order_by("-period_start", "kind")[:6]),
        }
        for unit in own_units(user)
    ]
    show = request.GET.get("show", "unread")
    if show not in ("unread", "all"):
        show = "unread"
    received = sent_up_to(user)
    if show == "unread":
        received = received.filter(status=WorkReportStatus.SUBMITTED)
    received_rows = list(received.order_by("-submitted_at")[:LIST_LIMIT])
    context = {
        "mine": mine,
        "reviewer": can(user, Action.WORK_REPORT_REVIEW),
        "received": received_rows,
        "show": show,
        "late": late(user, today),
        "today": today,
    }
    log_access(request, object_type="reports.workreport", kind=AccessKind.LIST)
    return render(request, "reports/work_list.html", context)


def _unit_page(
    request: HttpRequest, unit: Unit, form: GenerateForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    writer = may_write(user, unit) and is_reporting(unit)
    if writer and form is None:
        form = GenerateForm(
            initial={
                "kind": WorkReportKind.WEEKLY,
                "day": work_periods.last_closed(work_periods.WEEKLY, today).start,
            }
        )
    context = {
        "unit": unit,
        "reporting": is_reporting(unit),
        "writer": writer,
        "reviewer": may_review(user, unit),
        "reports": list(visible(user).filter(unit=unit).order_by("-period_start", "kind")[:200]),
        "late": late(user, today, unit=unit),
        "form": form if writer else None,
    }
    log_access(request, unit, object_type="reports.workreport", kind=AccessKind.LIST)
    return render(request, "reports/work_unit.html", context, status=status)


@login_required
@require_GET
def work_unit(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_reporting_unit(request.user, unit_id)
    return _unit_page(request, unit)


@login_required
@require_POST
def work_generate(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_reporting_unit(request.user, unit_id)
    require_writer(request.user, unit)
    if not is_reporting(unit):
        raise PermissionDenied(_("Only communities, streets and districts report."))
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _unit_page(request, unit, form, status=400)
    try:
        report = work_actions.request_report(
            unit=unit,
            kind=form.cleaned_data["kind"],
            day=form.cleaned_data["day"],
            user=request.user,
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return _unit_page(request, unit, form, status=400)
    messages.success(request, _("The report is being generated; this takes a moment."))
    return redirect(_report_url(report))


# --- one report --------------------------------------------------------------------------------


def _report_page(
    request: HttpRequest,
    report: WorkReport,
    *,
    account_form: AccountForm | None = None,
    comment_form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    writer = may_write(user, report.unit)
    reviewer = may_review(user, report.unit)
    sections = work_documents.sections(report) if report.has_documents else []
    if writer and account_form is None:
        account_form = AccountForm(initial={"account": report.account})
    if comment_form is None:
        comment_form = CommentForm()
    context = {
        "report": report,
        "unit": report.unit,
        "sections": sections,
        "threshold": (report.snapshot or {}).get("threshold", 5),
        "writer": writer,
        "reviewer": reviewer,
        "can_edit": writer and report.status == WorkReportStatus.READY,
        "can_submit": writer and report.may_become(WorkReportStatus.SUBMITTED),
        "can_retry": writer and report.status == WorkReportStatus.FAILED,
        "can_regenerate": writer and report.status == WorkReportStatus.READY,
        "can_mark_read": reviewer and report.status == WorkReportStatus.SUBMITTED,
        "can_comment": (writer or reviewer) and report.is_sent_up,
        "account_form": account_form if writer else None,
        "comment_form": comment_form,
        "comments": list(report.comments.select_related("author")),
        "late_days": work_periods.days_late(
            report.due_on,
            timezone.localdate(),
            timezone.localdate(report.submitted_at) if report.submitted_at else None,
        ),
        "open": not report.is_sent_up and report.period_end >= timezone.localdate(),
    }
    return render(request, "reports/work_report.html", context, status=status)


@login_required
@require_GET
def work_report(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    log_access(request, report)
    return _report_page(request, report)


def _download(request: HttpRequest, work_report_id: Any, fmt: str) -> HttpResponse:
    report = access_work_report(request.user, work_report_id, documents=True)
    if not report.has_documents:
        context = {"report": report, "writer": may_write(request.user, report.unit)}
        return render(request, "reports/work_not_ready.html", context, status=409)
    log_access(request, report, kind=AccessKind.EXPORT, reason=fmt)
    if fmt == "pdf":
        body, content_type = bytes(report.pdf or b""), "application/pdf"
    else:
        body, content_type = bytes(report.xlsx or b""), XLSX
    response = HttpResponse(body, content_type=content_type)
    name = f"work-report-{report.kind}-{report.period_start:%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def work_pdf(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    return _download(request, work_report_id, "pdf")


@login_required
@require_GET
def work_xlsx(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    return _download(request, work_report_id, "xlsx")


@login_required
@require_POST
def work_account(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    require_writer(request.user, report.unit)
    form = AccountForm(request.POST)
    if form.is_valid():
        try:
            work_actions.save_account(
                report=report, user=request.user, account=form.cleaned_data["account"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Summary saved; the PDF and Excel include it."))
            return redirect(_report_url(report))
    return _report_page(request, report, account_form=form, status=400)


@login_required
@require_POST
def work_retry(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    require_writer(request.user, report.unit)
    run_button(
        request,
        lambda: work_actions.retry(report=report, user=request.user),
        _("The report is being generated again."),
    )
    return redirect(_report_url(report))


@login_required
@require_POST
def work_submit(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    require_writer(request.user, report.unit)
    run_button(
        request,
        lambda: work_actions.submit(report=report, user=request.user),
        _("Report submitted to the level above."),
    )
    return redirect(_report_url(report))


@login_required
@require_POST
def work_read(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    require_reviewer(request.user, report.unit)
    run_button(
        request,
        lambda: work_actions.mark_read(report=report, user=request.user),
        _("Marked read."),
    )
    return redirect(_report_url(report))


@login_required
@require_POST
def work_comment(request: HttpRequest, work_report_id: Any) -> HttpResponse:
    report = access_work_report(request.user, work_report_id)
    require_commenter(request.user, report.unit)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            work_actions.add_comment(
                report=report, user=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Comment added."))
            return redirect(_report_url(report) + "#comments")
    return _report_page(request, report, comment_form=form, status=400)
