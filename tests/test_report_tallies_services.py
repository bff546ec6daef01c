"""The aggregate tables of the services (referrals, follow-ups, sessions, hotline, mailbox,
education, staffing, isolation sites, severe mental disorders) against the naive GROUP BY over
the raw tables (issue #9 item 5), after the writes of the real actions, after changes that
move a count to another unit or day, after deletes and after a rebuild; and a few dashboard
cells worked out by hand, with their suppression (issue #9 items 1 and 4)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.db.models import Sum
from django.test import TestCase
from django.utils import timezone

from xinqiao.content.models import Article, ArticleStat
from xinqiao.content.public import record_view
from xinqiao.counselling.actions import record_session
from xinqiao.counselling.models import SessionParticipant
from xinqiao.followups.actions import record_visit
from xinqiao.followups.models import FollowUpPlan, FollowUpVisit
from xinqiao.hotline import actions as hotline_actions
from xinqiao.hotline import mailbox_actions
from xinqiao.hotline.models import Call, CallProblem, MailboxMessage, MailboxReply
from xinqiao.ops.demo import build_demo_city
from xinqiao.orgs.models import Membership, StaffProfile, Team, TeamMember, Unit
from xinqiao.people import actions as people_actions
from xinqiao.people.access import has_consent
from xinqiao.people.models import ConsentPurpose, IsolationRecord, Person
from xinqiao.referrals import actions as referral_actions
from xinqiao.referrals.models import Referral
from xinqiao.reports import indicators, naive, naive_services, periods, sources_services, tally
from xinqiao.reports.models import Tally, TallyDirty
from xinqiao.risk import smi_actions
from xinqiao.risk.models import SmiFollowUp

WIDE = (date(2000, 1, 1), date(2100, 1, 1))
ZONE = ZoneInfo(settings.TIME_ZONE)


def mine() -> list[tally.Source]:
    tally._load_sources()
    return [s for s in tally.SOURCES.values() if s.rows.__module__ == sources_services.__name__]


def service_tally(unit: Unit, start: date, end: date) -> tally.Counts:
    return tally.read(unit, [m for s in mine() for m in s.measures], start, end)


def service_naive(unit: Unit, start: date, end: date) -> tally.Counts:
    result: tally.Counts = {}
    for function in naive.NAIVE:
        if function.__module__ == naive_services.__name__:
            for cell, value in function(unit.path, start, end).items():
                if value != (0, 0):
                    result[cell] = value
    return result


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


class ServiceTallyTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.demo = build_demo_city(people_per_community=6)
        cls.today = timezone.localdate()
        cls.c1, cls.c2 = cls.demo.communities[0], cls.demo.communities[1]
        cls.users = cls.demo.users

    def periods(self) -> list[tuple[date, date]]:
        return [WIDE, (self.today - timedelta(days=30), self.today), (self.today, self.today)]

    def assert_all_units_equal(self, spans: list[tuple[date, date]] | None = None) -> None:
        for start, end in spans or self.periods():
            for unit in Unit.objects.all():
                with self.subTest(unit=unit.name, start=start, end=end):
                    self.assertEqual(tally.totals(unit, start, end), naive.totals(unit, start, end))

    def under_service(self, unit: Unit):
        return Person.objects.filter(
            unit__path__startswith=unit.path,
            status="active",
            is_deceased=False,
            unnamed_contact=False,
        )

    def person(self, unit: Unit, n: int = 0) -> Person:
        return self.under_service(unit).order_by("name")[n]

    def not_registered(self, unit: Unit) -> Person:
        return self.under_service(unit).filter(smi__isnull=True).order_by("name")[0]

    def counselled(self, unit: Unit, counsellor) -> list[Person]:
        people = []
        for person in self.under_service(unit).order_by("name")[:3]:
            if not has_consent(person, ConsentPurpose.COUNSELLING):
                people_actions.give_consent(
                    acting_user=counsellor,
                    person=person,
                    purpose=ConsentPurpose.COUNSELLING,
                    given_by="self",
                    method="signed_paper",
                    given_on=self.today - timedelta(days=10),
                )
            people.append(person)
        return people

    # --- the demo and the writes of the actions ---------------------------------------------

    def test_the_demo_is_counted_and_equal(self):
        counts = naive.totals(self.demo.city, *WIDE)
        for source in mine():
            if source.name == "isolation":
                continue  # the demo has no one in centralised isolation now
            with self.subTest(source=source.name):
                self.assertTrue(any(m in source.measures for m, _k in counts), source.name)
        self.assertEqual(tally.totals(self.demo.city, *WIDE), counts)
        self.assert_all_units_equal()

    def test_writes_through_the_actions_are_counted_incrementally(self):
        worker, counsellor = self.users["c1_worker"], self.users["c1_counsellor"]
        person = self.person(self.c1)
        TallyDirty.objects.all().delete()
        # The demo may have dated some of its own records today: count what the writes add.
        c1_before = service_tally(self.c1, self.today, self.today)
        c2_before = service_tally(self.c2, self.today, self.today)

        def added(now: dict, before: dict, key: tuple[str, str]) -> tuple[int, int]:
            n, a = now.get(key, (0, 0))
            n0, a0 = before.get(key, (0, 0))
            return (n - n0, a - a0)

        referral = referral_actions.refer_person(
            acting_user=worker,
            person=person,
            to_unit=self.demo.civil_affairs,
            kind="relief",
            reason="测试：生活困难",
            contact_phone="17000000001",
        )
        referral_actions.accept_referral(acting_user=self.users["civil1"], referral=referral)
        record_visit(
            acting_user=worker,
            person=person,
            visited_on=self.today - timedelta(days=2),
            mode="phone",
            outcome="reached",
        )
        people = self.counselled(self.c1, counsellor)
        record_session(
            acting_user=counsellor,
            kind="group",
            format="online",
            # Midnight of today: never in the future, whatever time the suite runs (09:00 was,
            # for a run just after midnight in Shanghai).
            held_at=at(self.today, 0),
            minutes=75,
            participants=[{"person": p, "attended": i != 1} for i, p in enumerate(people)],
        )
        hotline_actions.log_call(
            acting_user=self.users["hotline1"],
            centre=self.demo.hotline,
            data=hotline_actions.CallInput(
                caller_type="self",
                started_at=timezone.now() - timedelta(minutes=20),
                problems=["negative_emotion.anxiety", "negative_emotion.fear", "body.sleep"],
            ),
        )
        message, _code = mailbox_actions.submit(unit=self.c2, body="测试：最近睡不好。")
        mailbox_actions.answer(
            acting_user=self.users["c2_counsellor"], message=message, body="测试：回信。"
        )
        article = Article.objects.exclude(builtin="").first()
        ArticleStat.objects.filter(article=article, unit=self.c2, day=self.today).delete()
        TallyDirty.objects.filter(source="content").delete()
        record_view(article=article, unit=self.c2)  # creates the day's row: the watch marks
        self.assertTrue(TallyDirty.objects.filter(source="content").exists())
        marked = set(TallyDirty.objects.values_list("source", flat=True))
        tally.refresh_all()
        record_view(article=article, unit=self.c2)  # QuerySet.update: no signal …
        # … so content.public marks the day as this (see the report's diff for public.py).
        sources_services.article_stat_counted(self.c2.pk, self.today)
        patient = smi_actions.register_smi_patient(
            acting_user=self.users["c2_worker"],
            person=self.not_registered(self.c2),
            diagnosis="bipolar",
        )
        for days in (300, 200, 100, 20):
            smi_actions.record_smi_followup(
                acting_user=self.users["c2_worker"],
                patient=patient,
                on=self.today - timedelta(days=days),
                risk_grade=0,
                symptoms="none",
                insight="good",
                social_function="good",
                adverse_reaction="none",
                physical_illness="none",
                compliance="regular",
            )
        people_actions.record_isolation(
            acting_user=worker,
            person=self.person(self.c1, 1),
            kind="centralised",
            place="测试隔离点",
            started_on=self.today - timedelta(days=3),
            ended_on=self.today + timedelta(days=11),
            site=self.demo.isolation_site,
        )
        people_actions.record_isolation(
            acting_user=worker,
            person=self.person(self.c1, 2),
            kind="centralised",
            place="测试隔离点",
            started_on=self.today - timedelta(days=1),
            site=self.demo.isolation_site,
        )
        Membership.objects.create(
            user=self.users["c1_social"], unit=self.demo.isolation_site, role="social_worker"
        )
        TeamMember.objects.create(
            team=Team.objects.get(unit=self.demo.communities[-1]), user=self.users["c8_grid1"]
        )
        marked |= set(TallyDirty.objects.values_list("source", flat=True))
        expected = {s.name for s in mine()}
        self.assertEqual(marked, expected)  # every source was marked by the writes
        self.assertNotEqual(service_tally(self.c2, *WIDE), service_naive(self.c2, *WIDE))
        tally.refresh_all()
        self.assertFalse(TallyDirty.objects.exists())
        self.assert_all_units_equal()
        # The counts moved the way the actions say.
        c2 = service_tally(self.c2, self.today, self.today)
        self.assertEqual(added(c2, c2_before, ("mailbox", "mailbox"))[0], 1)
        self.assertEqual(added(c2, c2_before, ("mailbox.reply", "mailbox|0"))[0], 1)
        self.assertEqual(
            ArticleStat.objects.get(article=article, unit=self.c2, day=self.today).views, 2
        )
        views = ArticleStat.objects.filter(
            unit=self.c2, day=self.today, article__kind=article.kind
        ).aggregate(n=Sum("views"))["n"]
        self.assertEqual(c2[("content.views", article.kind)][0], views)  # both views counted
        hotline = service_tally(self.demo.hotline, self.today - timedelta(days=1), self.today)
        self.assertGreaterEqual(hotline[("call.category", "negative_emotion")][0], 1)
        c1 = service_tally(self.c1, self.today, self.today)
        self.assertEqual(added(c1, c1_before, ("session", "group|online")), (1, 75))
        self.assertEqual(
            added(c1, c1_before, ("session.people", "group|online"))[0], len(people) - 1
        )

    def test_changes_that_move_a_count_and_deletes(self):
        c1 = self.c1
        mover = FollowUpVisit.objects.select_related("person__unit").first().person
        first, last = self.demo.communities[0], self.demo.communities[-1]  # other districts
        mover.unit = last if mover.unit.path.startswith(first.path) else first
        mover.save()  # the person's visits and plan go with them
        visit = FollowUpVisit.objects.exclude(person=mover).first()
        visit.visited_on -= timedelta(days=40)
        visit.outcome = "could_not_reach"
        visit.save()
        plan = FollowUpPlan.objects.exclude(person=mover).first()
        plan.next_due = plan.changed_on = self.today - timedelta(days=3)
        plan.responsible = None
        plan.save()
        call = Call.objects.filter(problems__isnull=False).first()
        call.started_at -= timedelta(days=3, hours=5)
        call.risk = "high"
        call.save()
        CallProblem.objects.filter(call=Call.objects.exclude(pk=call.pk).first()).delete()
        problem = CallProblem.objects.exclude(call=call).first()
        problem.group = "other"
        problem.save()
        participant = SessionParticipant.objects.filter(attended=True).first()
        participant.attended = False
        participant.save()
        SessionParticipant.objects.filter(attended=True).last().delete()
        referral = Referral.objects.first()
        referral.sent_at -= timedelta(days=10)
        referral.save()
        MailboxReply.objects.filter(author__isnull=False).first().delete()
        moved = MailboxMessage.objects.first()
        moved.created_at -= timedelta(days=20)
        moved.save()
        stat = ArticleStat.objects.first()
        stat.day -= timedelta(days=1)
        stat.save()
        ArticleStat.objects.last().delete()
        SmiFollowUp.objects.first().delete()
        record = IsolationRecord.objects.filter(site__isnull=False).first()
        record.ended_on = None  # from "ended on a day" to "in isolation now"
        record.save()
        user = self.users["site1"]
        profile = StaffProfile.objects.get(user=user)
        profile.qualification = "none"
        profile.save()
        self.users["c2_social"].is_active = False
        self.users["c2_social"].save()
        TeamMember.objects.filter(team__unit=c1).first().delete()
        tally.refresh_all()
        self.assert_all_units_equal()

    def test_rebuild_gives_the_same_tables(self):
        record_visit(
            acting_user=self.users["c1_worker"],
            person=self.person(self.c1),
            visited_on=self.today,
            mode="home_visit",
            outcome="reached",
        )
        tally.refresh_all()
        rows = ("unit_id", "own", "measure", "day", "key", "count", "amount")
        measures = [m for s in mine() for m in s.measures]
        before = sorted(
            Tally.objects.filter(measure__in=measures).exclude(count=0, amount=0).values_list(*rows)
        )
        written = tally.rebuild()
        for source in ("calls", "followup_visits", "sessions", "referrals", "content"):
            self.assertGreater(written[source], 0, source)
        self.assertEqual(
            before, sorted(Tally.objects.filter(measure__in=measures).values_list(*rows))
        )
        self.assert_all_units_equal([WIDE])

    # --- figures about today, kept by date ----------------------------------------------------

    def test_overdue_and_isolation_today_need_no_recount(self):
        plan = FollowUpPlan.objects.filter(person__in=self.under_service(self.c1)).first()
        plan.next_due = self.today + timedelta(days=2)
        plan.save()
        people_actions.record_isolation(
            acting_user=self.users["c1_worker"],
            person=self.person(self.c1),
            kind="centralised",
            place="测试隔离点",
            started_on=self.today - timedelta(days=3),
            ended_on=self.today + timedelta(days=1),
            site=self.demo.isolation_site,
        )
        tally.refresh_all()

        def board(unit: Unit) -> indicators.Dashboard:
            return indicators.build(
                unit=unit, period=periods.Period(self.today, self.today), suppress=False
            )

        def overdue() -> int:
            total = board(self.c1).table("followup_overdue").rows[-1]
            return total.cells[0]

        def isolated() -> int:
            return board(self.demo.districts[0]).table("isolation_sites").rows[0].cells[0]

        later = self.today + timedelta(days=3)
        plans = FollowUpPlan.objects.filter(person__in=self.under_service(self.c1))
        before = overdue()
        self.assertEqual(before, plans.filter(next_due__lt=self.today).count())
        self.assertEqual(isolated(), 1)
        with time_machine.travel(at(later, 12), tick=False):
            # No recount: the key is the due date, and ours is among those now overdue.
            self.assertEqual(overdue(), plans.filter(next_due__lt=later).count())
            self.assertGreater(overdue(), before)
            self.assertEqual(isolated(), 0)  # the isolation ended the day before
        self.assertFalse(TallyDirty.objects.exists())

    # --- dashboard cells by hand ------------------------------------------------------------

    def answered_after(self, unit: Unit, day: date, hours: list[float]) -> None:
        """Messages written at 08:00 on ``day``, each answered ``hours`` later."""
        for n, wait in enumerate(hours):
            message, _code = mailbox_actions.submit(unit=unit, body=f"测试：第{n}封信。")
            message.created_at = at(day, 8)
            message.save()
            reply = mailbox_actions.answer(
                acting_user=self.users["c2_counsellor"], message=message, body="测试：回信。"
            )
            reply.created_at = at(day, 8) + timedelta(hours=wait)
            reply.save()
            # A second answer later does not change the time to the first one.
            MailboxReply.objects.create(
                message=message,
                author=self.users["c2_counsellor"],
                body="测试：再回信。",
            )

    def test_median_and_90th_percentile_hours_to_answer(self):
        day = self.today - timedelta(days=300)  # no demo messages then
        self.answered_after(self.c2, day, [1.5, 2, 3.9, 10, 30.5])
        mailbox_actions.submit(unit=self.c2, body="测试：还没有回信。")
        tally.refresh_all()
        period = periods.Period(day, day)
        board = indicators.build(unit=self.c2, period=period, suppress=False)
        times = board.table("mailbox_response_times")
        everything = next(r for r in times.rows if r.code == "all")
        # Whole hours 1, 2, 3, 10, 30: the median is the 3rd, the 90th percentile the 5th.
        self.assertEqual(everything.cells, [5, 3, 30])
        volume = board.table("mailbox_by_kind")
        self.assertEqual(volume.rows[-1].cells, [5, 0, 5])
        # Outside the unit, five answers are enough to show; four are not.
        shown = indicators.build(unit=self.c2, period=period, suppress=True)
        self.assertEqual(
            next(r for r in shown.table("mailbox_response_times").rows if r.code == "all").cells,
            [5, 3, 30],
        )
        ten = MailboxReply.objects.get(message__unit=self.c2, created_at=at(day, 18))
        MailboxReply.objects.filter(message_id=ten.message_id).delete()  # back to waiting
        tally.refresh_all()
        hidden = indicators.build(unit=self.c2, period=period, suppress=True)
        row = next(r for r in hidden.table("mailbox_response_times").rows if r.code == "all")
        self.assertEqual(row.cells, [None, None, None])
        full = indicators.build(unit=self.c2, period=period, suppress=False)
        row = next(r for r in full.table("mailbox_response_times").rows if r.code == "all")
        self.assertEqual(row.cells, [4, 2, 30])

    def test_rates_over_fewer_than_five_are_hidden_outside_the_unit(self):
        c3 = self.demo.communities[2]
        patient = smi_actions.register_smi_patient(
            acting_user=self.users["c3_worker"], person=self.not_registered(c3), diagnosis="bipolar"
        )
        for days in (330, 240, 150, 60):
            smi_actions.record_smi_followup(
                acting_user=self.users["c3_worker"],
                patient=patient,
                on=self.today - timedelta(days=days),
                risk_grade=0,
                symptoms="none",
                insight="good",
                social_function="good",
                adverse_reaction="none",
                physical_illness="none",
                compliance="regular",
            )
        tally.refresh_all()
        period = periods.Period(self.today - timedelta(days=30), self.today)
        own = indicators.build(unit=c3, period=period, suppress=False).table("smi_managed")
        self.assertEqual(own.rows[-1].cells, [1, 0, 1, 100.0])
        out = indicators.build(unit=c3, period=period, suppress=True).table("smi_managed")
        self.assertEqual(out.rows[-1].cells, [None, None, None, None])
        # The overdue rates of the street's communities, with one plan overdue in c3: the count
        # of one is hidden, and with it the rate (and enough others that it cannot be worked
        # out from the totals).
        street = self.demo.streets[1]
        plans = FollowUpPlan.objects.filter(person__in=self.under_service(c3))
        self.assertGreaterEqual(plans.count(), 5)
        FollowUpPlan.objects.filter(person__unit__path__startswith=street.path).update(
            next_due=self.today + timedelta(days=5)
        )
        tally.rebuild()  # after the QuerySet.update
        late = plans.first()
        late.next_due = late.changed_on = self.today - timedelta(days=1)
        late.save()
        tally.refresh_all()
        board = indicators.build(unit=street, period=period, suppress=True)
        table = board.table("followup_overdue")
        row = next(r for r in table.rows if r.code == str(c3.pk))
        self.assertIsNone(row.cells[0])
        self.assertIsNone(row.cells[-1])
        for r in table.rows:
            for cell in r.cells[:-1]:
                self.assertTrue(cell is None or cell == 0 or cell >= 5, table.rows)
        plain = indicators.build(unit=street, period=period, suppress=False)
        row = next(r for r in plain.table("followup_overdue").rows if r.code == str(c3.pk))
        self.assertEqual(row.cells[0], 1)
        self.assertEqual(row.cells[2], plans.count())
        self.assertEqual(row.cells[-1], round(100 / plans.count(), 1))

    def test_calls_by_hour_and_category(self):
        started = timezone.now() - timedelta(minutes=5)
        hour = str(timezone.localtime(started, ZONE).hour)
        day = timezone.localtime(started, ZONE).date()
        tally.refresh_all()
        board = indicators.build(
            unit=self.demo.city, period=periods.Period(day, day), suppress=False
        )
        before = {r.code: r.cells[0] for r in board.table("calls_by_hour").rows}
        cats = {r.code: r.cells[0] for r in board.table("calls_by_category").rows}
        hotline_actions.log_call(
            acting_user=self.users["hotline1"],
            centre=self.demo.hotline,
            data=hotline_actions.CallInput(
                caller_type="family",
                started_at=started,
                problems=["negative_emotion.anxiety", "negative_emotion.fear", "body.sleep"],
            ),
        )
        tally.refresh_all()
        board = indicators.build(
            unit=self.demo.city, period=periods.Period(day, day), suppress=False
        )
        after = {r.code: r.cells[0] for r in board.table("calls_by_hour").rows}
        self.assertEqual(after[hour], before.get(hour, 0) + 1)
        now = {r.code: r.cells[0] for r in board.table("calls_by_category").rows}
        # Two problems of one group count the call once in it.
        self.assertEqual(now["negative_emotion"], cats.get("negative_emotion", 0) + 1)
