"""Trends, early warning, emerging-issue reports and the hotline summary (issue #7 items 5, 6):
counts by category, hour and group; scope of the counts; the daily run on planted data (one
report per series and day even when run twice, the street admin told, nothing below the
minimum count); the report page (examples hidden or masked, handling, 404 outside scope); the
masking function; the weekly summary on a hand-built week and its Excel workbook."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation

from xinqiao.audit.models import AccessLog
from xinqiao.hotline import early_warning, summary, summary_excel, trends
from xinqiao.hotline.detect import detect
from xinqiao.hotline.models import (
    Call,
    CallProblem,
    EmergingIssueReport,
    MailboxMessage,
    MailboxReply,
    ReportStatus,
    Seat,
    Shift,
)
from xinqiao.notify.models import Notification
from xinqiao.people.models import Person
from xinqiao.risk.models import Alert, RiskSignal
from xinqiao.test import PersonaTestCase

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 11)  # a Wednesday
YESTERDAY = TODAY - timedelta(days=1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


class TrendData(PersonaTestCase):
    serial = 0

    def call(
        self,
        started: datetime,
        *,
        area=None,
        groups=("negative_emotion",),
        notes="",
        minutes=10,
        save=True,
        **fields,
    ) -> Call:
        TrendData.serial += 1
        call = Call(
            reference=f"T{TrendData.serial:08d}",
            centre=fields.pop("centre", self.demo.hotline),
            operator=self.hotline,
            started_at=started,
            ended_at=started + timedelta(minutes=minutes),
            caller_type="self",
            area=area,
            risk=fields.pop("risk", "none"),
            notes=notes,
            **fields,
        )
        call._groups = groups  # type: ignore[attr-defined]
        if save:
            call.save()
            for g in groups:
                CallProblem.objects.create(call=call, group=g, code=g)
        return call

    def bulk_calls(self, calls: list[Call]) -> None:
        Call.objects.bulk_create(calls)
        CallProblem.objects.bulk_create(
            [CallProblem(call=c, group=g, code=g) for c in calls for g in c._groups]
        )

    def message(
        self, created: datetime, *, unit, area=None, category="", body="信件"
    ) -> MailboxMessage:
        TrendData.serial += 1
        message = MailboxMessage.objects.create(
            number=f"M{TrendData.serial:06d}",
            code_digest=f"d{TrendData.serial:063d}",
            unit=unit,
            area=area,
            category=category,
            body=body,
        )
        MailboxMessage.objects.filter(pk=message.pk).update(created_at=created)
        message.created_at = created
        return message


class CountTests(TrendData):
    def test_counts_by_category_hour_and_group(self):
        street = self.demo.streets[0]
        self.call(at(YESTERDAY, 9, 5), area=street, groups=("negative_emotion", "body"))
        self.call(at(YESTERDAY, 9, 40), area=street, groups=("negative_emotion",))
        self.call(at(YESTERDAY, 22, 30), groups=("body",), caller_group="student")
        self.call(at(TODAY - timedelta(days=40), 9), groups=("body",))  # outside 30 days
        self.message(at(YESTERDAY, 23, 50), unit=self.c1, category="negative_emotion")
        calls = trends.calls_in_scope(self.city_admin)
        messages = trends.messages_in_scope(self.city_admin)
        start = TODAY - timedelta(days=29)

        daily = trends.count(calls=calls, messages=messages, start=start, end=TODAY)
        self.assertEqual(len(daily.buckets), 30)
        self.assertEqual(daily.cells[(YESTERDAY, "negative_emotion")], 3)  # 2 calls + 1 message
        self.assertEqual(daily.cells[(YESTERDAY, "body")], 2)
        self.assertEqual(daily.total("body"), 2)
        self.assertEqual(daily.keys[0], "negative_emotion")  # most counted first

        hourly = trends.count(
            calls=calls, messages=messages, start=start, end=TODAY, granularity="hourly"
        )
        self.assertEqual(hourly.buckets, list(range(24)))
        self.assertEqual(hourly.cells[(9, "negative_emotion")], 2)
        self.assertEqual(hourly.cells[(22, "body")], 1)
        self.assertEqual(hourly.cells[(23, "negative_emotion")], 1)  # local time, not UTC

        by_group = trends.count(
            calls=calls, messages=messages, start=start, end=TODAY, dimension="group", kind="calls"
        )
        self.assertEqual(by_group.cells[(YESTERDAY, "student")], 1)
        self.assertEqual(by_group.cells[(YESTERDAY, "")], 2)

        by_unit = trends.count(
            calls=calls, messages=messages, start=start, end=TODAY, dimension="unit"
        )
        self.assertEqual(by_unit.cells[(YESTERDAY, str(street.pk))], 2)
        self.assertEqual(by_unit.labels[str(street.pk)], street.name)

    def test_scope_of_the_counts(self):
        east, south = self.demo.streets[0], self.demo.streets[1]
        self.call(at(YESTERDAY, 9), area=east)
        self.call(at(YESTERDAY, 10), area=south)
        self.call(at(YESTERDAY, 11))
        self.message(at(YESTERDAY, 12), unit=self.c1)
        self.message(at(YESTERDAY, 12), unit=self.demo.hotline, area=east)

        def seen(user):
            return trends.calls_in_scope(user).count(), trends.messages_in_scope(user).count()

        self.assertEqual(seen(self.city_admin), (3, 2))
        self.assertEqual(seen(self.street_admin), (1, 2))  # their street's callers and units
        self.assertEqual(seen(self.hotline), (3, 1))  # the centre's calls and messages
        self.assertEqual(seen(self.c1_counsellor), (0, 1))  # not at the centre: no calls
        self.assertEqual(seen(self.outsider), (0, 0))

        with time_machine.travel(at(TODAY, 10), tick=False):
            page = self.client_for(self.street_admin).get(reverse("hotline:trends"))
            self.assertEqual(page.status_code, 200)
            self.assertEqual(page.context["grand_total"], 3)
            other = self.client_for(self.outsider).get(reverse("hotline:trends") + "?days=90")
            self.assertEqual(other.context["grand_total"], 0)
            self.assertEqual(
                self.client_for(self.auditor).get(reverse("hotline:trends")).status_code, 404
            )

    def test_page_filters_chart_and_table(self):
        east = self.demo.streets[0]
        self.call(at(YESTERDAY, 9), area=east, groups=("body",), caller_group="student")
        self.call(at(YESTERDAY, 21), area=east, groups=("crisis",))
        self.message(at(YESTERDAY, 21), unit=self.demo.hotline, area=east, category="body")
        client = self.client_for(self.city_admin)
        url = reverse("hotline:trends")
        with time_machine.travel(at(TODAY, 10), tick=False):
            hourly = client.get(url + f"?granularity=hourly&dimension=unit&unit={east.pk}")
            self.assertEqual(hourly.status_code, 200)
            rows = {r["bucket"]: r["total"] for r in hourly.context["rows"]}
            self.assertEqual((rows["09"], rows["21"], rows["10"]), (1, 2, 0))
            self.assertEqual(hourly.context["columns"], [east.name])
            self.assertEqual(hourly.context["chart"]["kind"], "bar")
            self.assertContains(hourly, 'id="trend-table"')
            one = client.get(url + "?category=body&kind=calls&dimension=category&days=90")
            self.assertEqual(one.context["grand_total"], 1)
            self.assertEqual(len(one.context["rows"]), 90)
            groups = client.get(url + "?dimension=group&kind=messages")
            self.assertEqual(groups.context["grand_total"], 1)

    def test_bad_filters_name_the_field(self):
        with time_machine.travel(at(TODAY, 10), tick=False):
            client = self.client_for(self.city_admin)
            page = client.get(reverse("hotline:trends") + "?days=7&dimension=x&unit=nope")
            self.assertEqual(page.status_code, 400)
            self.assertEqual(set(page.context["errors"]), {"days", "dimension", "unit"})
            # A unit outside the user's scope is refused like one that does not exist.
            outside = self.outside_city.pk
            page = self.client_for(self.street_admin).get(
                reverse("hotline:trends") + f"?unit={outside}"
            )
            self.assertIn("unit", page.context["errors"])


class EarlyWarningTests(TrendData):
    # A weekly rhythm for 119 days, then a rise on the last complete day.
    BASE = [2, 3, 2, 4, 3, 2, 3]

    def plant(self, street, category, *, base, last):
        calls = []
        first = YESTERDAY - timedelta(days=119)
        for i in range(119):
            day = first + timedelta(days=i)
            for k in range(base[i % len(base)]):
                calls.append(self.call(at(day, 9, k), area=street, groups=(category,), save=False))
        for k in range(last):
            calls.append(
                self.call(
                    at(YESTERDAY, 10, k),
                    area=street,
                    groups=(category,),
                    save=False,
                    notes=f"第{k}位来电者，我叫王小明，电话13812345678，说停工后交不起房租。",
                )
            )
        self.bulk_calls(calls)

    def test_run_makes_one_report_per_series_and_day_and_tells_the_street(self):
        street = self.demo.streets[0]
        self.plant(street, "financial_hardship", base=self.BASE, last=14)
        with time_machine.travel(at(TODAY, 6, 15), tick=False):
            first = early_warning.run(TODAY)
            again = early_warning.run(TODAY)
        self.assertEqual(again.reports, [])
        reports = EmergingIssueReport.objects.all()
        keys = [(r.source_unit_id, r.category, r.day) for r in reports]
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(len(first.reports), reports.count())
        report = reports.get(source_unit=street, category="financial_hardship")
        self.assertEqual(report.unit, street)
        self.assertEqual(report.day, YESTERDAY)
        self.assertEqual(report.observed, 14)
        self.assertLess(report.expected, 5)
        self.assertEqual(len(report.series), early_warning.WINDOW_DAYS)
        self.assertEqual(report.series[-1], [YESTERDAY.isoformat(), 14])
        self.assertEqual(report.method, "cusum_glm")
        # The centre's series took the same calls: its report goes to the centre's parent.
        centre_report = reports.get(source_unit=self.demo.hotline, category="financial_hardship")
        self.assertEqual(centre_report.unit, self.demo.city)
        # The street admin is told once per report, with a link and no personal data.
        told = Notification.objects.filter(
            recipient=self.street_admin, channel="in_app", object_id=str(report.pk)
        )
        self.assertEqual(told.count(), 1)
        self.assertEqual(told[0].url, reverse("hotline:report", kwargs={"report_id": report.pk}))
        self.assertNotIn("王小明", told[0].subject + told[0].body)
        self.assertNotIn("138", told[0].body)
        self.assertFalse(Notification.objects.filter(recipient=self.c1_counsellor).exists())
        # The rise goes on the next day: the detector flags it again, but it is the same
        # issue — no second report within REPEAT_DAYS, nobody told twice.
        self.bulk_calls(
            [
                self.call(at(TODAY, 10, k), area=street, groups=("financial_hardship",), save=False)
                for k in range(20)
            ]
        )
        with time_machine.travel(at(TODAY + timedelta(days=1), 6, 15), tick=False):
            later = early_warning.run(TODAY + timedelta(days=1))
        self.assertGreaterEqual(later.repeated, 1)
        self.assertEqual(later.reports, [])
        self.assertEqual(
            EmergingIssueReport.objects.filter(
                source_unit=street, category="financial_hardship"
            ).count(),
            1,
        )
        self.assertEqual(
            Notification.objects.filter(recipient=self.street_admin, channel="in_app").count(),
            EmergingIssueReport.objects.filter(unit=street).count(),
        )

    def test_the_daily_task(self):
        from xinqiao.hotline import tasks

        street = self.demo.streets[0]
        self.plant(street, "financial_hardship", base=self.BASE, last=14)
        schedule = tasks.hotline_early_warning.task_class()
        # Huey reads crontabs in UTC: 22:15 UTC is 06:15 in Shanghai.
        utc_2215 = datetime(2026, 3, 10, 22, 15)  # noqa: DTZ001 -- Huey's scheduler is naive UTC
        utc_0615 = datetime(2026, 3, 10, 6, 15)  # noqa: DTZ001
        self.assertTrue(schedule.validate_datetime(utc_2215))
        self.assertFalse(schedule.validate_datetime(utc_0615))
        with time_machine.travel(at(TODAY, 6, 15), tick=False):
            tasks.hotline_early_warning.call_local()
            tasks.hotline_early_warning.call_local()
        self.assertEqual(
            EmergingIssueReport.objects.filter(
                source_unit=street, category="financial_hardship", day=YESTERDAY
            ).count(),
            1,
        )

    def test_no_report_below_the_minimum_count(self):
        street = self.demo.streets[2]
        base = [0] * 9 + [1]
        last = early_warning.MIN_COUNT - 1
        self.plant(street, "bereavement", base=base, last=last)
        # The detector does alarm on this series: only the threshold keeps the report away.
        counts = early_warning.collect(YESTERDAY)[(street.pk, "bereavement")]
        series = early_warning.zero_filled(counts, YESTERDAY, early_warning.WINDOW_DAYS)
        self.assertIn(YESTERDAY, [a.day for a in detect(series)])
        with time_machine.travel(at(TODAY, 6, 15), tick=False):
            outcome = early_warning.run(TODAY)
        self.assertGreaterEqual(outcome.below_minimum, 1)
        self.assertFalse(EmergingIssueReport.objects.exists())


class ReportPageTests(TrendData):
    def report(self, source, unit, **fields):
        return EmergingIssueReport.objects.create(
            unit=unit,
            source_unit=source,
            category=fields.pop("category", "financial_hardship"),
            day=YESTERDAY,
            method="cusum_glm",
            observed=9,
            expected=2.5,
            score=3.1,
            series=[[(YESTERDAY - timedelta(days=i)).isoformat(), 2] for i in range(30, 0, -1)]
            + [[YESTERDAY.isoformat(), 9]],
        )

    def test_examples_hidden_from_the_street_admin_and_masked_for_the_operator(self):
        street = self.demo.streets[0]
        person = Person.objects.create(unit=self.c1, name="欧阳明月", priority_level=2)
        self.call(
            at(YESTERDAY, 10),
            area=street,
            groups=("financial_hardship",),
            person=person,
            notes="欧阳明月说：我的电话是 138-1234-5678，身份证110101199003071234，"
            "邮箱 a.b@example.com。",
        )
        street_report = self.report(street, street)
        centre_report = self.report(self.demo.hotline, self.demo.city)
        url = reverse("hotline:report", kwargs={"report_id": street_report.pk})
        page = self.client_for(self.street_admin).get(url)
        self.assertEqual(page.status_code, 200)
        self.assertFalse(page.context["show_examples"])
        for secret in ("身份证", "欧阳明月", trends.MASK_EMAIL):
            self.assertNotContains(page, secret)
        self.assertFalse(AccessLog.objects.filter(reason="examples").exists())

        url = reverse("hotline:report", kwargs={"report_id": centre_report.pk})
        page = self.client_for(self.hotline).get(url)
        self.assertEqual(page.status_code, 200)
        self.assertEqual(len(page.context["examples"]), 1)
        text = page.context["examples"][0]["text"]
        for secret in ("欧阳明月", "138-1234-5678", "110101199003071234", "a.b@example.com"):
            self.assertNotIn(secret, text)
            self.assertNotContains(page, secret)
        for mask in (trends.MASK_NAME, trends.MASK_PHONE, trends.MASK_ID, trends.MASK_EMAIL):
            self.assertIn(mask, text)
        self.assertTrue(
            AccessLog.objects.filter(
                user=self.hotline, object_id=str(centre_report.pk), reason="examples"
            ).exists()
        )
        # The operator does not see the street office's report (not their unit or source).
        street_url = reverse("hotline:report", kwargs={"report_id": street_report.pk})
        self.assertEqual(self.client_for(self.hotline).get(street_url).status_code, 404)

    def test_outside_scope_is_404(self):
        report = self.report(self.demo.streets[0], self.demo.streets[0])
        url = reverse("hotline:report", kwargs={"report_id": report.pk})
        handle = reverse("hotline:report_handle", kwargs={"report_id": report.pk})
        for user in (self.outsider, self.c2_counsellor, self.auditor):
            client = self.client_for(user)
            self.assertEqual(client.get(url).status_code, 404)
            self.assertEqual(client.post(handle, {"status": "acknowledged"}).status_code, 404)
        listed = self.client_for(self.outsider).get(reverse("hotline:reports") + "?status=all")
        self.assertEqual(listed.context["rows"], [])
        listed = self.client_for(self.street_admin).get(reverse("hotline:reports"))
        self.assertEqual([r["report"] for r in listed.context["rows"]], [report])

    def test_acknowledge_with_a_response(self):
        report = self.report(self.demo.streets[0], self.demo.streets[0])
        handle = reverse("hotline:report_handle", kwargs={"report_id": report.pk})
        client = self.client_for(self.street_admin)
        response = client.post(handle, {"status": "acknowledged", "response": "已联系社区排查"})
        self.assertEqual(response.status_code, 302)
        report.refresh_from_db()
        self.assertEqual(report.status, ReportStatus.ACKNOWLEDGED)
        self.assertEqual(report.acknowledged_by, self.street_admin)
        self.assertEqual(report.response, "已联系社区排查")
        # Back to "new" is not a transition.
        self.assertEqual(client.post(handle, {"status": "new"}).status_code, 400)
        # Seeing a report is not handling it: the counsellor of a community with a report
        # may read it (in scope) but not acknowledge it.
        local = self.report(self.c1, self.c1, category="")
        client = self.client_for(self.c1_counsellor)
        self.assertEqual(
            client.get(reverse("hotline:report", kwargs={"report_id": local.pk})).status_code, 200
        )
        local_handle = reverse("hotline:report_handle", kwargs={"report_id": local.pk})
        self.assertEqual(client.post(local_handle, {"status": "closed"}).status_code, 403)
        local.refresh_from_db()
        self.assertEqual(local.status, ReportStatus.NEW)


class MaskingTests(SimpleTestCase):
    def test_table(self):
        cases = [
            ("请回电13812345678", "请回电[电话]"),
            ("电话 138 1234 5678 谢谢", "电话 [电话] 谢谢"),
            ("座机010-87654321", "座机[电话]"),
            ("+86 13912345678", "[电话]"),
            ("证件11010119900307123X号", "证件[证件号]号"),
            ("旧证110101900307123", "旧证[证件号]"),
            ("邮件 zhang.san@mail.example.cn 收", "邮件 [邮箱] 收"),
            ("我叫李娜，睡不着", "我叫[姓名]，睡不着"),
            ("我是王芳。", "我是[姓名]。"),
            ("他姓赵，邻居", "他姓某，邻居"),
            ("隔离第3天，心情低落", "隔离第3天，心情低落"),
            ("  多个   空格\n换行 ", "多个 空格 换行"),
        ]
        for text, expected in cases:
            with self.subTest(text=text):
                self.assertEqual(trends.anonymise(text), expected)

    def test_linked_person_and_length(self):
        self.assertEqual(trends.anonymise("欧阳明月说很累", names=["欧阳明月"]), "[姓名]说很累")
        long = "很" * 500
        out = trends.anonymise(long, limit=50)
        self.assertEqual(len(out), 50)
        self.assertTrue(out.endswith("…"))


class SummaryTests(TrendData):
    MONDAY = date(2026, 3, 2)

    def build_week(self):
        centre = self.demo.hotline
        seat = Seat.objects.create(centre=centre, name="一号席")
        for i in range(7):
            day = self.MONDAY + timedelta(days=i)
            Shift.objects.create(
                seat=seat, operator=self.hotline, starts_at=at(day, 8), ends_at=at(day, 20)
            )
        self.call(at(self.MONDAY, 9, 0), groups=("negative_emotion",), minutes=10)
        self.call(at(self.MONDAY, 9, 30), groups=("negative_emotion", "body"), minutes=20)
        self.call(
            at(self.MONDAY + timedelta(days=1), 23, 30),
            groups=("isolation_stress",),
            minutes=30,
            risk="medium",
            interventions=["support", "safety_plan"],
            referral="counselling",
            callback_at=at(self.MONDAY + timedelta(days=2), 10),
            callback_done_at=at(self.MONDAY + timedelta(days=2), 10, 5),
        )
        person = Person.objects.create(unit=self.c1, name="热线来电人", priority_level=2)
        signal = RiskSignal.objects.create(
            person=person,
            unit=self.c1,
            source="hotline_call",
            level=3,
            object_type="x",
            object_id="1",
        )
        alert = Alert.objects.create(
            person=person, unit=self.c1, level=3, signal=signal, ack_deadline=at(self.MONDAY, 12)
        )
        self.call(
            at(self.MONDAY + timedelta(days=3), 14),
            groups=("crisis",),
            minutes=40,
            risk="high",
            interventions=["crisis"],
            referral="emergency",
            alert=alert,
            person=person,
        )
        self.call(at(self.MONDAY + timedelta(days=7), 9))  # next week: not counted
        self.call(at(self.MONDAY, 9), centre=self.demo.station)  # another unit: not counted
        answered = []
        for hours in (2, 4):
            m = self.message(at(self.MONDAY, 8), unit=centre)
            reply = MailboxReply.objects.create(message=m, author=self.hotline, body="回复")
            MailboxReply.objects.filter(pk=reply.pk).update(created_at=at(self.MONDAY, 8 + hours))
            answered.append(m)
        self.message(at(self.MONDAY, 8), unit=centre)  # not answered yet
        return centre

    def test_weekly_numbers(self):
        centre = self.build_week()
        s = summary.summarise(centre, "week", self.MONDAY + timedelta(days=4))
        self.assertEqual((s.start, s.end), (self.MONDAY, self.MONDAY + timedelta(days=6)))
        self.assertEqual(s.calls, 4)
        self.assertEqual(s.total_minutes, 100)
        self.assertEqual(s.median_minutes, 25.0)
        hours = {h.hour: h for h in s.hours}
        self.assertEqual(hours[9].calls, 2)
        self.assertEqual(hours[23].calls, 1)
        self.assertEqual(hours[14].calls, 1)
        self.assertEqual((hours[9].covered, hours[9].uncovered), (7, 0))
        self.assertEqual((hours[23].covered, hours[23].uncovered), (0, 7))
        self.assertEqual((hours[20].covered, hours[7].covered), (0, 0))
        self.assertEqual(s.uncovered_hours, 12 * 7)
        self.assertEqual(s.calls_in_uncovered_hours, 1)
        self.assertEqual(
            [(code, n) for code, _label, n in s.categories],
            [("negative_emotion", 2), ("body", 1), ("isolation_stress", 1), ("crisis", 1)],
        )
        high, medium = s.risk
        self.assertEqual((high.level, high.calls, high.alert_raised), ("high", 1, 1))
        self.assertEqual(dict(high.alert_status), {"open": 1})
        self.assertEqual(high.referred, 1)
        self.assertEqual((medium.calls, medium.referred, medium.alert_raised), (1, 1, 0))
        self.assertEqual((medium.callback_scheduled, medium.callback_done), (1, 1))
        self.assertEqual(dict(medium.interventions), {"support": 1, "safety_plan": 1})
        self.assertEqual(
            {code: n for code, _l, n in s.referrals}, {"none": 2, "counselling": 1, "emergency": 1}
        )
        self.assertEqual((s.messages_received, s.messages_answered), (3, 2))
        self.assertEqual(s.median_first_answer_hours, 3.0)
        month = summary.summarise(centre, "month", self.MONDAY)
        self.assertEqual((month.start, month.end), (date(2026, 3, 1), date(2026, 3, 31)))
        self.assertEqual(month.calls, 5)

    def test_page_and_excel(self):
        centre = self.build_week()
        query = f"?centre={centre.pk}&period=week&day={self.MONDAY.isoformat()}"
        client = self.client_for(self.hotline)
        page = client.get(reverse("hotline:summary") + query)
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.context["s"].calls, 4)
        self.assertContains(page, 'id="summary-hours"')
        with translation.override("en"):
            book_bytes = summary_excel.workbook(summary.summarise(centre, "week", self.MONDAY))
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(book_bytes))
        self.assertEqual(
            book.sheetnames,
            ["Volume", "By hour", "Categories", "Risk calls", "Referrals", "Mailbox"],
        )
        hours = list(book["By hour"].iter_rows(values_only=True))
        self.assertEqual(hours[0], ("Hour", "Calls", "Days with a shift", "Days without a shift"))
        self.assertEqual(hours[-1][:2], ("Total", 4))
        self.assertEqual(hours[1 + 23], ("23:00", 1, 0, 7))
        volume = dict(list(book["Volume"].iter_rows(values_only=True))[2:])
        self.assertEqual(volume["Calls"], 4)
        self.assertEqual(volume["Calls in hours without a shift on any day"], 1)
        # The download: audited, in the user's language (zh-hans here).
        response = client.get(reverse("hotline:summary_xlsx") + query)
        self.assertEqual(response.status_code, 200)
        book = load_workbook(io.BytesIO(response.content))
        with translation.override("zh-hans"):
            self.assertEqual(book.sheetnames[1], translation.gettext("By hour"))
        self.assertEqual(list(book.worksheets[1].iter_rows(values_only=True))[-1][1], 4)
        self.assertTrue(
            AccessLog.objects.filter(
                user=self.hotline, kind="export", object_id=str(centre.pk)
            ).exists()
        )
        # Bad input names the field; a street admin has no centre to choose.
        bad = client.get(reverse("hotline:summary_xlsx") + f"?centre={centre.pk}&period=year")
        self.assertEqual(bad.status_code, 400)
        self.assertIn("period", bad.content.decode())
        page = self.client_for(self.street_admin).get(reverse("hotline:summary"))
        self.assertEqual(page.context["centres"], [])
        other = self.client_for(self.street_admin).get(reverse("hotline:summary") + query)
        self.assertIn("centre", other.context["errors"])


class DemoTests(PersonaTestCase):
    def test_demo_history_shows_a_report(self):
        from xinqiao.hotline import demo, demo_trends

        with time_machine.travel(at(TODAY, 9), tick=False):
            # After the calls and roster demo, as in xinqiao.ops.demo.
            demo.populate(TODAY)
            written = demo_trends.populate(TODAY)
            self.assertGreater(written, 500)
            self.assertEqual(demo_trends.populate(TODAY), 0)  # once
        street = next(s for s in self.demo.streets if s.name == demo_trends.PLANTED_STREET)
        reports = EmergingIssueReport.objects.filter(
            source_unit=street, category=demo_trends.PLANTED_CATEGORY
        )
        self.assertEqual(reports.count(), 1)
        self.assertGreaterEqual(reports[0].day, TODAY - timedelta(days=demo_trends.PLANTED_DAYS))
        # Nothing else in the generated history is loud enough to be reported.
        self.assertFalse(
            EmergingIssueReport.objects.exclude(
                category__in=[demo_trends.PLANTED_CATEGORY, ""]
            ).exists()
        )
