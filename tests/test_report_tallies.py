"""The aggregate tables against the naive GROUP BY over the raw tables (issue #9 item 5 and
"Done when": every indicator computed from the aggregate tables equals the naive query on
generated data), after the writes of the real actions, after changes that move a count from
one unit or day to another, and after a rebuild from scratch."""

from __future__ import annotations

from datetime import date, timedelta

from django.test import TestCase
from django.utils import timezone

from xinqiao.assessments import actions as assessment_actions
from xinqiao.assessments.models import Assessment
from xinqiao.ops.demo import build_demo_city
from xinqiao.orgs.models import Unit
from xinqiao.people import actions as people_actions
from xinqiao.people.models import Person
from xinqiao.reports import naive, tally
from xinqiao.reports.models import Tally, TallyDirty
from xinqiao.risk.models import Alert

WIDE = (date(2000, 1, 1), date(2100, 1, 1))


class TallyTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.demo = build_demo_city(people_per_community=6)

    def assert_all_units_equal(self, start: date = WIDE[0], end: date = WIDE[1]) -> None:
        for unit in Unit.objects.all():
            with self.subTest(unit=unit.name, start=start, end=end):
                self.assertEqual(tally.totals(unit, start, end), naive.totals(unit, start, end))

    def periods(self) -> list[tuple[date, date]]:
        today = timezone.localdate()
        return [WIDE, (today - timedelta(days=30), today), (today, today)]

    def test_the_demo_is_counted(self):
        counts = naive.totals(self.demo.city, *WIDE)
        for measure in ("assessment", "people.level", "people.group", "people.new", "alert"):
            self.assertTrue(any(m == measure for m, _k in counts), measure)
        for start, end in self.periods():
            self.assert_all_units_equal(start, end)

    def test_writes_through_the_actions_are_counted_incrementally(self):
        worker = self.demo.users["c1_worker"]
        c1 = self.demo.communities[0]
        person = people_actions.register_person(
            acting_user=worker, unit=c1, name="测试人员甲", groups=["student"], id_type="none"
        )
        assessment = assessment_actions.begin_portal_assessment(
            unit=c1, instrument="phq9", respondent="self", resume_key="k", under_14=False
        )
        for number in range(1, 10):
            assessment = assessment_actions.save_answer(
                assessment=assessment, number=number, value=2
            )
        assessment_actions.finish_self_assessment(assessment=assessment)
        self.assertTrue(TallyDirty.objects.exists())  # the writes marked their (unit, day)
        self.assertNotEqual(tally.totals(c1, *WIDE), naive.totals(c1, *WIDE))
        tally.refresh_all()
        self.assertFalse(TallyDirty.objects.exists())
        for start, end in self.periods():
            self.assert_all_units_equal(start, end)
        self.assertIsNotNone(person.pk)

    def test_changes_that_move_a_count(self):
        person = Person.objects.filter(unit=self.demo.communities[0], status="active").first()
        person.unit = self.demo.communities[3]  # another street
        person.priority_level = 1
        person.save()
        done = Assessment.objects.filter(status="completed").first()
        done.status = "entered_in_error"
        done.save()
        moved = Assessment.objects.filter(status="completed").last()
        moved.completed_at = moved.completed_at - timedelta(days=40)
        moved.save()
        alert = Alert.objects.first()
        alert.acknowledged_at = alert.created_at + timedelta(minutes=7, seconds=30)
        alert.escalation_step = 1
        alert.save()
        tally.refresh_all()
        for start, end in self.periods():
            self.assert_all_units_equal(start, end)

    def test_two_refreshes_do_not_count_twice(self):
        c1 = self.demo.communities[0]
        people_actions.register_person(
            acting_user=self.demo.users["c1_worker"], unit=c1, name="测试人员乙", id_type="none"
        )
        marks = list(TallyDirty.objects.all())
        tally.refresh_all()
        TallyDirty.objects.bulk_create(  # the same marks again: recounting changes nothing
            TallyDirty(unit_id=m.unit_id, source=m.source, day=m.day) for m in marks
        )
        tally.refresh_all()
        self.assert_all_units_equal()

    def test_rebuild_gives_the_same_tables(self):
        people_actions.register_person(
            acting_user=self.demo.users["c1_worker"],
            unit=self.demo.communities[0],
            name="测试丙",
            id_type="none",
        )
        tally.refresh_all()
        rows = ("unit_id", "own", "measure", "day", "key", "count", "amount")
        before = sorted(Tally.objects.exclude(count=0, amount=0).values_list(*rows))
        written = tally.rebuild()
        self.assertGreater(written["assessments"], 0)
        self.assertEqual(before, sorted(Tally.objects.values_list(*rows)))
        self.assert_all_units_equal()


class UnitMoveTests(TestCase):
    def test_moving_a_community_to_another_street_recounts_the_tree(self):
        from xinqiao.ops import jobs
        from xinqiao.orgs import actions as org_actions

        demo = build_demo_city(people_per_community=4)
        community, other_street = demo.communities[0], demo.streets[2]
        old_street = community.parent
        before_old = tally.totals(old_street, *WIDE)
        org_actions.move_unit(
            acting_user=demo.users["city_admin"], unit=community, new_parent=other_street
        )
        old_street.refresh_from_db()
        self.assertNotEqual(naive.totals(old_street, *WIDE), before_old)
        self.assertGreater(jobs.work_once(worker="test"), 0)  # the rebuild job
        for unit in Unit.objects.all():
            with self.subTest(unit=unit.name):
                self.assertEqual(tally.totals(unit, *WIDE), naive.totals(unit, *WIDE))
