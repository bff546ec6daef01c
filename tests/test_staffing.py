"""Staffing rule for isolation (seed 002 篇6 三(三)2: 6–9 qualified staff per 200 people)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from xinqiao.orgs.staffing import isolation_staffing
from xinqiao.people.models import IsolationRecord, Person
from xinqiao.test import PersonaTestCase


@pytest.mark.parametrize(
    ("isolated", "qualified", "low", "high", "short"),
    [
        (0, 0, 0, 0, 0),
        (1, 0, 1, 1, 1),
        (200, 6, 6, 9, 0),
        (200, 5, 6, 9, 1),
        (201, 6, 7, 10, 1),
        (400, 20, 12, 18, 0),
    ],
)
def test_recommended_staff(isolated, qualified, low, high, short):
    check = isolation_staffing(isolated, qualified)
    assert (check.needed_min, check.needed_max, check.short_by) == (low, high, short)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        isolation_staffing(-1, 0)


class WorkbenchStaffingTests(PersonaTestCase):
    def test_street_workbench_shows_isolation_staffing(self):
        today = timezone.localdate()
        for i in range(300):
            person = Person.objects.create(unit=self.c1, name=f"隔离{i}")
            IsolationRecord.objects.create(
                person=person,
                kind="centralised",
                place="集中隔离点",
                started_on=today - timedelta(days=2),
            )
        page = self.client_for(self.street_admin).get("/")
        staffing = page.context["staffing"]
        self.assertEqual(staffing.isolated, 300)
        self.assertEqual(staffing.needed_min, 9)
        self.assertGreater(staffing.qualified, 0)
        self.assertIsNone(self.client_for(self.c2_counsellor).get("/").context["staffing"])
