"""Work reports (工作报告制度; issue #9 item 3): the reporting calendar and due dates; free text
without personal identifiers; the PDF (Chinese text extracted from it, fonts embedded) and the
Excel workbook (its sheets, "<5" for hidden counts); generation as a job, end to end from the
real dashboard; a failure halfway leaves no half report and is retried; the daily schedule is
idempotent; submitting, the street told, marking read, comments; the late list; 404 outside
scope, 403 inside it without the permission, 409 for a download before the report is ready."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import timezone, translation

from xinqiao.notify.models import Notification
from xinqiao.ops.jobs import wait_until_done
from xinqiao.ops.models import Job, JobStatus
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.people.models import Person
from xinqiao.reports import indicators, tables, tally, work_actions, work_documents, work_periods
from xinqiao.reports.periods import Period
from xinqiao.reports.work_access import late
from xinqiao.reports.work_models import WorkReport, WorkReportComment, WorkReportStatus
from xinqiao.test import PersonaTestCase

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 11)  # a Wednesday
FEBRUARY = Period(date(2026, 2, 1), date(2026, 2, 28), "month")
REAL_BUILD = indicators.build


def at(day: date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=SH), tick=False)


def pdf_text(document: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def embedded_fonts(document: bytes) -> list[str]:
    """Names of the fonts whose program is inside the PDF (FontFile, FontFile2, FontFile3)."""
    from pypdf import PdfReader

    names = []
    for page in PdfReader(io.BytesIO(document)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                descriptor = descendant.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.append(str(descriptor["/FontName"]))
    return names


def workbook(document: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(document))


def dashboard(unit_name: str = "春晖社区", start=FEBRUARY.start, end=FEBRUARY.end):
    """A hand-built dashboard: one section with a hidden count, one with a long title."""
    return tables.Dashboard(
        unit_id="u",
        unit_name=unit_name,
        unit_kind="community",
        start=start,
        end=end,
        sections=[
            tables.Section(
                code="people",
                title="服务对象与重点人群",
                tables=[
                    tables.Table(
                        code="people_by_group",
                        title="按人群统计的服务对象",
                        label_header="人群",
                        columns=["人数", "其中新建档"],
                        rows=[
                            tables.Row("密切接触者", [12, None]),
                            tables.Row("居家隔离人员", [None, 0]),
                            tables.Row("合计", [15, 6]),
                        ],
                        suppressed=True,
                    )
                ],
            ),
            tables.Section(
                code="alerts",
                title="危机预警/响应时间[分钟]：按级别和处置结果统计的全部预警情况",
                tables=[
                    tables.Table(
                        code="alert_times",
                        title="响应时间中位数",
                        label_header="级别",
                        columns=["分钟"],
                        rows=[tables.Row("红色", [7.25])],
                        note="少于5人时不显示中位数。",
                    )
                ],
            ),
        ],
        suppressed=True,
        threshold=5,
        updated_at="2026-03-01T01:00+08:00",
    )


def report_with_snapshot(**fields) -> WorkReport:
    unit = fields.pop("unit", None) or Unit(name="春晖社区", kind=UnitKind.COMMUNITY)
    report = WorkReport(
        unit=unit,
        kind="monthly",
        period_start=FEBRUARY.start,
        period_end=FEBRUARY.end,
        due_on=date(2026, 3, 5),
        status=WorkReportStatus.READY,
        **fields,
    )
    report.snapshot = tables.as_json(dashboard(unit.name))
    return report


# --- the calendar ----------------------------------------------------------------------------


class WorkPeriodTests(SimpleTestCase):
    def test_weeks_run_monday_to_sunday_and_are_due_three_days_after(self):
        week = work_periods.period_of("weekly", TODAY)
        self.assertEqual((week.start, week.end), (date(2026, 3, 9), date(2026, 3, 15)))
        self.assertEqual(week.start.weekday(), 0)
        self.assertEqual(work_periods.due_on("weekly", week), date(2026, 3, 18))  # Wednesday
        sunday = work_periods.period_of("weekly", date(2026, 3, 15))
        self.assertEqual(sunday, week)

    def test_months_are_due_on_the_fifth_of_the_next_month(self):
        self.assertEqual(work_periods.due_on("monthly", FEBRUARY), date(2026, 3, 5))
        december = work_periods.period_of("monthly", date(2026, 12, 31))
        self.assertEqual(december.start, date(2026, 12, 1))
        self.assertEqual(work_periods.due_on("monthly", december), date(2027, 1, 5))
        leap = work_periods.period_of("monthly", date(2028, 2, 10))
        self.assertEqual(leap.end, date(2028, 2, 29))

    def test_the_last_closed_period_is_never_the_current_one(self):
        # On the last day of a week or a month, that period is still open.
        self.assertEqual(
            work_periods.last_closed("weekly", date(2026, 3, 15)).start, date(2026, 3, 2)
        )
        self.assertEqual(
            work_periods.last_closed("weekly", date(2026, 3, 16)).start, date(2026, 3, 9)
        )
        self.assertEqual(
            work_periods.last_closed("monthly", date(2026, 3, 31)).start, date(2026, 2, 1)
        )
        self.assertEqual(
            work_periods.last_closed("monthly", date(2026, 4, 1)).start, date(2026, 3, 1)
        )
        recent = work_periods.recent_closed("monthly", date(2026, 1, 10), 3)
        self.assertEqual(
            [p.start for p in recent], [date(2025, 12, 1), date(2025, 11, 1), date(2025, 10, 1)]
        )
        with self.assertRaises(ValueError):
            work_periods.period_of("daily", TODAY)

    def test_lateness(self):
        due = date(2026, 3, 5)
        self.assertFalse(work_periods.is_late(due, "ready", due))  # the due day is on time
        self.assertTrue(work_periods.is_late(due, "ready", due + timedelta(days=1)))
        self.assertTrue(work_periods.is_late(due, "failed", date(2026, 4, 1)))
        self.assertFalse(work_periods.is_late(due, "submitted", date(2026, 4, 1)))
        self.assertEqual(work_periods.days_late(due, TODAY), 6)
        self.assertEqual(work_periods.days_late(due, TODAY, submitted_on=date(2026, 3, 7)), 2)
        self.assertEqual(work_periods.days_late(due, date(2026, 3, 1)), 0)

    def test_reports_never_made_are_missing_once_due(self):
        units = ["a", "b"]
        # 2026-03-11: last week (3/2–3/8) is due 3/11, not yet late: the week before is owed.
        # February is due 3/5: late.
        existing = [("a", "weekly", date(2026, 2, 23)), ("a", "monthly", date(2026, 2, 1))]
        owed = work_periods.missing(units, existing, TODAY)
        self.assertEqual(
            sorted((e.unit_id, e.kind, e.period.start) for e in owed),
            [("b", "monthly", date(2026, 2, 1)), ("b", "weekly", date(2026, 2, 23))],
        )
        self.assertTrue(all(e.due < TODAY for e in owed))
        # On 3/3 February is not yet due (3/5): January is the last month due.
        self.assertEqual(work_periods.last_due("monthly", date(2026, 3, 3)).start, date(2026, 1, 1))
        self.assertEqual(work_periods.last_due("monthly", date(2026, 3, 6)).start, FEBRUARY.start)


# --- free text -------------------------------------------------------------------------------


class FreeTextTests(SimpleTestCase):
    def test_identifiers_are_found_and_dates_are_not(self):
        found = work_actions.identifiers_in
        self.assertEqual(found("本周开展讲座两次，服务居民120人次。"), [])
        self.assertEqual(found("2026-03-01至2026/3/7开展走访；2026年3月9日复盘。"), [])
        self.assertEqual(len(found("联系人电话 170 0000 0042")), 1)
        self.assertEqual(len(found("身份证 11010519491231002X 的居民")), 1)
        self.assertEqual(len(found("发至 test.person@example.org")), 1)
        self.assertEqual(len(found("11010519491231002X，17000000042，a@b.cn")), 3)

    def test_a_refusal_names_the_field_in_chinese(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)
        with self.assertRaises(ValidationError) as caught:
            work_actions.clean_free_text(
                "account", "工作小结", "请联系17000000042", limit=100, required=False
            )
        message = caught.exception.message_dict["account"][0]
        self.assertIn("工作小结", message)
        self.assertIn("电话号码", message)
        with self.assertRaises(ValidationError) as caught:
            work_actions.clean_free_text(
                "account", "工作小结", "字" * 101, limit=100, required=False
            )
        self.assertIn("100", caught.exception.message_dict["account"][0])


# --- documents -------------------------------------------------------------------------------


class DocumentTests(SimpleTestCase):
    def test_the_pdf_holds_the_chinese_text_with_its_fonts_embedded(self):
        report = report_with_snapshot(account="本月组织心理健康讲座两场。")
        document = work_documents.pdf(report)
        self.assertTrue(document.startswith(b"%PDF"))
        text = pdf_text(document)
        for expected in (
            "春晖社区",
            "月报",
            "服务对象与重点人群",
            "按人群统计的服务对象",
            "工作小结",
        ):
            self.assertIn(expected, text)
        self.assertIn("本月组织心理健康讲座两场。", text)
        self.assertIn("<5", text)  # the hidden counts
        self.assertIn("7.2", text)  # a fraction, one decimal
        self.assertTrue(embedded_fonts(document), "no font program in the PDF")

    def test_the_workbook_has_an_overview_a_sheet_per_section_and_notes(self):
        report = report_with_snapshot(account="小结")
        book = workbook(work_documents.xlsx(report))
        self.assertEqual(book.sheetnames[0], "概况")
        self.assertEqual(book.sheetnames[-1], "说明")
        self.assertEqual(len(book.sheetnames), 4)
        self.assertEqual(book.sheetnames[1], "服务对象与重点人群")
        long_name = book.sheetnames[2]
        self.assertLessEqual(len(long_name), 31)
        self.assertFalse(set(long_name) & set("[]:*?/\\"))
        self.assertTrue(long_name.startswith("危机预警响应时间分钟"))
        overview = [tuple(r) for r in book["概况"].iter_rows(values_only=True)]
        self.assertIn(("单位", "春晖社区"), [r[:2] for r in overview])
        self.assertIn(("小结",), [r[:1] for r in overview])
        rows = [tuple(r) for r in book["服务对象与重点人群"].iter_rows(values_only=True)]
        self.assertIn(("密切接触者", 12, "<5"), rows)
        self.assertIn(("居家隔离人员", "<5", 0), rows)
        notes = " ".join(str(r[0]) for r in book["说明"].iter_rows(values_only=True) if r[0])
        self.assertIn("<5", notes)
        self.assertIn("少于5人时不显示中位数。", notes)

    def test_sheet_names_are_valid_and_unique(self):
        used: set[str] = set()
        names = [work_documents.sheet_name(t, used) for t in ("a/b", "a/b", "x" * 40, "", "[]")]
        self.assertEqual(names[0], "ab")
        self.assertEqual(names[1], "ab (2)")
        self.assertEqual(len(names[2]), 31)
        self.assertEqual(len(set(names)), 5)


# --- generation, schedule, workflow ------------------------------------------------------------


def fake_build(*, unit, period, suppress):
    assert suppress is True  # a work report leaves the unit: always suppressed
    return dashboard(unit.name, period.start, period.end)


class WorkReportTestCase(PersonaTestCase):
    def setUp(self) -> None:
        self.travel = at(TODAY)
        self.travel.start()
        self.addCleanup(self.travel.stop)
        patcher = mock.patch("xinqiao.reports.indicators.build", side_effect=fake_build)
        self.build = patcher.start()
        self.addCleanup(patcher.stop)

    def monthly(self, unit=None, status=WorkReportStatus.READY, **fields) -> WorkReport:
        """A February report of ``unit`` (c1) made quickly, without the job."""
        unit = unit or self.c1
        values = {
            "kind": "monthly",
            "period_start": FEBRUARY.start,
            "period_end": FEBRUARY.end,
            "due_on": date(2026, 3, 5),
            **fields,
        }
        report = WorkReport(unit=unit, status=status, **values)
        if status in (WorkReportStatus.READY, WorkReportStatus.SUBMITTED, WorkReportStatus.READ):
            report.snapshot = tables.as_json(dashboard(unit.name))
            report.pdf, report.xlsx = b"%PDF-fake", b"PK-fake"
            report.generated_at = timezone.now()
        if status == WorkReportStatus.FAILED:
            report.error = "RuntimeError: test"
        if status in (WorkReportStatus.SUBMITTED, WorkReportStatus.READ):
            report.submitted_at, report.submitted_by = timezone.now(), self.c1_worker
        if status == WorkReportStatus.READ:
            report.read_at, report.read_by = timezone.now(), self.street_admin
        report.save()
        return report


class GenerationTests(WorkReportTestCase):
    def test_generated_on_demand_from_the_real_dashboard(self):
        self.build.side_effect = REAL_BUILD  # the real dashboard, end to end
        with at(date(2026, 2, 10)):
            for n in range(3):  # three people: a count below 5, hidden in the report
                Person.objects.create(unit=self.c1, name=f"测试对象{n}", priority_level=2)
        tally.refresh_all()
        report = work_actions.request_report(
            unit=self.c1, kind="monthly", day=date(2026, 2, 14), user=self.c1_worker
        )
        self.assertEqual(report.status, WorkReportStatus.GENERATING)
        self.assertEqual((report.period_start, report.period_end), (FEBRUARY.start, FEBRUARY.end))
        self.assertEqual(report.due_on, date(2026, 3, 5))
        self.assertTrue(Job.objects.filter(kind=work_actions.GENERATE_JOB).exists())
        wait_until_done()
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.READY, report.error)
        self.assertEqual(report.snapshot["unit"]["name"], self.c1.name)
        self.assertTrue(report.snapshot["suppressed"])
        titles = [s["title"] for s in report.snapshot["sections"]]
        self.assertTrue(titles)
        text = pdf_text(bytes(report.pdf))
        self.assertIn(self.c1.name, text)
        for title in titles:
            self.assertIn(title, text)
        cells = [
            c
            for s in report.snapshot["sections"]
            for t in s["tables"]
            for r in t["rows"]
            for c in r["cells"]
        ]
        self.assertIn(None, cells)  # the three people are "<5" outside the community
        self.assertIn("<5", text)
        book = workbook(bytes(report.xlsx))
        self.assertEqual(book.sheetnames[0], "概况")
        self.assertEqual(book.sheetnames[-1], "说明")
        self.assertEqual(len(book.sheetnames), len(titles) + 2)

    def test_a_failure_halfway_leaves_no_half_report_and_is_retried(self):
        report = work_actions.request_report(
            unit=self.c1, kind="monthly", day=FEBRUARY.start, user=self.c1_worker
        )
        # The PDF is made, then the workbook fails.
        with mock.patch.object(work_documents, "xlsx", side_effect=RuntimeError("disk full")):
            wait_until_done()
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.FAILED)
        self.assertIsNone(report.pdf)
        self.assertIsNone(report.xlsx)
        self.assertIsNone(report.snapshot)
        self.assertIn("disk full", report.error)
        self.assertEqual(report.attempts, 1)
        page = self.client_for(self.c1_worker).get(self.url("work_report", report))
        self.assertContains(page, "disk full")
        self.assertContains(page, reverse("reports:work_retry", args=[report.pk]))
        download = self.client_for(self.c1_worker).get(self.url("work_pdf", report))
        self.assertEqual(download.status_code, 409)
        self.assertContains(download, "disk full", status_code=409)
        # A retry is queued for later; when its time comes, it succeeds.
        retry = Job.objects.get(kind=work_actions.GENERATE_JOB, status=JobStatus.PENDING)
        self.assertGreater(retry.run_at, timezone.now())
        with time_machine.travel(retry.run_at + timedelta(seconds=1), tick=False):
            wait_until_done()
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.READY)
        self.assertEqual(report.error, "")
        self.assertEqual(report.attempts, 2)
        self.assertTrue(bytes(report.pdf).startswith(b"%PDF"))

    def test_the_unit_retries_a_failure_at_once(self):
        report = work_actions.request_report(
            unit=self.c1, kind="weekly", day=date(2026, 3, 3), user=self.c1_worker
        )
        self.build.side_effect = RuntimeError("aggregates unavailable")
        wait_until_done()
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.FAILED)
        self.build.side_effect = fake_build
        client = self.client_for(self.c1_worker)
        response = client.post(self.url("work_retry", report))
        self.assertRedirects(response, self.url("work_report", report))
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.GENERATING)
        wait_until_done()
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.READY)

    def test_documents_exist_exactly_when_ready_in_the_database(self):
        report = self.monthly()
        for bad in (
            {"pdf": None},
            {"status": WorkReportStatus.GENERATING},
            {"status": WorkReportStatus.FAILED, "error": "x"},
        ):
            with self.subTest(bad), self.assertRaises(IntegrityError), transaction.atomic():
                WorkReport.objects.filter(pk=report.pk).update(**bad)
        with self.assertRaises(IntegrityError), transaction.atomic():
            self.monthly(unit=self.c1)  # one report per unit, kind and period

    def test_generating_twice_makes_one_result(self):
        report = work_actions.request_report(
            unit=self.c1, kind="monthly", day=FEBRUARY.start, user=self.c1_worker
        )
        first = work_actions.generate(report_id=report.pk)
        second = work_actions.generate(report_id=report.pk)
        assert first is not None
        assert second is not None
        self.assertEqual(first.status, WorkReportStatus.READY)
        report.refresh_from_db()
        self.assertEqual(report.attempts, 1)
        self.assertEqual(self.build.call_count, 1)
        # Asking again for the same period regenerates the one report (ready → generating).
        again = work_actions.request_report(
            unit=self.c1, kind="monthly", day=FEBRUARY.end, user=self.c1_worker
        )
        self.assertEqual(again.pk, report.pk)
        self.assertEqual(again.status, WorkReportStatus.GENERATING)
        self.assertIsNone(again.pdf)

    def test_the_schedule_is_idempotent_and_covers_every_reporting_unit(self):
        units = Unit.objects.filter(
            kind__in=[UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.DISTRICT], is_active=True
        )
        first = work_actions.schedule_due(today=TODAY)
        self.assertEqual(first.created, 2 * units.count())
        jobs = Job.objects.filter(kind=work_actions.GENERATE_JOB).count()
        self.assertEqual(jobs, first.created)
        second = work_actions.schedule_due(today=TODAY)
        self.assertEqual((second.created, second.retried, second.refreshed), (0, 0, 0))
        self.assertEqual(Job.objects.filter(kind=work_actions.GENERATE_JOB).count(), jobs)
        reports = WorkReport.objects.all()
        self.assertEqual(
            set(reports.values_list("unit__kind", flat=True)), {"community", "street", "district"}
        )
        weekly = reports.filter(kind="weekly").first()
        assert weekly is not None
        self.assertEqual(
            (weekly.period_start, weekly.due_on), (date(2026, 3, 2), date(2026, 3, 11))
        )
        self.assertEqual(
            reports.filter(kind="monthly", period_start=FEBRUARY.start).count(), units.count()
        )
        self.assertEqual(reports.filter(created_by__isnull=False).count(), 0)

    def test_the_schedule_retries_failures_and_refreshes_reports_made_mid_period(self):
        failed = self.monthly(status=WorkReportStatus.FAILED, attempts=1)
        spent = self.monthly(unit=self.c2, status=WorkReportStatus.FAILED, attempts=9)
        early = self.monthly(unit=self.c3)
        WorkReport.objects.filter(pk=early.pk).update(
            generated_at=datetime(2026, 2, 20, 12, tzinfo=SH)
        )
        outcome = work_actions.schedule_due(today=TODAY)
        self.assertEqual((outcome.retried, outcome.refreshed), (1, 1))
        for report, status in (
            (failed, WorkReportStatus.GENERATING),
            (spent, WorkReportStatus.FAILED),
            (early, WorkReportStatus.GENERATING),
        ):
            report.refresh_from_db()
            self.assertEqual(report.status, status)

    def url(self, name: str, report: WorkReport) -> str:
        return reverse(f"reports:{name}", kwargs={"work_report_id": report.pk})


class WorkflowTests(WorkReportTestCase):
    def url(self, name: str, report: WorkReport) -> str:
        return reverse(f"reports:{name}", kwargs={"work_report_id": report.pk})

    def test_account_submit_the_street_told_reads_and_comments(self):
        report = self.monthly()
        worker = self.client_for(self.c1_worker)
        page = worker.get(self.url("work_report", report))
        self.assertContains(page, "工作小结")
        self.assertContains(page, self.url("work_submit", report))
        saved = worker.post(self.url("work_account", report), {"account": "二月走访居民42户。"})
        self.assertRedirects(saved, self.url("work_report", report))
        report.refresh_from_db()
        self.assertEqual(report.account, "二月走访居民42户。")
        self.assertIn("二月走访居民42户。", pdf_text(bytes(report.pdf)))  # documents made again
        # The street sees nothing before it is submitted.
        street = self.client_for(self.street_admin)
        self.assertEqual(street.get(self.url("work_report", report)).status_code, 404)
        submitted = worker.post(self.url("work_submit", report))
        self.assertRedirects(submitted, self.url("work_report", report))
        report.refresh_from_db()
        self.assertEqual(report.status, WorkReportStatus.SUBMITTED)
        self.assertEqual(report.submitted_by, self.c1_worker)
        final = bytes(report.pdf)
        self.assertIn("已提交", pdf_text(final))
        told = Notification.objects.filter(recipient=self.street_admin, object_id=str(report.pk))
        self.assertEqual(told.count(), 1)
        self.assertIn(self.c1.name, told.get().subject)
        # The street: in its list, marks it read, comments; the worker is told of the comment.
        listing = street.get(reverse("reports:work_list"))
        self.assertContains(listing, self.url("work_report", report))
        self.assertContains(
            street.get(self.url("work_report", report)), self.url("work_read", report)
        )
        read = street.post(self.url("work_read", report))
        self.assertRedirects(read, self.url("work_report", report))
        report.refresh_from_db()
        self.assertEqual(
            (report.status, report.read_by), (WorkReportStatus.READ, self.street_admin)
        )
        self.assertEqual(bytes(report.pdf), final)  # the documents never change after submission
        commented = street.post(self.url("work_comment", report), {"text": "请补充下月计划。"})
        self.assertRedirects(commented, self.url("work_report", report) + "#comments")
        self.assertEqual(WorkReportComment.objects.get().author, self.street_admin)
        self.assertTrue(
            Notification.objects.filter(recipient=self.c1_worker, object_id=str(report.pk)).exists()
        )
        self.assertContains(worker.get(self.url("work_report", report)), "请补充下月计划。")
        reply = worker.post(self.url("work_comment", report), {"text": "已补充。"})
        self.assertEqual(reply.status_code, 302)
        self.assertEqual(WorkReportComment.objects.count(), 2)

    def test_bad_account_text_gets_a_chinese_message_naming_the_field(self):
        report = self.monthly()
        worker = self.client_for(self.c1_worker)
        response = worker.post(
            self.url("work_account", report), {"account": "联系李阿姨 17000000042 了解情况"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "工作小结不能含有个人身份信息", status_code=400)
        self.assertContains(response, "电话号码", status_code=400)
        report.refresh_from_db()
        self.assertEqual(report.account, "")
        comment = self.client_for(self.street_admin).post(
            self.url("work_comment", self.monthly(unit=self.c2, status=WorkReportStatus.SUBMITTED)),
            {"text": "请发到 someone@example.org"},
        )
        self.assertContains(comment, "意见不能含有个人身份信息", status_code=400)

    def test_a_report_is_submitted_only_once_its_period_is_over_with_figures_after_it(self):
        week = work_actions.request_report(
            unit=self.c1, kind="weekly", day=TODAY, user=self.c1_worker
        )
        wait_until_done()
        week.refresh_from_db()
        self.assertEqual(week.status, WorkReportStatus.READY)
        with self.assertRaises(ValidationError) as caught:
            work_actions.submit(report=week, user=self.c1_worker)
        self.assertIn("2026-03-16", caught.exception.message_dict["status"][0])
        # When the week is over, the report made mid-week must be made again first.
        with at(date(2026, 3, 17)):
            with self.assertRaises(ValidationError):
                work_actions.submit(report=week, user=self.c1_worker)
            work_actions.retry(report=week, user=self.c1_worker)
            wait_until_done()
            week.refresh_from_db()
            work_actions.submit(report=week, user=self.c1_worker)
        week.refresh_from_db()
        self.assertEqual(week.status, WorkReportStatus.SUBMITTED)
        with self.assertRaises(ValidationError):
            work_actions.request_report(unit=self.c1, kind="weekly", day=TODAY, user=self.c1_worker)
        with self.assertRaises(ValidationError):
            work_actions.request_report(
                unit=self.c1, kind="weekly", day=TODAY + timedelta(days=7), user=self.c1_worker
            )

    def test_the_late_list(self):
        on_time = self.monthly(unit=self.c2, status=WorkReportStatus.SUBMITTED)
        waiting = self.monthly(unit=self.c1)  # February, due 3/5, ready and not submitted
        items = late(self.street_admin, TODAY)
        listed = {(i.unit.pk, i.kind, i.start): i for i in items}
        self.assertIn((self.c1.pk, "monthly", FEBRUARY.start), listed)
        self.assertEqual(listed[(self.c1.pk, "monthly", FEBRUARY.start)].days, 6)
        self.assertIsNone(listed[(self.c1.pk, "monthly", FEBRUARY.start)].report)  # a draft
        self.assertNotIn((self.c2.pk, "monthly", FEBRUARY.start), listed)
        # Never made: the street itself owes February and the week of 2/23.
        street = self.demo.streets[0]
        self.assertIn((street.pk, "monthly", FEBRUARY.start), listed)
        self.assertIn((street.pk, "weekly", date(2026, 2, 23)), listed)
        self.assertNotIn(self.c3.pk, {i.unit.pk for i in items})  # another street's
        page = self.client_for(self.street_admin).get(reverse("reports:work_list"))
        self.assertContains(page, 'id="work-late"')
        self.assertContains(page, self.c1.name)
        self.assertContains(page, self.url("work_report", on_time))
        # The worker sees the unit's own late report, with its link.
        mine = late(self.c1_worker, TODAY)
        self.assertEqual({i.report.pk for i in mine if i.report}, {waiting.pk})
        self.assertEqual({i.unit.pk for i in mine}, {self.c1.pk})

    def test_scope_404_outside_403_without_the_permission_409_before_ready(self):
        draft = self.monthly()
        sent = self.monthly(unit=self.c2, status=WorkReportStatus.SUBMITTED)
        for user in (self.c2_counsellor, self.outsider, self.street_admin, self.c1_grid):
            with self.subTest(user.username):
                client = self.client_for(user)
                self.assertEqual(client.get(self.url("work_report", draft)).status_code, 404)
                self.assertEqual(client.get(self.url("work_pdf", draft)).status_code, 404)
                self.assertEqual(client.post(self.url("work_submit", draft)).status_code, 404)
        outsider = self.client_for(self.outsider)
        for name in ("work_report", "work_pdf", "work_xlsx"):
            self.assertEqual(outsider.get(self.url(name, sent)).status_code, 404)
        self.assertEqual(outsider.post(self.url("work_read", sent)).status_code, 404)
        unit_page = reverse("reports:work_unit", kwargs={"unit_id": self.c1.pk})
        self.assertEqual(outsider.get(unit_page).status_code, 404)
        self.assertEqual(self.client_for(self.c2_counsellor).get(unit_page).status_code, 404)
        self.assertEqual(
            self.client_for(self.auditor).get(reverse("reports:work_list")).status_code, 404
        )
        # Inside the scope without the permission: 403.
        counsellor = self.client_for(self.c1_counsellor)
        self.assertEqual(counsellor.get(self.url("work_report", draft)).status_code, 200)
        self.assertEqual(counsellor.post(self.url("work_submit", draft)).status_code, 403)
        self.assertEqual(
            counsellor.post(self.url("work_account", draft), {"account": "x"}).status_code, 403
        )
        generate = reverse("reports:work_generate", kwargs={"unit_id": self.c1.pk})
        self.assertEqual(
            counsellor.post(generate, {"kind": "weekly", "day": "2026-03-02"}).status_code, 403
        )
        self.assertEqual(
            self.client_for(self.street_admin)
            .post(generate, {"kind": "weekly", "day": "2026-03-02"})
            .status_code,
            403,
        )
        c2_worker = self.client_for(self.demo.users["c2_worker"])
        self.assertEqual(c2_worker.post(self.url("work_read", sent)).status_code, 403)  # own unit
        self.assertEqual(
            self.client_for(self.street_admin).post(self.url("work_submit", sent)).status_code, 403
        )
        sent.refresh_from_db()
        self.assertEqual(sent.status, WorkReportStatus.SUBMITTED)
        # Before it is ready: 409, with the reason.
        pending = self.monthly(unit=self.c1, status=WorkReportStatus.GENERATING, kind="weekly")
        response = self.client_for(self.c1_worker).get(self.url("work_xlsx", pending))
        self.assertEqual(response.status_code, 409)
        ready = self.client_for(self.c1_worker).get(self.url("work_xlsx", draft))
        self.assertEqual(ready.status_code, 200)
        self.assertEqual(ready.content, b"PK-fake")

    def test_on_demand_from_the_unit_page(self):
        worker = self.client_for(self.c1_worker)
        unit_page = reverse("reports:work_unit", kwargs={"unit_id": self.c1.pk})
        self.assertContains(worker.get(unit_page), 'name="day"')
        generate = reverse("reports:work_generate", kwargs={"unit_id": self.c1.pk})
        bad = worker.post(generate, {"kind": "weekly", "day": "2026-04-01"})
        self.assertEqual(bad.status_code, 400)
        self.assertContains(bad, "尚未开始", status_code=400)
        made = worker.post(generate, {"kind": "monthly", "day": "2026-02-14"})
        report = WorkReport.objects.get()
        self.assertRedirects(made, self.url("work_report", report), fetch_redirect_response=False)
        self.assertEqual(report.created_by, self.c1_worker)
        wait_until_done()
        report.refresh_from_db()
        page = worker.get(self.url("work_report", report))
        self.assertContains(page, "按人群统计的服务对象")
        self.assertContains(page, "&lt;5")
        pdf = worker.get(self.url("work_pdf", report))
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        self.assertIn("春晖社区", pdf_text(pdf.content))
