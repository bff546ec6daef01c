"""The de-identified line list (issue #9 item 4; R-PRIVACY): no personal field leaks (planted
name, phone, document number, address, notes and birth date never appear in the bytes),
pseudonyms differ between two exports, the attributes of a row, deceased / erased / archived /
unnamed files left out, the download logged with its row count, 404 outside scope and 403
without the permission or without a confidentiality agreement, the refusal under five people,
and a number of queries that does not grow with the number of people."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, resolve
from django.utils import timezone, translation

from xinqiao import urls as root_urls
from xinqiao.assessments.models import Assessment
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.followups.models import FollowUpPlan
from xinqiao.orgs.models import ConfidentialityAgreement, Unit
from xinqiao.people.models import GroupMembership, Person
from xinqiao.reports import linelist, urls_linelist, views_linelist
from xinqiao.reports.periods import Period
from xinqiao.reports.tally import local_tz
from xinqiao.risk.models import PersonRisk
from xinqiao.test import PersonaTestCase


def _installed() -> bool:
    try:
        return resolve(f"/reports/units/{uuid.uuid4()}/line-list.csv").url_name == "line_list"
    except Exception:
        return False


# Until xinqiao/reports/urls.py includes the route, the tests mount it themselves (before the
# dashboard's "<slug:table>.csv", which would take "line-list.csv").
urlpatterns = [
    path("reports/", include((urls_linelist.urlpatterns, "reports_linelist"))),
    *root_urls.urlpatterns,
]
URLCONF = "xinqiao.urls" if _installed() else __name__

# Generated personal data planted in the files (not real people).
PLANTED = {
    "name": "植入姓名XQ甲",
    "phone": "17012345678",
    "id_number": "XQPLANT0000001",
    "address": "植入路99号XQ小区",
    "notes": "植入备注XQ自由文本",
    "contact_name": "植入联系人XQ",
    "contact_phone": "17087654321",
}
BORN = date(1961, 7, 15)


def url(unit: Unit) -> str:
    return f"/reports/units/{unit.pk}/line-list.csv"


def moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_tz())


def assess(person: Person, instrument: str, band: str, day: date, **fields) -> Assessment:
    return Assessment.objects.create(
        person=person,
        unit=person.unit,
        instrument=instrument,
        mode="staff",
        status=fields.pop("status", "completed"),
        answers=[],
        raw=0,
        total=0,
        band_code=band,
        band_index=0,
        intervention="none",
        completed_at=moment(day),
        **fields,
    )


def add_people(unit: Unit, n: int, prefix: str) -> list[Person]:
    people = [
        Person.objects.create(
            unit=unit,
            name=f"{prefix}{i}",
            sex="male" if i % 2 else "female",
            birth_date=date(1990 + i, 3, 1) if i % 3 else None,
            priority_level=4,
            id_type="none",
        )
        for i in range(n)
    ]
    for person in people:
        GroupMembership.objects.create(
            person=person, group="general_public", date_from=date(2026, 1, 1)
        )
    return people


def parse(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@override_settings(ROOT_URLCONF=URLCONF)
class LineListTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        today = timezone.localdate()
        cls.today = today
        grid = cls.demo.grids[1][0]
        cls.planted = Person.objects.create(
            unit=grid,
            sex="female",
            birth_date=BORN,
            priority_level=1,
            id_type="other",
            **PLANTED,
        )
        for group in ("confirmed_patient", "family_of_patient"):
            GroupMembership.objects.create(person=cls.planted, group=group, date_from=today)
        # An ended membership is not a current group.
        GroupMembership.objects.create(
            person=cls.planted,
            group="student",
            date_from=date(2020, 1, 1),
            date_to=date(2021, 1, 1),
        )
        PersonRisk.objects.create(person=cls.planted, level=1, since=timezone.now())
        FollowUpPlan.objects.create(
            person=cls.planted,
            interval_days=7,
            rule="risk_level",
            changed_on=today,
            next_due=today + timedelta(days=7),
        )
        # The period is [today − 30, today − 2]: one PHQ-9 before it, one in it (the latest),
        # a GAD-7 after it and one entered in error in it — one completed in the period.
        cls.period = Period(today - timedelta(days=30), today - timedelta(days=2))
        assess(cls.planted, "phq9", "mild", today - timedelta(days=60))
        assess(cls.planted, "phq9", "severe", today - timedelta(days=10))
        assess(cls.planted, "gad7", "moderate", today - timedelta(days=1))
        assess(
            cls.planted,
            "phq9",
            "moderately_severe",
            today - timedelta(days=3),
            status="entered_in_error",
        )
        cls.others = add_people(cls.c1, 5, "线表测试")
        # Not under service: never in the list.
        excluded = add_people(cls.c1, 4, "不在名单")
        Person.objects.filter(pk=excluded[0].pk).update(
            is_deceased=True, date_of_death=today - timedelta(days=3)
        )
        Person.objects.filter(pk=excluded[1].pk).update(status="erased", erased_at=timezone.now())
        Person.objects.filter(pk=excluded[2].pk).update(status="archived")
        Person.objects.filter(pk=excluded[3].pk).update(unnamed_contact=True)
        cls.excluded = excluded
        add_people(cls.c2, 3, "小社区")  # fewer than five

    def query(self) -> dict[str, str]:
        return {
            "period": "custom",
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
        }

    def download(self, user, unit: Unit, **query) -> tuple[int, bytes]:
        response = self.client_for(user).get(url(unit), query or self.query())
        return response.status_code, response.content

    # --- what is in it ------------------------------------------------------------------------

    def test_no_personal_field_leaks(self):
        status, content = self.download(self.c1_worker, self.c1)
        self.assertEqual(status, 200)
        text = content.decode("utf-8")
        for field, value in PLANTED.items():
            with self.subTest(field=field):
                self.assertNotIn(value, text)
        for person in [self.planted, *self.others]:
            self.assertNotIn(person.name, text)
            self.assertNotIn(str(person.pk), text)
            self.assertNotIn(person.pk.hex, text)
            self.assertNotIn(str(person.pk)[:8], text)  # the people export's code
        self.assertNotIn(BORN.isoformat(), text)
        self.assertNotIn(BORN.strftime("%Y%m%d"), text)
        # Only the documented columns (the instrument columns are the ones used).
        with translation.override("zh-hans"):
            header = parse(content)[0]
        self.assertEqual(len(header), 9 + 1)  # eight fixed, PHQ-9, community

    def test_rows_and_attributes(self):
        with translation.override("en"):
            result = linelist.build(unit=self.c1, period=self.period, today=self.today)
            rows = parse(linelist.to_csv(result))
        header, body = rows[0], rows[1:]
        self.assertEqual(
            header,
            [
                "Pseudonym",
                "Age band",
                "Sex",
                "Target groups",
                "Priority level",
                "Risk level",
                "On a follow-up plan",
                "Assessments completed in the period",
                "Patient Health Questionnaire-9 (PHQ-9): latest band",
                "Community",
            ],
        )
        self.assertEqual(len(body), 6)  # the planted person and five others; none excluded
        row = dict(zip(header, next(r for r in body if r[4] == "1"), strict=True))
        age = self.today.year - BORN.year - ((self.today.month, self.today.day) < (7, 15))
        low = age // 5 * 5
        self.assertEqual(row["Age band"], f"{low}-{low + 4}")
        self.assertEqual(row["Sex"], "Female")
        self.assertEqual(row["Target groups"], "Confirmed patient、Family of a patient")
        self.assertEqual(row["Risk level"], "Level 1 · crisis")
        self.assertEqual(row["On a follow-up plan"], "On a plan")
        self.assertEqual(row["Assessments completed in the period"], "1")
        self.assertEqual(row["Patient Health Questionnaire-9 (PHQ-9): latest band"], "Severe")
        self.assertEqual(row["Community"], self.c1.name)  # the grid's community
        self.assertEqual(len(row["Pseudonym"]), 16)
        for other in body:
            if other is not row:
                self.assertIn(other[6], ("On a plan", "No plan"))
        plain = [dict(zip(header, r, strict=True)) for r in body if r[4] == "4"]
        self.assertEqual(len(plain), 5)
        for r in plain:
            self.assertEqual(r["Target groups"], "General public")
            self.assertEqual(r["Risk level"], "")
            self.assertEqual(r["On a follow-up plan"], "No plan")
            self.assertEqual(r["Assessments completed in the period"], "0")
        self.assertEqual(sorted(r[0] for r in body), [r[0] for r in body])  # pseudonym order

    def test_a_street_lists_its_communities(self):
        street = self.c1.parent
        status, content = self.download(self.street_admin, street)
        self.assertEqual(status, 200)
        body = parse(content)[1:]
        self.assertEqual(len(body), 6 + 3)
        communities = sorted({r[-1] for r in body})
        self.assertEqual(communities, sorted([self.c1.name, self.c2.name]))

    def test_pseudonyms_differ_between_exports(self):
        first = {r[0] for r in parse(self.download(self.c1_worker, self.c1)[1])[1:]}
        second = {r[0] for r in parse(self.download(self.c1_worker, self.c1)[1])[1:]}
        self.assertEqual(len(first), 6)
        self.assertEqual(len(second), 6)
        self.assertEqual(first & second, set())

    def test_pseudonym_and_age_band(self):
        person = uuid.uuid4()
        salt = b"s" * 32
        self.assertEqual(linelist.pseudonym(salt, person), linelist.pseudonym(salt, person))
        self.assertNotEqual(linelist.pseudonym(salt, person), linelist.pseudonym(b"t" * 32, person))
        on = date(2026, 5, 31)
        self.assertEqual(linelist.age_band(None, on), "")
        self.assertEqual(linelist.age_band(date(2026, 1, 1), on), "0-4")
        self.assertEqual(linelist.age_band(date(2021, 6, 1), on), "0-4")  # 4 until tomorrow
        self.assertEqual(linelist.age_band(date(2021, 5, 31), on), "5-9")
        self.assertEqual(linelist.age_band(date(2000, 6, 1), on), "25-29")
        self.assertEqual(linelist.age_band(date(1941, 6, 1), on), "80-84")
        self.assertEqual(linelist.age_band(date(1941, 5, 31), on), "85+")
        self.assertEqual(linelist.age_band(date(1920, 1, 1), on), "85+")
        self.assertEqual(linelist.safe_text("=HYPERLINK(1)"), "'=HYPERLINK(1)")
        self.assertEqual(linelist.safe_text("东湖社区"), "东湖社区")

    # --- the access log -----------------------------------------------------------------------

    def test_every_download_is_logged_with_its_row_count(self):
        self.download(self.c1_worker, self.c1)
        self.download(self.c1_worker, self.c1)
        entries = AccessLog.objects.filter(object_type=views_linelist.OBJECT_TYPE)
        self.assertEqual(entries.count(), 2)
        entry = entries.first()
        self.assertEqual(entry.kind, AccessKind.EXPORT)
        self.assertEqual(entry.user, self.c1_worker)
        self.assertEqual(entry.object_id, str(self.c1.pk))
        self.assertEqual(entry.unit_path, self.c1.path)
        self.assertIn("6 rows", entry.reason)
        for value in [*PLANTED.values(), self.planted.name, str(self.planted.pk)]:
            self.assertNotIn(value, entry.reason)

    # --- who may -------------------------------------------------------------------------------

    def test_outside_scope_404_without_permission_403(self):
        grid = self.demo.grids[1][0]
        cases = [
            (self.outsider, self.c1, 404),
            (self.c2_counsellor, self.c1, 404),
            (self.c1_grid, self.c1, 404),  # a grid worker's units are their grid
            (self.street_admin, self.c3, 404),
            (self.c1_counsellor, self.c1, 403),  # report.view, not report.line_list
            (self.c1_grid, grid, 403),
            (self.auditor, self.c1, 403),
            (self.volunteer, self.c1, 403),
            (self.city_admin, self.c1, 200),
            (self.street_admin, self.c1, 200),
            (self.c1_worker, self.c1, 200),
        ]
        for user, unit, code in cases:
            with self.subTest(user=user.username, unit=unit.name):
                status, content = self.download(user, unit)
                self.assertEqual(status, code)
                if code != 200:
                    self.assertNotIn(b"\xef\xbb\xbf", content)  # no CSV
        missing = self.client_for(self.city_admin).get(
            f"/reports/units/{uuid.uuid4()}/line-list.csv"
        )
        self.assertEqual(missing.status_code, 404)
        self.assertFalse(
            AccessLog.objects.filter(
                object_type=views_linelist.OBJECT_TYPE, user=self.c1_counsellor
            ).exists()
        )

    def test_anonymous_is_sent_to_sign_in_and_post_is_refused(self):
        response = Client().get(url(self.c1))
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
        self.assertEqual(self.client_for(self.c1_worker).post(url(self.c1)).status_code, 405)

    def test_no_confidentiality_agreement_no_list(self):
        ConfidentialityAgreement.objects.filter(user=self.c1_worker).update(
            revoked_at=timezone.now()
        )
        status, _content = self.download(self.c1_worker, self.c1)
        self.assertEqual(status, 403)

    def test_fewer_than_five_people_is_refused(self):
        # R-PRIVACY: three people in c2 — a list that small would identify them.
        for user in (self.street_admin, self.demo.users["c2_worker"]):
            with self.subTest(user=user.username):
                response = self.client_for(user).get(url(self.c2), self.query())
                self.assertEqual(response.status_code, 409)
                text = response.content.decode()
                self.assertIn(self.c2.name, text)
                self.assertIn("5", text)
                self.assertNotIn("小社区", text)
        self.assertFalse(AccessLog.objects.filter(object_type=views_linelist.OBJECT_TYPE).exists())
        with self.assertRaises(linelist.TooFewPeople) as refused:
            linelist.build(unit=self.c2, period=self.period, today=self.today)
        self.assertEqual((refused.exception.count, refused.exception.floor), (3, 5))

    def test_the_floor_counts_people_under_service_only(self):
        # c2 has three; adding two who are not under service does not reach the floor.
        extra = add_people(self.c2, 2, "不算")
        Person.objects.filter(pk__in=[p.pk for p in extra]).update(is_deceased=True)
        with self.assertRaises(linelist.TooFewPeople):
            linelist.build(unit=self.c2, period=self.period, today=self.today)
        Person.objects.filter(pk__in=[p.pk for p in extra]).update(is_deceased=False)
        self.assertEqual(len(linelist.build(unit=self.c2, period=self.period, today=self.today)), 5)

    def test_bad_period_400(self):
        status, content = self.download(
            self.c1_worker, self.c1, period="custom", start="2026-03-10", end="2026-03-01"
        )
        self.assertEqual(status, 400)
        self.assertTrue(content.decode().startswith("end: "))

    # --- batched -------------------------------------------------------------------------------

    def test_queries_do_not_grow_with_the_people(self):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                linelist.build(unit=self.c1, period=self.period, today=self.today)
            return len(queries)

        before = count()
        for person in add_people(self.c1, 20, "批量"):
            PersonRisk.objects.create(person=person, level=3, since=timezone.now())
            assess(person, "gad7", "mild", self.today - timedelta(days=5))
            assess(person, "phq9", "minimal", self.today - timedelta(days=6))
        self.assertEqual(count(), before)
        self.assertLessEqual(before, 8)
        self.assertEqual(
            len(linelist.build(unit=self.c1, period=self.period, today=self.today)), 26
        )
