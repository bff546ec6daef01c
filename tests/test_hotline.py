"""Hotline roster and call logging (issue #7 items 1–2; R-HOTLINE, R-CRISIS)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _

from xinqiao.audit.models import AccessLog
from xinqiao.hotline import actions, callrisk, roster
from xinqiao.hotline.callrisk import RiskAnswers
from xinqiao.hotline.models import Call, CallProblem, HotlineTraining, Seat, Shift
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.orgs.scope import forget_grants
from xinqiao.people.models import EventKind, Person, PersonEvent
from xinqiao.risk.actions import handlers_of
from xinqiao.risk.models import RiskSignal
from xinqiao.test import PersonaTestCase

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after NOW's date, at hour:minute in Asia/Shanghai."""
    base = datetime(2026, 3, 2, tzinfo=ZONE) + timedelta(days=day)
    return base.replace(hour=hour % 24, minute=minute) + timedelta(days=hour // 24)


# --- pure cores ----------------------------------------------------------------------------

CALLRISK_TABLE = [
    # answers, operator's choice, expected (C-SSRS screener triage, Posner et al. 2011)
    (RiskAnswers(), "none", "none"),
    (RiskAnswers(wish_dead=True), "none", "low"),
    (RiskAnswers(ideation=True), "none", "low"),
    (RiskAnswers(wish_dead=True, ideation=True, method=True), "none", "medium"),
    (RiskAnswers(intent=True), "none", "high"),
    (RiskAnswers(plan=True), "low", "high"),
    (RiskAnswers(behaviour=True), "none", "high"),
    (RiskAnswers(harm_others=True), "none", "high"),
    # the operator raises …
    (RiskAnswers(), "medium", "medium"),
    (RiskAnswers(wish_dead=True), "high", "high"),
    # … but never lowers below the answers
    (RiskAnswers(method=True), "none", "medium"),
    (RiskAnswers(intent=True), "low", "high"),
]


@pytest.mark.parametrize(("answers", "chosen", "expected"), CALLRISK_TABLE)
def test_callrisk_table(answers: RiskAnswers, chosen: str, expected: str) -> None:
    assert callrisk.call_risk(answers, chosen) == expected


def test_callrisk_rejects_unknown_level() -> None:
    with pytest.raises(ValueError, match="unknown risk level"):
        callrisk.call_risk(RiskAnswers(), "extreme")


def test_roster_gaps_pure() -> None:
    start = at(0, 10)
    shifts = [
        (at(0, 8), at(0, 16)),
        (at(0, 16), at(1, 0)),
        (at(1, 0), at(1, 8)),
        # day 1: nobody 08:00–09:00, then one shift until the next morning
        (at(1, 9), at(2, 9)),
        (at(2, 9), at(6, 0)),  # long (the core does not judge length)
    ]
    days = roster.cover(shifts, start, days=7)
    assert [d.day for d in days] == [date(2026, 3, 2) + timedelta(days=n) for n in range(7)]
    assert days[0].gaps == ()
    assert days[1].gaps == ((at(1, 8), at(1, 9)),)
    assert all(d.gaps == () for d in days[2:6])
    # The last day is uncovered all day: a gap a week ahead.
    assert days[6].gaps == ((at(6, 0), at(7, 0)),)
    assert roster.gaps(shifts, start) == [(at(1, 8), at(1, 9)), (at(6, 0), at(7, 0))]
    assert days[1].gap_minutes == 60
    # Everything is staffed by one seat only: below the seed's 4.
    assert days[0].short[0].staffed == 1


def test_roster_counts_parallel_seats() -> None:
    start = at(0, 0)
    shifts = [(at(0, 0), at(1, 0))] * 3 + [(at(0, 6), at(0, 12))]
    day = roster.cover(shifts, start, days=1, minimum=4)[0]
    assert day.gaps == ()
    assert [(s.start.hour, s.end.hour, s.staffed) for s in day.short] == [(0, 6, 3), (12, 0, 3)]


def test_roster_rejects_backwards_shift() -> None:
    with pytest.raises(ValueError, match="end after"):
        roster.segments([(at(0, 9), at(0, 8))], at(0, 0), at(1, 0))


# --- roster --------------------------------------------------------------------------------


class RosterTests(PersonaTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.centre = self.demo.hotline
        self.operator2 = self.demo.users["hotline2"]
        self.seat1 = actions.add_seat(acting_user=self.city_admin, centre=self.centre, name="1")
        self.seat2 = actions.add_seat(acting_user=self.city_admin, centre=self.centre, name="2")
        for user in (self.hotline, self.operator2):
            actions.record_training(
                acting_user=self.city_admin,
                centre=self.centre,
                operator=user,
                course="新冠肺炎疫情心理援助培训",
                completed_on=date(2026, 2, 1),
                valid_until=date(2027, 2, 1),
            )

    def shift(self, seat: Seat, user, start: datetime, end: datetime) -> Shift:
        return actions.add_shift(
            acting_user=self.city_admin, seat=seat, operator=user, starts_at=start, ends_at=end
        )

    def test_overlap_on_a_seat_and_double_booking_are_refused(self) -> None:
        self.shift(self.seat1, self.hotline, at(0, 8), at(0, 16))
        with self.assertRaises(ValidationError) as seat_taken:
            self.shift(self.seat1, self.operator2, at(0, 15), at(0, 20))
        self.assertIn("starts_at", seat_taken.exception.error_dict)
        with self.assertRaises(ValidationError) as double:
            self.shift(self.seat2, self.hotline, at(0, 12), at(0, 18))
        self.assertIn("operator", double.exception.error_dict)
        # Back to back is fine.
        self.shift(self.seat1, self.operator2, at(0, 16), at(1, 0))
        self.assertEqual(Shift.objects.count(), 2)

    def test_operator_without_training_or_role_is_refused(self) -> None:
        lead = self.demo.users["hotline_lead"]  # holds a role, no training
        with self.assertRaises(ValidationError) as untrained:
            self.shift(self.seat1, lead, at(0, 8), at(0, 16))
        self.assertIn("operator", untrained.exception.error_dict)
        self.assertIn(lead.name or lead.username, str(untrained.exception))
        with self.assertRaises(ValidationError) as stranger:
            self.shift(self.seat1, self.c1_counsellor, at(0, 8), at(0, 16))
        self.assertIn("operator", stranger.exception.error_dict)
        # A training that expires during the shift does not count.
        HotlineTraining.objects.filter(operator=self.operator2).update(valid_until=date(2026, 3, 2))
        with self.assertRaises(ValidationError):
            self.shift(self.seat1, self.operator2, at(0, 20), at(1, 4))
        self.assertFalse(Shift.objects.exists())

    def test_bad_times_and_inactive_seat(self) -> None:
        with self.assertRaises(ValidationError) as backwards:
            self.shift(self.seat1, self.hotline, at(0, 16), at(0, 8))
        self.assertIn("ends_at", backwards.exception.error_dict)
        actions.set_seat_active(acting_user=self.city_admin, seat=self.seat2, active=False)
        with self.assertRaises(ValidationError) as inactive:
            self.shift(self.seat2, self.hotline, at(0, 8), at(0, 16))
        self.assertIn("seat", inactive.exception.error_dict)

    def test_only_roster_managers_change_it(self) -> None:
        with self.assertRaises(PermissionDenied):
            actions.add_seat(acting_user=self.hotline, centre=self.centre, name="9")
        with self.assertRaises(PermissionDenied):
            self.shift_as(self.hotline)

    def shift_as(self, user) -> Shift:
        return actions.add_shift(
            acting_user=user,
            seat=self.seat1,
            operator=self.hotline,
            starts_at=at(0, 8),
            ends_at=at(0, 16),
        )

    def cover_all_week_but(self, gap_start: datetime, gap_end: datetime) -> None:
        """Two operators alternating 12-hour shifts on seat 1 from now for 8 days, with a
        hole from gap_start to gap_end."""
        users = [self.hotline, self.operator2]
        t = at(0, 8)
        n = 0
        while t < at(8, 0):
            end = t + timedelta(hours=12)
            pieces = [(t, end)]
            if t < gap_end and end > gap_start:
                pieces = [(a, b) for a, b in ((t, gap_start), (gap_end, end)) if b > a]
            for a, b in pieces:
                self.shift(self.seat1, users[n % 2], a, b)
            t, n = end, n + 1

    def test_gap_shown_a_week_ahead_on_the_roster_and_the_call_pages(self) -> None:
        self.cover_all_week_but(at(6, 2), at(6, 5))
        page = self.client_for(self.city_admin).get(reverse("hotline:roster"))
        self.assertEqual(page.status_code, 200)
        gaps = page.context["gaps"]
        self.assertEqual([(s, e) for _day, s, e in gaps], [(at(6, 2), at(6, 5))])
        self.assertContains(page, "2026-03-08")
        # The operator sees the roster read-only, and the warning on the call pages.
        operator = self.client_for(self.hotline)
        read_only = operator.get(reverse("hotline:roster"))
        self.assertEqual(read_only.status_code, 200)
        self.assertFalse(read_only.context["manage"])
        self.assertEqual(
            operator.post(reverse("hotline:roster"), {"form": "seat"}).status_code, 403
        )
        for name in ("hotline:calls", "hotline:call_new"):
            response = operator.get(reverse(name))
            warnings = response.context["warnings"]
            self.assertEqual(len(warnings), 1, name)
            self.assertEqual([(s, e) for _d, s, e in warnings[0]["gaps"]], [(at(6, 2), at(6, 5))])

    def test_no_warning_when_covered_and_a_gap_beyond_the_week_is_not_shown(self) -> None:
        self.cover_all_week_but(at(7, 12), at(7, 14))  # day 8: outside the 7 days
        page = self.client_for(self.city_admin).get(reverse("hotline:roster"))
        self.assertEqual(page.context["gaps"], [])

    def test_roster_forms_through_the_page(self) -> None:
        client = self.client_for(self.city_admin)
        url = reverse("hotline:roster")
        lead = self.demo.users["hotline_lead"]
        refused = client.post(
            url,
            {
                "form": "shift",
                "shift-seat": self.seat1.pk,
                "shift-operator": lead.pk,
                "shift-starts_at": "2026-03-03T08:00",
                "shift-ends_at": "2026-03-03T16:00",
            },
        )
        self.assertEqual(refused.status_code, 200)
        self.assertIn("operator", refused.context["shift_errors"])
        saved = client.post(
            url,
            {
                "form": "training",
                "training-operator": lead.pk,
                "training-course": "心理援助热线岗前培训",
                "training-completed_on": "2026-02-20",
            },
        )
        self.assertEqual(saved.status_code, 302)
        ok = client.post(
            url,
            {
                "form": "shift",
                "shift-seat": self.seat1.pk,
                "shift-operator": lead.pk,
                "shift-starts_at": "2026-03-03T08:00",
                "shift-ends_at": "2026-03-03T16:00",
            },
        )
        self.assertEqual(ok.status_code, 302)
        shift = Shift.objects.get(operator=lead)
        self.assertEqual(shift.starts_at, at(1, 8))
        bad_date = client.post(
            url,
            {
                "form": "training",
                "training-operator": lead.pk,
                "training-course": "x",
                "training-completed_on": "2026-13-40",
            },
        )
        self.assertIn("completed_on", bad_date.context["training_errors"])
        remove = client.post(reverse("hotline:shift_remove", args=[shift.pk]))
        self.assertEqual(remove.status_code, 302)
        self.assertFalse(Shift.objects.filter(pk=shift.pk).exists())


# --- calls ---------------------------------------------------------------------------------


class CallTests(PersonaTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.centre = self.demo.hotline
        self.lead = self.demo.users["hotline_lead"]
        HotlineTraining.objects.create(
            operator=self.hotline,
            centre=self.centre,
            course="新冠肺炎疫情心理援助培训",
            completed_on=date(2026, 2, 1),
        )

    def form(self, **changes) -> dict:
        data = {
            "centre": str(self.centre.pk),
            "caller_type": "self",
            "caller_sex": "female",
            "age_band": "25_34",
            "caller_group": "",
            "area": "",
            "problems": ["negative_emotion.anxiety", "isolation_stress"],
            "risk": "none",
            "interventions": ["support"],
            "referral": "none",
            "callback_at": "",
            "callback_phone": "",
            "notes": "",
            "person": "",
            "started_at": "2026-03-02T09:50:00",
            "ended_at": "",
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    def post(self, user=None, **changes):
        return self.client_for(user or self.hotline).post(
            reverse("hotline:call_new"), self.form(**changes)
        )

    def test_a_plain_call_is_saved_with_its_values(self) -> None:
        street = self.demo.streets[0]
        response = self.post(area=str(street.pk), caller_group="student")
        self.assertEqual(response.status_code, 302)
        call = Call.objects.get()
        self.assertRedirects(response, reverse("hotline:call", args=[call.pk]) + "?logged=1")
        self.assertEqual(call.ended_at, NOW)  # end = submit time when left empty
        self.assertEqual(call.started_at, NOW - timedelta(minutes=10))
        self.assertEqual(call.risk, "none")
        self.assertIsNone(call.alert)
        self.assertEqual(call.area, street)
        self.assertEqual(
            set(CallProblem.objects.values_list("group", "code")),
            {
                ("negative_emotion", "negative_emotion.anxiety"),
                ("isolation_stress", "isolation_stress"),
            },
        )
        self.assertRegex(call.reference, r"^H[A-Z2-9]{7}$")
        self.assertFalse(RiskSignal.objects.exists())

    def test_every_bad_field_is_named_and_nothing_is_written(self) -> None:
        response = self.post(
            caller_type="alien",
            caller_sex="x",
            age_band="200",
            caller_group="nobody",
            area="not-a-street",
            problems=["negative_emotion", "no.such"],
            risk="extreme",
            interventions=["magic"],
            referral="nowhere",
            callback_at="tomorrow",
            person="not-a-uuid",
            started_at="yesterday-ish",
            ended_at="2026-99-01T00:00",
        )
        self.assertEqual(response.status_code, 400)
        errors = response.context["form"].errors
        for name in (
            "caller_type",
            "caller_sex",
            "age_band",
            "caller_group",
            "area",
            "problems",
            "risk",
            "interventions",
            "referral",
            "callback_at",
            "person",
            "started_at",
            "ended_at",
        ):
            self.assertIn(name, errors, name)
        self.assertContains(response, _("Choose who is calling."), status_code=400)
        self.assertFalse(Call.objects.exists())
        self.assertFalse(CallProblem.objects.exists())

    def test_rules_checked_by_the_action(self) -> None:
        cases = {
            "problems": {"problems": []},
            "started_at": {"started_at": "2026-03-02T11:00:00"},  # in the future
            "ended_at": {"ended_at": "2026-03-02T09:40:00"},  # before the start
            "callback_at": {"callback_at": "2026-03-02T09:00"},  # before the call
        }
        for name, change in cases.items():
            response = self.post(**change)
            self.assertEqual(response.status_code, 400, name)
            self.assertIn(name, response.context["form"].errors, name)
        old = self.post(started_at="2026-02-28T09:00:00")
        self.assertIn("started_at", old.context["form"].errors)
        self.assertFalse(Call.objects.exists())

    def test_only_trained_operators_and_counsellors_log(self) -> None:
        untrained = self.demo.users["hotline2"]
        for user in (untrained, self.c1_counsellor, self.city_admin):
            client = self.client_for(user)
            page = client.get(reverse("hotline:call_new"))
            self.assertEqual(page.status_code, 403, user.username)
            self.assertTrue(page.context["reason"])
            self.assertEqual(client.post(reverse("hotline:call_new"), self.form()).status_code, 403)
        self.assertContains(
            self.client_for(untrained).get(reverse("hotline:call_new")),
            "没有您有效的疫情应对心理援助培训记录",
            status_code=403,
        )
        with self.assertRaises(PermissionDenied):
            actions.log_call(
                acting_user=untrained,
                centre=self.centre,
                data=actions.CallInput(caller_type="self", started_at=NOW, problems=["other"]),
            )
        self.assertFalse(Call.objects.exists())

    def test_anonymous_high_risk_call_raises_a_crisis_alert_on_an_unnamed_file(self) -> None:
        response = self.post(risk_ideation="on", risk_plan="on", caller_type="anonymous")
        self.assertEqual(response.status_code, 302)
        call = Call.objects.get()
        self.assertEqual(call.risk, "high")
        self.assertIsNotNone(call.alert)
        alert = call.alert
        person = alert.person
        self.assertTrue(person.unnamed_contact)
        self.assertEqual(person.unit, self.centre)
        self.assertIn(call.reference, person.name)
        self.assertEqual(call.person, person)
        self.assertEqual(person.sex, "female")
        self.assertIn(self.lead, handlers_of(person))
        self.assertIsNotNone(alert.ack_deadline)
        self.assertGreater(alert.ack_deadline, NOW)
        signal = RiskSignal.objects.get(object_id=str(call.pk))
        self.assertEqual(signal.facts.get("call_risk"), "high")
        self.assertNotIn("notes", signal.facts)
        page = self.client_for(self.hotline).get(reverse("hotline:call", args=[call.pk]))
        self.assertContains(page, reverse("risk:alert", args=[alert.pk]))

    def test_linked_high_risk_call_raises_the_alert_on_that_person(self) -> None:
        person = Person.objects.create(unit=self.centre, name="测试来电甲", sex="male")
        found = self.client_for(self.hotline).post(reverse("hotline:call_people"), {"q": "来电甲"})
        self.assertContains(found, str(person.pk))
        self.assertTrue(
            AccessLog.objects.filter(object_type="people.person", kind="search").exists()
        )
        response = self.post(person=str(person.pk), risk="high")
        self.assertEqual(response.status_code, 302)
        call = Call.objects.get()
        self.assertEqual(call.person, person)
        self.assertEqual(call.alert.person, person)
        self.assertEqual(Person.objects.filter(unnamed_contact=True).count(), 0)
        self.assertTrue(
            PersonEvent.objects.filter(
                person=person, kind=EventKind.CALL, object_id=str(call.pk)
            ).exists()
        )

    def test_person_outside_the_operators_scope_cannot_be_linked(self) -> None:
        person = Person.objects.create(unit=self.c1, name="社区居民乙")
        found = self.client_for(self.hotline).post(reverse("hotline:call_people"), {"q": "居民乙"})
        self.assertNotContains(found, str(person.pk))
        response = self.post(person=str(person.pk))
        self.assertEqual(response.status_code, 400)
        self.assertIn("person", response.context["form"].errors)
        self.assertFalse(Call.objects.exists())

    def test_medium_call_raises_a_signal(self) -> None:
        self.post(risk_wish_dead="on", risk_method="on")
        call = Call.objects.get()
        self.assertEqual(call.risk, "medium")
        signal = RiskSignal.objects.get(object_id=str(call.pk))
        self.assertEqual(signal.facts.get("call_risk"), "medium")

    def test_notes_triaged_high_put_the_call_at_medium_and_raise_the_alert(self) -> None:
        response = self.post(notes="来电者说今晚就要跳楼，已经写好了遗书。", risk="low")
        self.assertEqual(response.status_code, 302)
        call = Call.objects.get()
        self.assertEqual(call.text_risk, "high")
        self.assertEqual(call.risk, "medium")
        self.assertIsNotNone(call.alert)
        page = self.client_for(self.hotline).get(reverse("hotline:call", args=[call.pk]))
        self.assertTrue(page.context["text_warning"])

    def test_notes_are_encrypted_at_rest_and_hidden_without_the_right(self) -> None:
        secret = "来电者提到与丈夫争吵后情绪低落"
        self.post(notes=secret, callback_phone="13800000000", callback_at="2026-03-03T10:00")
        call = Call.objects.get()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT notes, callback_phone FROM {Call._meta.db_table} WHERE id = %s",  # noqa: S608
                [call.pk.hex if connection.vendor == "sqlite" else call.pk],
            )
            raw_notes, raw_phone = cursor.fetchone()
        self.assertTrue(raw_notes)
        self.assertNotIn(secret, raw_notes)
        self.assertNotIn("13800000000", raw_phone)
        url = reverse("hotline:call", args=[call.pk])
        before = AccessLog.objects.filter(object_type="hotline.call", reason="call notes").count()
        self.assertContains(self.client_for(self.hotline).get(url), secret)
        after = AccessLog.objects.filter(object_type="hotline.call", reason="call notes").count()
        self.assertEqual(after, before + 1)
        # The city administrator sees the call, not its notes or the number.
        admin = self.client_for(self.city_admin).get(url)
        self.assertEqual(admin.status_code, 200)
        self.assertNotContains(admin, secret)
        self.assertNotContains(admin, "13800000000")
        listing = self.client_for(self.hotline).get(reverse("hotline:calls"))
        self.assertContains(listing, call.reference)
        self.assertNotContains(listing, secret)

    def test_scope_of_calls(self) -> None:
        self.post()
        call = Call.objects.get()
        url = reverse("hotline:call", args=[call.pk])
        self.assertEqual(self.client_for(self.c1_counsellor).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.outsider).get(url).status_code, 404)
        self.assertEqual(
            self.client_for(self.c1_worker).get(reverse("hotline:calls")).status_code, 404
        )
        # A call of another city's hotline is not found for our operator.
        other_centre = Unit(kind=UnitKind.HOTLINE_CENTRE, name="外市热线", parent=self.outside_city)
        other_centre.depth = 1
        other_centre.path = f"{self.outside_city.path}{other_centre.id.hex}/"
        other_centre.save()
        Membership.objects.create(user=self.outsider, unit=other_centre, role=Role.COUNSELLOR)
        forget_grants(self.outsider)
        HotlineTraining.objects.create(
            operator=self.outsider,
            centre=other_centre,
            course="培训",
            completed_on=date(2026, 1, 1),
        )
        theirs = actions.log_call(
            acting_user=self.outsider,
            centre=other_centre,
            data=actions.CallInput(
                caller_type="self", started_at=NOW - timedelta(minutes=5), problems=["other"]
            ),
        )
        client = self.client_for(self.hotline)
        self.assertEqual(client.get(reverse("hotline:call", args=[theirs.pk])).status_code, 404)
        self.assertEqual(
            client.post(reverse("hotline:call_back_done", args=[theirs.pk])).status_code, 404
        )
        listed = client.get(reverse("hotline:calls"))
        self.assertNotContains(listed, theirs.reference)

    def test_list_filters_and_call_back(self) -> None:
        self.post(risk="high", callback_at="2026-03-02T15:00")
        self.post()
        client = self.client_for(self.hotline)
        high = client.get(reverse("hotline:calls"), {"risk": "high"})
        self.assertEqual(len(high.context["rows"]), 1)
        none_today = client.get(reverse("hotline:calls"), {"date_from": "2026-03-03"})
        self.assertEqual(len(none_today.context["rows"]), 0)
        bad = client.get(reverse("hotline:calls"), {"date_from": "3月", "risk": "x"})
        self.assertEqual(set(bad.context["errors"]), {"date_from", "risk"})
        call = Call.objects.get(risk="high")
        done = client.post(reverse("hotline:call_back_done", args=[call.pk]))
        self.assertEqual(done.status_code, 302)
        call.refresh_from_db()
        self.assertEqual(call.callback_done_at, NOW)
