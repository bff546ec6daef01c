"""Dashboards per unit (issue #9 items 1, 4, 5): pages for each level of the tree, figures equal
to the naive query over the raw tables, small counts suppressed outside the owning unit (and
not recoverable from what is shown), CSV equal to the page, bad periods, scope."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape

from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinqiao.ops.demo import build_demo_city
from xinqiao.reports import indicators, naive, periods
from xinqiao.reports.cells import suppress_table
from xinqiao.test import build_outside_city, login

from .test_report_cells import determined_by_linear_algebra

TABLE = re.compile(r'<table id="table-(?P<code>[\w-]+)">(?P<body>.*?)</table>', re.S)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """Every table of a dashboard page as rows of cell texts (header row first)."""
    tables = {}
    for m in TABLE.finditer(html):
        rows = []
        for row in ROW.findall(m.group("body")):
            rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in CELL.findall(row)])
        tables[m.group("code")] = rows
    return tables


class DashboardTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.demo = build_demo_city(people_per_community=8)
        cls.outside_city, cls.outsider = build_outside_city()
        cls.c1 = cls.demo.communities[0]
        cls.street = cls.demo.streets[0]
        cls.users = cls.demo.users

    def get(self, username: str, url: str):
        user = self.outsider if username == "outsider" else self.users[username]
        return login(Client(), user).get(url)

    def url(self, unit, **params) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"/reports/units/{unit.pk}/" + (f"?{query}" if query else "")

    def test_each_level_opens_its_own_dashboard_and_switches_period(self):
        for username, unit in (
            ("city_admin", self.demo.city),
            ("s1_admin", self.street),
            ("c1_worker", self.c1),
        ):
            with self.subTest(username):
                home = self.get(username, "/reports/")
                self.assertRedirects(home, self.url(unit))
                page = self.get(username, self.url(unit))
                self.assertContains(page, unit.name)
                for section in ("section-people", "section-assessments", "section-alerts"):
                    self.assertContains(page, f'id="{section}"')
        today = timezone.localdate()
        last = periods.named("last_month", today)
        page = self.get("s1_admin", self.url(self.street, period="last_month"))
        self.assertContains(page, f"{last.start:%Y-%m-%d}")
        self.assertContains(page, f"{last.end:%Y-%m-%d}")

    def test_the_figures_are_the_naive_query(self):
        start, end = date(2020, 1, 1), timezone.localdate()
        counts = naive.totals(self.c1, start, end)
        page = self.get("c1_worker", self.url(self.c1, period="custom", start=start, end=end))
        self.assertNotContains(page, 'id="suppression-note"')  # the community's own worker
        tables = page_tables(page.content.decode())
        levels = {row[0]: row[1] for row in tables["people_by_level"][1:]}
        for level in "1234":
            expected = counts.get(("people.level", level), (0, 0))[0]
            self.assertEqual(levels.get(f"第{level}级", "0"), str(expected), level)
        phq9 = {
            key.split("|")[1]: n
            for (m, key), (n, _a) in counts.items()
            if m == "assessment" and key.startswith("phq9|")
        }
        self.assertTrue(phq9)
        shown = tables["assessments_phq9"]
        self.assertEqual(shown[-1][-1], str(sum(phq9.values())))  # the total row
        alerts = sum(n for (m, _k), (n, _a) in counts.items() if m == "alert")
        by_level = tables["alerts_by_level"]
        self.assertEqual(by_level[-1][1], str(alerts))

    def test_small_counts_are_hidden_outside_the_owning_unit_and_cannot_be_recovered(self):
        start, end = date(2020, 1, 1), timezone.localdate()
        counts = naive.totals(self.street, start, end)
        true_levels = [counts.get(("people.level", lv), (0, 0))[0] for lv in "1234"]
        self.assertTrue(any(0 < n < 5 for n in true_levels), true_levels)  # the test bites
        board = indicators.build(unit=self.street, period=periods.Period(start, end), suppress=True)
        table = board.table("people_by_unit")
        shown = [row.cells for row in table.rows]
        self.assertTrue(any(c is None for row in shown for c in row))
        for row in shown:
            for cell in row:
                self.assertTrue(cell is None or cell == 0 or cell >= 5, shown)
        # What an attacker sees: cells and totals; no hidden cell is determined by them.
        grid = [[*row[:-1], row[-1]] for row in shown]  # the row total is the last column
        for i, row in enumerate(grid):
            for j, cell in enumerate(row):
                if cell is None:
                    self.assertFalse(determined_by_linear_algebra(grid, (i, j)), (i, j))
        # The page says "<5" where the board has None; the community's worker sees it all.
        page = self.get("s1_admin", self.url(self.street, period="custom", start=start, end=end))
        self.assertContains(page, 'id="suppression-note"')
        self.assertContains(page, "&lt;5")
        own = indicators.build(unit=self.c1, period=periods.Period(start, end), suppress=False)
        self.assertNotIn(None, [c for r in own.table("people_by_level").rows for c in r.cells])

    def test_suppression_matches_the_core(self):
        start, end = date(2020, 1, 1), timezone.localdate()
        board = indicators.build(unit=self.street, period=periods.Period(start, end), suppress=True)
        full = indicators.build(unit=self.street, period=periods.Period(start, end), suppress=False)
        table, raw = board.table("people_by_unit"), full.table("people_by_unit")
        cells = [row.cells[:-1] for row in raw.rows[:-1]]
        published = suppress_table(cells, 5)
        self.assertEqual([row.cells[:-1] for row in table.rows[:-1]], published.cells)
        self.assertEqual(table.rows[-1].cells[-1], published.total)

    def test_csv_is_the_table_on_the_page(self):
        url = self.url(self.street, period="this_year")
        tables = page_tables(self.get("s1_admin", url).content.decode())
        download = self.get(
            "s1_admin", f"/reports/units/{self.street.pk}/people_by_unit.csv?period=this_year"
        )
        self.assertEqual(download["Content-Type"], "text/csv; charset=utf-8")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        self.assertEqual(rows[1:], tables["people_by_unit"])
        missing = self.get("s1_admin", f"/reports/units/{self.street.pk}/no_such_table.csv")
        self.assertEqual(missing.status_code, 404)

    def test_bad_periods_get_a_clear_message(self):
        page = self.get(
            "c1_worker", self.url(self.c1, period="custom", start="2026-03-01", end="2026-02-01")
        )
        self.assertEqual(page.status_code, 400)
        self.assertContains(page, "结束早于开始", status_code=400)
        self.assertContains(page, 'id="e-end"', status_code=400)
        page = self.get("c1_worker", self.url(self.c1, period="custom", start="2026-13-01"))
        self.assertContains(page, 'id="e-start"', status_code=400)
        page = self.get("c1_worker", self.url(self.c1, period="every_hour"))
        self.assertEqual(page.status_code, 400)
        csv_bad = self.get(
            "c1_worker",
            f"/reports/units/{self.c1.pk}/people_by_level.csv?start=2026-03-01&end=2026-01-01",
        )
        self.assertEqual(csv_bad.status_code, 400)

    def test_long_periods_are_bucketed(self):
        year = self.get("c1_worker", self.url(self.c1, period="last_year"))
        rows = page_tables(year.content.decode())["assessments_over_time"]
        self.assertLessEqual(len(rows), 1 + 54 + 1)  # header, weeks, total
        self.assertGreater(len(rows), 50)
        ten = self.get(
            "c1_worker", self.url(self.c1, period="custom", start="2016-12-01", end="2026-11-30")
        )
        rows = page_tables(ten.content.decode())["assessments_over_time"]
        self.assertEqual(len(rows), 1 + 120 + 1)  # months, not 3,652 days
        self.assertEqual(rows[1][0], "2016-12")

    def test_scope(self):
        c1 = self.url(self.c1)
        self.assertEqual(self.get("outsider", c1).status_code, 404)
        self.assertEqual(self.get("c2_counsellor", c1).status_code, 404)
        self.assertEqual(self.get("c1_grid1", c1).status_code, 404)  # scope: the grid only
        self.assertEqual(self.get("c1_volunteer", c1).status_code, 403)
        self.assertEqual(self.get("c1_volunteer", "/reports/").status_code, 404)
        anonymous = Client().get(c1)
        self.assertEqual(anonymous.status_code, 302)
        self.assertIn("/accounts/login/", anonymous["Location"])
        outside_csv = f"/reports/units/{self.c1.pk}/people_by_level.csv"
        self.assertEqual(self.get("outsider", outside_csv).status_code, 404)

    def test_a_page_view_reads_only_the_aggregate_tables(self):
        client = login(Client(), self.users["city_admin"])
        url = self.url(self.demo.city, period="this_year")
        client.get(url)  # sessions, grants and so on warmed up
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(url).status_code, 200)
        sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
        self.assertIn("reports_tally", sql)
        for raw in ("people_person", "assessments_assessment", "risk_alert", "hotline_call"):
            self.assertNotIn(raw, sql)

    def test_today_is_counted_once_the_worker_has_run(self):
        from xinqiao.people import actions as people_actions
        from xinqiao.reports import tally

        before = naive.totals(self.c1, timezone.localdate(), timezone.localdate())
        people_actions.register_person(
            acting_user=self.users["c1_worker"], unit=self.c1, name="测试人员丁", id_type="none"
        )
        tally.refresh_all()
        after = indicators.build(
            unit=self.c1,
            period=periods.Period(timezone.localdate(), timezone.localdate()),
            suppress=False,
        )
        codes = [t.code for t in after.tables()]
        table = after.table("new_files_by_unit" if "new_files_by_unit" in codes else "new_files")
        new = table.rows[-1].cells[-1]
        self.assertEqual(new, before.get(("people.new", ""), (0, 0))[0] + 1)
