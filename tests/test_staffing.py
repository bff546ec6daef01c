"""Staffing rule for isolation (seed 002 篇6 三(三)2: 6–9 qualified staff per 200 people)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinqiao.accounts.models import User
from xinqiao.orgs import actions as orgs_actions
from xinqiao.orgs.models import Membership, StaffProfile, Team, TeamMember, Unit
from xinqiao.orgs.staffing import isolation_staffing
from xinqiao.people import actions as people_actions
from xinqiao.people.models import IsolationRecord, Person
from xinqiao.test import PersonaTestCase
from xinqiao.workbench.staffing import site_staffing


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


class SiteAndTeamStaffingTests(PersonaTestCase):
    """R-TEAM: an isolation site's page shows its own check; communities short of a 3–5
    team are warned (seed 000 三(二); seed 002 篇6 三(三)2)."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        street = cls.c1.parent
        cls.site = orgs_actions.create_unit(
            acting_user=cls.city_admin, parent=street, kind="isolation_site", name="东湖隔离点"
        )

    def _isolate(self, n: int, site=None) -> None:
        today = timezone.localdate()
        for i in range(n):
            person = Person.objects.create(unit=self.c1, name=f"隔离点{i}")
            IsolationRecord.objects.create(
                person=person,
                kind="centralised",
                place="东湖隔离点",
                site=site or self.site,
                started_on=today - timedelta(days=1),
            )

    def _staff_site(self, n: int, qualification: str = "counsellor_l2") -> None:
        for i in range(n):
            user = User.objects.create_user(
                username=f"isolation_counsellor{i}", name=f"隔离点咨询师{i}"
            )
            Membership.objects.create(user=user, unit=self.site, role="counsellor")
            StaffProfile.objects.create(user=user, qualification=qualification)

    def test_site_page_shows_its_check(self):
        self._isolate(200)
        self._staff_site(5)
        self._staff_site(0)
        page = self.client_for(self.street_admin).get(f"/org/units/{self.site.pk}/")
        check = page.context["site_check"]
        self.assertEqual((check.isolated, check.qualified, check.short_by), (200, 5, 1))
        self.assertContains(page, '<p class="warn" role="status">')

    def test_unqualified_staff_and_ended_isolation_do_not_count(self):
        self._isolate(10)
        ended = IsolationRecord.objects.filter(site=self.site).first()
        ended.ended_on = timezone.localdate() - timedelta(days=1)
        ended.started_on = ended.ended_on
        ended.save()
        user = User.objects.create_user(username="untrained", name="未持证")
        Membership.objects.create(user=user, unit=self.site, role="social_worker")
        StaffProfile.objects.create(user=user)
        check = site_staffing(self.site, timezone.localdate())
        self.assertEqual((check.isolated, check.qualified), (9, 0))

    def test_overview_lists_sites_and_short_teams(self):
        self._isolate(3)
        team = Team.objects.get(unit=self.c1, kind="community")
        TeamMember.objects.filter(team=team).delete()
        Team.objects.filter(unit=self.c2, kind="community").update(is_active=False)
        page = self.client_for(self.street_admin).get("/org/staffing/")
        rows = {c.community.name: c for c in page.context["communities"]}
        self.assertIn("3–5", rows[self.c1.name].problem)
        self.assertIn("尚未组建", rows[self.c2.name].problem)
        self.assertEqual([s.site for s in page.context["sites"]], [self.site])
        unit_page = self.client_for(self.street_admin).get(f"/org/units/{self.c1.pk}/")
        self.assertIn("3–5", unit_page.context["team_problem"])
        # Another city's administrator sees none of it.
        other = self.client_for(self.outsider).get("/org/staffing/")
        self.assertEqual(other.context["sites"], [])
        self.assertNotIn(self.c1.name, other.content.decode())

    def test_isolation_at_a_site_is_recorded_and_checked(self):
        today = timezone.localdate()
        person = Person.objects.create(unit=self.c1, name="隔离点登记")
        record = people_actions.record_isolation(
            acting_user=self.c1_worker,
            person=person,
            kind="centralised",
            place="东湖隔离点",
            site=self.site,
            started_on=today,
        )
        self.assertEqual(record.site, self.site)
        with self.assertRaises(ValidationError) as refused:
            people_actions.record_isolation(
                acting_user=self.c1_worker,
                person=person,
                kind="home",
                place="家中",
                site=self.site,
                started_on=today,
            )
        self.assertIn("site", refused.exception.message_dict)
        other_site = Unit(kind="isolation_site", name="外隔离点", parent=self.outside_city)
        other_site.path = f"{self.outside_city.path}{other_site.id.hex}/"
        other_site.depth = 1
        other_site.save()
        with self.assertRaises(ValidationError):
            people_actions.record_isolation(
                acting_user=self.c1_worker,
                person=person,
                kind="centralised",
                place="外地",
                site=other_site,
                started_on=today,
            )
        self.assertEqual(IsolationRecord.objects.filter(person=person).count(), 1)


class CaseloadTests(PersonaTestCase):
    def test_caseload_counts_plans_sessions_and_upcoming_appointments(self):
        from xinqiao.booking.models import Appointment
        from xinqiao.counselling.models import Session, SessionParticipant
        from xinqiao.followups.models import FollowUpPlan
        from xinqiao.workbench.staffing import caseloads

        now = timezone.now()
        today = timezone.localdate()
        people = [Person.objects.create(unit=self.c1, name=f"个案{i}") for i in range(3)]
        for person in people[:2]:
            FollowUpPlan.objects.create(
                person=person,
                interval_days=30,
                rule="risk_level",
                changed_on=today,
                next_due=today,
                responsible=self.c1_counsellor,
            )
        for days_ago in (5, 10, 200):  # the last one is outside the window
            session = Session.objects.create(
                unit=self.c1,
                kind="individual",
                format="offline",
                held_at=now - timedelta(days=days_ago),
                counsellor=self.c1_counsellor,
                recorded_by=self.c1_counsellor,
            )
            SessionParticipant.objects.create(
                session=session, person=people[2] if days_ago == 200 else people[0]
            )
        for hours, status in ((24, "booked"), (48, "cancelled"), (-24, "booked")):
            Appointment.objects.create(
                unit=self.c1,
                counsellor=self.c1_counsellor,
                person=people[1],
                starts_at=now + timedelta(hours=hours),
                ends_at=now + timedelta(hours=hours, minutes=50),
                status=status,
                channel="staff",
            )
        rows = {r.counsellor: r for r in caseloads(self.street_admin, now)}
        mine = rows[self.c1_counsellor]
        self.assertEqual((mine.responsible_for, mine.counselled, mine.upcoming), (2, 1, 1))
        self.assertEqual(rows[self.c2_counsellor].responsible_for, 0)
        self.assertNotIn(
            self.c2_counsellor, {r.counsellor for r in caseloads(self.c1_counsellor, now)}
        )
        page = self.client_for(self.street_admin).get("/org/staffing/")
        self.assertContains(page, self.c1_counsellor.name)
