"""Follow-up plans and visits (R-FOLLOW): rescheduling, visits and bad input, could-not-reach
and escalation, the due/overdue lists and the supervisor's counts, scope, the daily job."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.people_data import resident_id
from xinqiao.assessments import actions as assessment_actions
from xinqiao.followups import actions, schedule, stats, tasks
from xinqiao.followups.models import FollowUpPlan, FollowUpVisit
from xinqiao.notify.models import Notification
from xinqiao.people import actions as people_actions
from xinqiao.people.models import EventKind, PersonEvent
from xinqiao.risk import actions as risk_actions
from xinqiao.risk import smi_actions
from xinqiao.test import PersonaTestCase

SH = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)


def at(day: date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SH), tick=False)


class FollowUpTestCase(PersonaTestCase):
    serial = 0

    def person(self, unit=None, by=None, **kwargs):
        FollowUpTestCase.serial += 1
        return people_actions.register_person(
            acting_user=by or self.c1_counsellor,
            unit=unit or self.c1,
            name=f"随访人{self.serial}",
            id_number=resident_id(date(1980, 1, 2), self.serial),
            **kwargs,
        )

    def plan(self, person):
        return FollowUpPlan.objects.get(person=person)

    def visit(self, person, on, *, by=None, outcome="reached", **kwargs):
        return actions.record_visit(
            acting_user=by or self.c1_counsellor,
            person=person,
            visited_on=on,
            mode=kwargs.pop("mode", "phone"),
            outcome=outcome,
            state=kwargs.pop("state", "stable" if outcome == "reached" else "unknown"),
            **kwargs,
        )

    def set_level(self, person, level):
        return risk_actions.set_risk_level(
            acting_user=self.c1_counsellor, person=person, level=level, reason="复评后调整"
        )


class RescheduleTests(FollowUpTestCase):
    def test_a_new_file_has_a_plan_of_at_most_six_months(self):
        with at(DAY0):
            person = self.person()
        plan = self.plan(person)
        self.assertEqual((plan.interval_days, plan.rule), (180, schedule.UNDER_SERVICE))
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=180))
        self.assertEqual(plan.responsible, self.c1_counsellor)

    def test_level_raised_shortens_lowered_lengthens_never_before_the_change(self):
        with at(DAY0):
            person = self.person()
            self.set_level(person, 2)  # high: 7 days (response matrix default)
        plan = self.plan(person)
        self.assertEqual((plan.interval_days, plan.rule), (7, schedule.RISK_LEVEL))
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=7))
        with at(DAY0 + timedelta(days=3)):
            self.visit(person, DAY0 + timedelta(days=3))
        self.assertEqual(self.plan(person).next_due, DAY0 + timedelta(days=10))
        with at(DAY0 + timedelta(days=20)):
            self.set_level(person, 3)  # lowered: 30 days from the last contact
        plan = self.plan(person)
        self.assertEqual(plan.interval_days, 30)
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=33))
        with at(DAY0 + timedelta(days=40)):
            self.set_level(person, 1)  # raised to crisis: due at once, not in the past
        plan = self.plan(person)
        self.assertEqual(plan.interval_days, 1)
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=40))
        self.assertEqual(plan.changed_on, DAY0 + timedelta(days=40))
        with at(DAY0 + timedelta(days=41)):
            self.set_level(person, 4)
        plan = self.plan(person)
        self.assertEqual((plan.interval_days, plan.rule), (180, schedule.UNDER_SERVICE))
        self.assertGreaterEqual(plan.next_due, plan.changed_on)

    def test_smi_registration_and_status(self):
        with at(DAY0):
            person = self.person()
            patient = smi_actions.register_smi_patient(
                acting_user=self.c1_worker, person=person, diagnosis="schizophrenia"
            )
        plan = self.plan(person)
        self.assertEqual((plan.interval_days, plan.rule), (14, schedule.SMI_STATUS))
        with at(DAY0 + timedelta(days=10)):
            smi_actions.record_smi_followup(
                acting_user=self.c1_worker,
                patient=patient,
                on=DAY0 + timedelta(days=10),
                risk_grade=0,
                symptoms="none",
                insight="good",
                social_function="good",
                adverse_reaction="none",
                physical_illness="none",
                compliance="regular",
            )
        plan = self.plan(person)
        self.assertEqual(plan.interval_days, 90)  # stable: three months
        self.assertEqual(plan.last_contact_on, DAY0 + timedelta(days=10))
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=100))

    def test_bereaved_family_reassessed_quarterly_until_the_group_ends(self):
        with at(DAY0):
            person = self.person()
            membership = people_actions.add_group(
                acting_user=self.c1_counsellor,
                person=person,
                group="family_of_deceased",
                date_from=DAY0,
            )
        self.assertEqual(
            (self.plan(person).interval_days, self.plan(person).rule), (90, schedule.BEREAVED)
        )
        with at(DAY0 + timedelta(days=5)):
            people_actions.end_group(
                acting_user=self.c1_counsellor,
                membership=membership,
                date_to=DAY0 + timedelta(days=4),
            )
        self.assertEqual(self.plan(person).interval_days, 180)

    def test_a_crisis_contact_counts_as_a_follow_up(self):
        with at(DAY0):
            person = self.person()
        with at(DAY0 + timedelta(days=2)):
            actions.contact_made(person=person, on=DAY0 + timedelta(days=2))
        plan = self.plan(person)
        self.assertEqual(plan.last_contact_on, DAY0 + timedelta(days=2))
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=182))


class VisitTests(FollowUpTestCase):
    def test_a_visit_records_what_was_given_and_sets_the_next_date(self):
        with at(DAY0):
            person = self.person()
            people_actions.give_consent(
                acting_user=self.c1_counsellor,
                person=person,
                purpose="assessment",
                given_by="self",
                method="signed_paper",
                given_on=DAY0,
            )
            assessment = assessment_actions.record_assessment(
                acting_user=self.c1_counsellor,
                person=person,
                instrument="phq9",
                answers=[0, 0, 0, 0, 0, 0, 0, 0, 0],
            )
            visit = self.visit(
                person,
                DAY0,
                mode="home_visit",
                assessment=assessment,
                counselling="倾听与支持",
                guidance="规律作息",
                toolkit=["handbook", "leaflet"],
                state_note="情绪平稳",
                next_due=DAY0 + timedelta(days=60),
            )
        visit.refresh_from_db()
        self.assertEqual(visit.guidance, "规律作息")
        self.assertEqual(visit.toolkit, ["handbook", "leaflet"])
        self.assertEqual(self.plan(person).next_due, DAY0 + timedelta(days=60))
        self.assertTrue(PersonEvent.objects.filter(person=person, kind=EventKind.FOLLOWUP).exists())
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT guidance FROM followups_followupvisit WHERE id = %s", [visit.pk.hex]
            )
            row = cursor.fetchone()
        if row is None:  # PostgreSQL stores the UUID natively
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT guidance FROM followups_followupvisit WHERE id = %s", [visit.pk]
                )
                row = cursor.fetchone()
        self.assertNotIn("规律作息", str(row[0]))  # encrypted at rest

    def test_bad_input_names_the_field_and_writes_nothing(self):
        with at(DAY0), translation.override("en"):
            person = self.person()
            other = self.person()
            self.visit(person, DAY0 - timedelta(days=1))
            people_actions.give_consent(
                acting_user=self.c1_counsellor,
                person=other,
                purpose="assessment",
                given_by="self",
                method="signed_paper",
                given_on=DAY0,
            )
            foreign = assessment_actions.record_assessment(
                acting_user=self.c1_counsellor,
                person=other,
                instrument="phq9",
                answers=[0, 0, 0, 0, 0, 0, 0, 0, 0],
            )
            cases = [
                ({"on": DAY0 + timedelta(days=1)}, "visited_on", "future"),
                ({"on": DAY0 - timedelta(days=5)}, "visited_on", "before the previous one"),
                ({"next_due": DAY0 - timedelta(days=1)}, "next_due", "before this visit"),
                ({"next_due": DAY0 + timedelta(days=400)}, "next_due", "180"),
                ({"mode": "carrier_pigeon"}, "mode", ""),
                ({"toolkit": ["poster"]}, "toolkit", ""),
                ({"assessment": foreign}, "assessment", ""),
                ({"outcome": "could_not_reach", "guidance": "x"}, "outcome", ""),
                ({"outcome": "maybe"}, "outcome", ""),
            ]
            before = FollowUpVisit.objects.count()
            for values, field, words in cases:
                with self.subTest(field=field, values=values):
                    on = values.pop("on", DAY0)
                    with self.assertRaises(ValidationError) as caught:
                        self.visit(person, on, **values)
                    self.assertIn(field, caught.exception.message_dict)
                    self.assertIn(words, " ".join(caught.exception.message_dict[field]))
            self.assertEqual(FollowUpVisit.objects.count(), before)

    def test_could_not_reach_retries_and_escalates_after_three_once(self):
        with at(DAY0):
            person = self.person(unit=self.demo.grids[1][0])
        for n in range(1, 5):
            day = DAY0 + timedelta(days=n)
            with at(day):
                self.visit(person, day, outcome="could_not_reach", mode="home_visit")
            plan = self.plan(person)
            self.assertEqual(plan.failed_in_a_row, n)
            self.assertEqual(plan.next_due, day + timedelta(days=3))
            told = Notification.objects.filter(recipient=self.c1_worker, channel="in_app")
            self.assertEqual(told.count(), 0 if n < 3 else 1, n)
        self.assertIsNotNone(plan.escalated_at)
        self.assertFalse(Notification.objects.filter(recipient=self.street_admin).exists())
        self.assertEqual(
            PersonEvent.objects.filter(person=person, object_type="followups.followupplan").count(),
            1,
        )
        subject = told.get().subject
        self.assertNotIn(person.name, subject)
        with at(DAY0 + timedelta(days=6)):
            self.visit(person, DAY0 + timedelta(days=6))
        plan = self.plan(person)
        self.assertEqual((plan.failed_in_a_row, plan.escalated_at), (0, None))
        self.assertEqual(plan.next_due, DAY0 + timedelta(days=186))

    def test_a_visit_needs_the_person_in_scope_and_the_right(self):
        with at(DAY0):
            person = self.person(unit=self.demo.grids[1][0])
            c2_person = self.person(unit=self.c2, by=self.c2_counsellor)
            from django.core.exceptions import PermissionDenied

            with self.assertRaises(PermissionDenied):
                self.visit(person, DAY0, by=self.c2_counsellor)
            with self.assertRaises(PermissionDenied):
                self.visit(c2_person, DAY0, by=self.hotline)  # sees plans, records none
            self.visit(person, DAY0, by=self.c1_grid, mode="home_visit")  # grid workers visit


class ListTests(FollowUpTestCase):
    def setUp(self):
        with at(DAY0 - timedelta(days=200)):
            self.late = self.person()  # due DAY0-20: overdue by 20 on DAY0
            self.late_c2 = self.person(unit=self.c2, by=self.c2_counsellor)
        with at(DAY0 - timedelta(days=178)):
            self.soon = self.person()  # due DAY0+2
        with at(DAY0 - timedelta(days=10)):
            self.later = self.person()  # due DAY0+170

    def test_lists_per_worker_community_and_street(self):
        with at(DAY0):
            page = self.client_for(self.c1_counsellor).get("/followups/")
            shown = [p.person for p in page.context["page"]]
            self.assertEqual(shown, [self.late, self.soon])  # most overdue first
            self.assertContains(page, "20")
            overdue = self.client_for(self.c1_counsellor).get("/followups/?when=overdue&mine=1")
            self.assertEqual([p.person for p in overdue.context["page"]], [self.late])
            self.assertEqual(overdue.context["page"][0].overdue_by, 20)
            week = self.client_for(self.c1_counsellor).get("/followups/?when=week")
            self.assertEqual([p.person for p in week.context["page"]], [self.soon])
            street = self.client_for(self.street_admin).get("/followups/?when=overdue")
            self.assertEqual({p.person for p in street.context["page"]}, {self.late, self.late_c2})
            c2_only = self.client_for(self.street_admin).get(
                f"/followups/?when=overdue&unit={self.c2.pk}"
            )
            self.assertEqual([p.person for p in c2_only.context["page"]], [self.late_c2])
            self.assertEqual(self.client_for(self.volunteer).get("/followups/").status_code, 404)

    def test_supervisor_counts_and_overdue_rate(self):
        with at(DAY0):
            page = self.client_for(self.street_admin).get("/followups/oversee/")
            self.assertEqual(page.status_code, 200)
            workers = {w["name"]: w["n"] for w in page.context["workers"]}
            self.assertEqual(workers, {self.c1_counsellor.name: 1, self.c2_counsellor.name: 1})
            communities = {c["unit"].pk: c["n"] for c in page.context["communities"]}
            self.assertEqual(communities, {self.c1.pk: 1, self.c2.pk: 1})
            self.assertEqual(
                self.client_for(self.c1_grid).get("/followups/oversee/").status_code, 404
            )
            rate = stats.overdue_rate(self.c1, DAY0)
            self.assertEqual((rate.under_service, rate.overdue), (3, 1))
            self.assertAlmostEqual(rate.rate, 1 / 3)

    def test_daily_job_runs_at_five_past_seven_beijing_time(self):
        schedule_ = tasks.followups_daily.task_class()
        # Huey checks its crontab against naive UTC: 23:05 UTC is 07:05 in Asia/Shanghai.
        self.assertTrue(schedule_.validate_datetime(datetime(2026, 3, 9, 23, 5)))  # noqa: DTZ001
        self.assertFalse(schedule_.validate_datetime(datetime(2026, 3, 10, 7, 5)))  # noqa: DTZ001

    def test_daily_job_creates_missing_plans_and_reminds_each_worker_once(self):
        FollowUpPlan.objects.filter(person=self.later).delete()
        with at(DAY0 + timedelta(days=2)):
            created, reminded = tasks.daily()
        self.assertEqual(created, 1)
        self.assertTrue(FollowUpPlan.objects.filter(person=self.later).exists())
        self.assertEqual(reminded, 2)  # c1 and c2 counsellors
        mine = Notification.objects.get(recipient=self.c1_counsellor, channel="in_app")
        self.assertIn("1", mine.subject)
        for text in (mine.subject, mine.body):
            self.assertNotIn(self.late.name, text)
            self.assertNotIn(self.soon.name, text)
        self.assertIn("/followups/", mine.url)
        # The job run again the same day (a retry, a second worker) reminds nobody twice.
        with at(DAY0 + timedelta(days=2)):
            self.assertEqual(tasks.daily(), (0, 0))
        self.assertEqual(
            Notification.objects.filter(recipient=self.c1_counsellor, channel="in_app").count(), 1
        )

    def test_the_workbench_and_the_key_person_list_read_the_plan(self):
        with at(DAY0):
            home = self.client_for(self.c1_counsellor).get("/")
            self.assertEqual(home.context["followups_overdue"], 1)
            self.set_level(self.soon, 2)
            due = self.plan(self.soon).next_due
            page = self.client_for(self.c1_counsellor).get("/risk/key-people/")
            row = next(p for p in page.context["page"] if p.pk == self.soon.pk)
            self.assertEqual(row.next_due, due)
            self.assertContains(page, f"{due:%Y-%m-%d}")


class PageTests(FollowUpTestCase):
    def test_record_page_section_and_visibility_of_content(self):
        with at(DAY0):
            person = self.person(unit=self.demo.grids[1][0])
            client = self.client_for(self.c1_counsellor)
            url = f"/followups/people/{person.pk}/visit/"
            self.assertEqual(client.get(url).status_code, 200)
            bad = client.post(
                url,
                {
                    "visited_on": "2026-03-09",
                    "mode": "phone",
                    "outcome": "reached",
                    "state": "stable",
                },
            )
            self.assertEqual(bad.status_code, 200)
            self.assertIn("visited_on", bad.context["form"].errors)
            ok = client.post(
                url,
                {
                    "visited_on": "2026-03-02",
                    "mode": "home_visit",
                    "outcome": "reached",
                    "state": "stable",
                    "guidance": "秘密指导内容",
                    "toolkit": ["handbook"],
                },
            )
            self.assertEqual(ok.status_code, 302)
            visit = FollowUpVisit.objects.get(person=person)
            file_page = client.get(f"/people/{person.pk}/")
            self.assertContains(file_page, 'id="followup"')
            detail = f"/followups/visits/{visit.pk}/"
            self.assertContains(client.get(detail), "秘密指导内容")
            grid = self.client_for(self.c1_grid).get(detail)
            self.assertEqual(grid.status_code, 200)
            self.assertNotContains(grid, "秘密指导内容")
            self.assertContains(grid, visit.get_mode_display())
            for user in (self.c2_counsellor, self.c2_grid, self.outsider):
                self.assertEqual(self.client_for(user).get(detail).status_code, 404)
                self.assertEqual(self.client_for(user).post(url, {}).status_code, 404)


class DemoTests(FollowUpTestCase):
    def test_populate_gives_everyone_a_plan_and_some_visits(self):
        from xinqiao.followups import demo

        with at(DAY0):
            people = [self.person(unit=self.demo.grids[1][0]) for _ in range(6)]
            FollowUpPlan.objects.filter(person=people[0]).delete()
            demo.populate(DAY0)
        self.assertEqual(FollowUpPlan.objects.filter(person__in=people).count(), 6)
        self.assertTrue(FollowUpVisit.objects.filter(person__in=people).exists())
