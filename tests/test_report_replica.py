"""Dashboards read the aggregate tables from the reports database — a read replica in
production (DATABASE_REPORTS_URL, docs/deployment.md "Scale out") — while the access checks,
the unit tree and every write stay on the primary. Here the replica is the test database's
mirror (a second connection to it), so the test sees which connection each query took."""

from __future__ import annotations

from datetime import date

from django.db import connections
from django.test import Client, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinqiao.ops.demo import build_demo_city
from xinqiao.reports import naive, tally
from xinqiao.reports.models import Tally
from xinqiao.test import login

from .test_dashboard import page_tables

TALLY_TABLE = Tally._meta.db_table


@override_settings(XINQIAO_REPORTS_DATABASE="reports")
class ReportsReplicaTests(TransactionTestCase):
    databases = {"default", "reports"}

    def test_the_dashboard_reads_its_figures_from_the_reports_database(self):
        demo = build_demo_city(people_per_community=3)
        tally.rebuild()
        unit = demo.communities[0]
        start, end = date(2020, 1, 1), timezone.localdate()
        client = login(Client(), demo.users["c1_worker"])
        url = f"/reports/units/{unit.pk}/?period=custom&start={start}&end={end}"
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["reports"]) as replica,
        ):
            page = client.get(url)
        self.assertEqual(page.status_code, 200)
        on_replica = [q["sql"] for q in replica.captured_queries]
        on_primary = [q["sql"] for q in primary.captured_queries]
        self.assertTrue(any(TALLY_TABLE in sql for sql in on_replica))
        self.assertFalse([sql for sql in on_primary if TALLY_TABLE in sql])
        self.assertTrue(on_primary)  # the session, the user, the scope: the primary's
        # And the figures are still the naive count over the raw records.
        counts = naive.totals(unit, start, end)
        levels = {
            row[0]: row[1] for row in page_tables(page.content.decode())["people_by_level"][1:]
        }
        for level in "1234":
            expected = counts.get(("people.level", level), (0, 0))[0]
            self.assertEqual(levels.get(f"第{level}级", "0"), str(expected), level)
