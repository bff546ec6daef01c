"""Open data (issue #9 item 6): the aggregates as JSON through the API and as an indicator
export in the long CSV layout of docs/open-data.md, suppressed whoever pulls them — also the
community's own worker, who sees the same figures in full on the dashboard (R-PRIVACY);
token authentication; 401, 404, 403 and 400 with the field in error, in the caller's
language."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

from django.test import Client, override_settings
from django.urls import include, path, resolve
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao import urls as root_urls
from xinqiao.accounts.actions import issue_api_token
from xinqiao.accounts.models import User
from xinqiao.audit.models import AccessLog
from xinqiao.orgs.models import Unit
from xinqiao.people.models import GroupMembership, Person
from xinqiao.reports import api, api_urls, indicators, tally
from xinqiao.reports.access import must_suppress
from xinqiao.reports.periods import Period
from xinqiao.reports.tables import as_json
from xinqiao.test import PersonaTestCase


def _installed() -> bool:
    try:
        return resolve("/api/v1/reports/units/").url_name == "report_units"
    except Exception:
        return False


# Until xinqiao/urls.py includes the routes, the tests mount them themselves.
urlpatterns = [
    path("api/v1/reports/", include((api_urls.urlpatterns, "api_reports"))),
    *root_urls.urlpatterns,
]
URLCONF = "xinqiao.urls" if _installed() else __name__

BASE = "/api/v1/reports/units/"


def indicators_url(unit: Unit, suffix: str = "") -> str:
    return f"{BASE}{unit.pk}/indicators{suffix}"


@override_settings(ROOT_URLCONF=URLCONF)
class OpenDataTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        grid = cls.demo.grids[1][0]
        # c1: seven people at level 4 and two at level 1 (a count to hide).
        for i in range(9):
            person = Person.objects.create(
                unit=grid,
                name=f"开放数据测试{i}",
                sex="female" if i % 2 else "male",
                birth_date=date(1980 + i, 1, 1),
                priority_level=1 if i < 2 else 4,
                id_type="none",
            )
            GroupMembership.objects.create(
                person=person,
                group="confirmed_patient" if i < 2 else "general_public",
                date_from=date(2026, 1, 1),
            )
        tally.refresh_all()
        cls.token_raw = {}
        for user in (cls.c1_worker, cls.street_admin, cls.c1_grid, cls.outsider):
            _token, raw = issue_api_token(user=user, name="open data")
            cls.token_raw[user.username] = raw

    def token_client(self, user: User) -> Client:
        if user.username not in self.token_raw:  # a role without API tokens (the auditor)
            return self.client_for(user)
        return Client(HTTP_AUTHORIZATION=f"Token {self.token_raw[user.username]}")

    def period(self) -> tuple[Period, dict[str, str]]:
        today = timezone.localdate()
        start = today - timedelta(days=30)
        return Period(start, today), {"start": start.isoformat(), "end": today.isoformat()}

    # --- JSON ---------------------------------------------------------------------------------

    def test_json_is_the_suppressed_dashboard(self):
        period, query = self.period()
        response = self.token_client(self.c1_worker).get(indicators_url(self.c1), query)
        self.assertEqual(response.status_code, 200, response.content)
        with translation.override("zh-hans"):
            expected = as_json(indicators.build(unit=self.c1, period=period, suppress=True))
        self.assertEqual(response.json(), expected)
        self.assertTrue(response.json()["suppressed"])

    def test_small_count_hidden_even_for_the_communitys_own_worker(self):
        # On the dashboard, the worker of the community that owns the people sees them all ...
        self.assertFalse(must_suppress(self.c1_worker, self.c1))
        period, query = self.period()
        full = indicators.build(unit=self.c1, period=period, suppress=False)
        self.assertEqual(full.table("people_by_level").rows[0].cells, [2])  # level 1
        # ... but what leaves the platform is suppressed.
        body = self.token_client(self.c1_worker).get(indicators_url(self.c1), query).json()
        tables = {t["code"]: t for s in body["sections"] for t in s["tables"]}
        level_1 = next(r for r in tables["people_by_level"]["rows"] if r["code"] == "1")
        self.assertEqual(level_1["cells"], [None])
        self.assertNotIn(2, [c for r in tables["people_by_level"]["rows"] for c in r["cells"]])
        csv_response = self.token_client(self.c1_worker).get(indicators_url(self.c1, ".csv"), query)
        rows = self.csv_rows(csv_response.content)
        cell = next(r for r in rows if r["table"] == "people_by_level" and r["row_code"] == "1")
        self.assertEqual(cell["value"], "<5")
        totals = [r["value"] for r in rows if r["table"] == "people_by_level"]
        self.assertNotIn("2", totals)

    def test_a_pull_is_logged_without_personal_data(self):
        _period, query = self.period()
        self.token_client(self.street_admin).get(indicators_url(self.c1), query)
        entry = AccessLog.objects.get(object_type=api.OBJECT_TYPE)
        self.assertEqual(entry.object_id, str(self.c1.pk))
        self.assertEqual(entry.user, self.street_admin)
        self.assertIn(query["start"], entry.reason)

    # --- authentication, scope, permission, bad input -----------------------------------------

    def test_without_a_token_401(self):
        for url in (BASE, indicators_url(self.c1), indicators_url(self.c1, ".csv")):
            with self.subTest(url=url):
                response = Client().get(url)
                self.assertEqual(response.status_code, 401)
                self.assertNotIn(self.c1.name, response.content.decode())
        bad = Client(HTTP_AUTHORIZATION="Token not-a-token").get(indicators_url(self.c1))
        self.assertEqual(bad.status_code, 401)

    def test_session_works_too(self):
        response = self.client_for(self.street_admin).get(indicators_url(self.c1))
        self.assertEqual(response.status_code, 200)

    def test_outside_scope_404_inside_without_permission_403(self):
        cases = [
            (self.outsider, self.c1, 404),
            (self.c1_worker, self.c2, 404),
            (self.c1_grid, self.c1, 404),  # a grid worker's units are their grid
            (self.c1_grid, self.demo.grids[1][0], 403),  # no report.view
            (self.auditor, self.c1, 403),
            (self.street_admin, self.c3, 404),
        ]
        for user, unit, code in cases:
            for suffix in ("", ".csv"):
                with self.subTest(user=user.username, unit=unit.name, suffix=suffix):
                    response = self.token_client(user).get(indicators_url(unit, suffix))
                    self.assertEqual(response.status_code, code)
                    self.assertNotIn("sections", response.content.decode())
        missing = self.token_client(self.street_admin).get(f"{BASE}{uuid.uuid4()}/indicators")
        self.assertEqual(missing.status_code, 404)

    def test_bad_periods_name_the_field(self):
        client = self.token_client(self.c1_worker)
        cases = [
            ({"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "end"),
            ({"period": "custom", "start": "10/03/2026", "end": "2026-03-20"}, "start"),
            ({"period": "custom", "end": "2026-03-20"}, "start"),
            ({"period": "fortnight"}, "period"),
            ({"start": "2016-01-01", "end": "2026-03-01"}, "end"),  # longer than ten years
        ]
        for query, field in cases:
            for suffix in ("", ".csv"):
                with self.subTest(query=query, suffix=suffix):
                    response = client.get(indicators_url(self.c1, suffix), query)
                    self.assertEqual(response.status_code, 400)
                    self.assertEqual(list(response.json()), [field])
                    self.assertEqual(len(response.json()[field]), 1)

    def test_errors_in_the_callers_language(self):
        query = {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}
        with translation.override("zh-hans"):
            chinese = _("The period ends before it starts.")
        english = "The period ends before it starts."
        self.assertNotEqual(chinese, english)
        client = self.token_client(self.c1_worker)
        self.assertEqual(client.get(indicators_url(self.c1), query).json(), {"end": [chinese]})
        User.objects.filter(pk=self.c1_worker.pk).update(language="en")
        self.assertEqual(client.get(indicators_url(self.c1), query).json(), {"end": [english]})
        # A request that asks for a language gets it, whatever the account says.
        asked = client.get(indicators_url(self.c1), query, HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertEqual(asked.json(), {"end": [chinese]})
        self.assertEqual(asked["Content-Language"], "zh-hans")
        # The caller's language does not stay active after the answer.
        self.assertEqual(translation.get_language(), "zh-hans")

    def test_labels_in_the_callers_language(self):
        User.objects.filter(pk=self.c1_worker.pk).update(language="en")
        body = self.token_client(self.c1_worker).get(indicators_url(self.c1)).json()
        titles = [t["title"] for s in body["sections"] for t in s["tables"]]
        self.assertIn("People under service now, by priority level", titles)

    # --- units --------------------------------------------------------------------------------

    def test_units_the_caller_may_pull(self):
        page = self.token_client(self.street_admin).get(BASE).json()
        self.assertEqual(set(page), {"count", "next", "results"})
        ids = {u["id"] for u in page["results"]}
        street = self.c1.parent
        self.assertIn(str(street.pk), ids)
        self.assertIn(str(self.c1.pk), ids)
        self.assertIn(str(self.c2.pk), ids)
        self.assertNotIn(str(self.c3.pk), ids)
        self.assertNotIn(str(self.demo.city.pk), ids)
        c1 = next(u for u in page["results"] if u["id"] == str(self.c1.pk))
        self.assertEqual(
            c1,
            {
                "id": str(self.c1.pk),
                "name": self.c1.name,
                "kind": "community",
                "code": self.c1.code,
                "parent": str(street.pk),
            },
        )
        # Every unit listed can be pulled.
        for unit_id in ids:
            with self.subTest(unit=unit_id):
                got = self.token_client(self.street_admin).get(f"{BASE}{unit_id}/indicators")
                self.assertEqual(got.status_code, 200)
        self.assertEqual(self.token_client(self.c1_grid).get(BASE).json()["count"], 0)
        self.assertEqual(self.token_client(self.auditor).get(BASE).json()["count"], 0)
        outsider = {u["id"] for u in self.token_client(self.outsider).get(BASE).json()["results"]}
        self.assertIn(str(self.outside_city.pk), outsider)
        self.assertNotIn(str(self.c1.pk), outsider)
        small = self.token_client(self.street_admin).get(BASE, {"page_size": 2}).json()
        self.assertEqual(len(small["results"]), 2)
        self.assertIn("page=2", small["next"])

    # --- CSV ----------------------------------------------------------------------------------

    @staticmethod
    def csv_rows(content: bytes) -> list[dict[str, str]]:
        text = content.decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(text[1:])))

    def test_csv_layout(self):
        Unit.objects.filter(pk=self.c1.pk).update(code="370281001001")
        period, query = self.period()
        response = self.token_client(self.c1_worker).get(indicators_url(self.c1, ".csv"), query)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/csv"))
        self.assertIn("attachment", response["Content-Disposition"])
        content = response.content
        self.assertTrue(content.startswith("\ufeff".encode()))
        header = next(csv.reader(io.StringIO(content.decode("utf-8")[1:])))
        self.assertEqual(
            header,
            [
                "unit_id",
                "unit_code",
                "unit_name",
                "period_start",
                "period_end",
                "section",
                "table",
                "row_code",
                "row_label",
                "column_index",
                "column",
                "value",
            ],
        )
        rows = self.csv_rows(content)
        body = self.token_client(self.c1_worker).get(indicators_url(self.c1), query).json()
        expected = []
        for s in body["sections"]:
            for t in s["tables"]:
                for r in t["rows"]:
                    for i, cell in enumerate(r["cells"]):
                        value = (
                            "<5"
                            if cell is None
                            else ""
                            if cell == indicators.NOT_APPLICABLE
                            else str(cell)
                        )
                        expected.append(
                            (
                                s["code"],
                                t["code"],
                                r["code"],
                                r["label"],
                                str(i),
                                t["columns"][i],
                                value,
                            )
                        )
        got = [
            (
                r["section"],
                r["table"],
                r["row_code"],
                r["row_label"],
                r["column_index"],
                r["column"],
                r["value"],
            )
            for r in rows
        ]
        self.assertEqual(got, expected)
        self.assertGreater(len(rows), 10)
        for r in rows:
            self.assertEqual(r["unit_id"], str(self.c1.pk))
            self.assertEqual(r["unit_code"], "370281001001")
            self.assertEqual(r["unit_name"], self.c1.name)
            self.assertEqual((r["period_start"], r["period_end"]), (query["start"], query["end"]))
        self.assertEqual(period.start.isoformat(), query["start"])

    def test_csv_values(self):
        self.assertEqual(api.csv_value(None, 5), "<5")
        self.assertEqual(api.csv_value(None, 10), "<10")
        self.assertEqual(api.csv_value(indicators.NOT_APPLICABLE, 5), "")
        self.assertEqual(api.csv_value(0, 5), "0")
        self.assertEqual(api.csv_value(12, 5), "12")
        self.assertEqual(api.csv_value(1 / 3, 5), "0.3333")
        self.assertEqual(api.csv_value("=1+1", 5), "'=1+1")

    def test_csv_errors_as_text_when_asked_for_csv(self):
        response = self.token_client(self.c1_worker).get(
            indicators_url(self.c1, ".csv"), {"period": "fortnight"}, HTTP_ACCEPT="text/csv"
        )
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response["Content-Type"].startswith("text/csv"))
        self.assertTrue(response.content.decode().startswith("period: "))
