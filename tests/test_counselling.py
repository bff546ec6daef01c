"""Counselling sessions, case records and outcome tracking (issue #6 items 3 and 4,
R-SESSION; seed 002 篇6 三(二)2)."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.people_data import phone, resident_id
from xinqiao.assessments.models import Assessment
from xinqiao.audit.models import AccessLog
from xinqiao.counselling import actions
from xinqiao.counselling.models import Programme, Session, SessionParticipant
from xinqiao.counselling.outcomes import outcomes_for, pre_post, programme_outcomes
from xinqiao.instruments.change import reliable_change_index, reliable_change_points
from xinqiao.orgs.permissions import Action, Role, role_allows
from xinqiao.people import actions as people_actions
from xinqiao.people.models import EventKind, PersonEvent
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
SECRET = "自述近期失业后失眠明显"
CASE = {
    "basic_situation": SECRET,
    "self_evaluation": "觉得自己没用",
    "life_events": "三个月前失业",
    "advice": "规律作息，每周复诊",
}


class CounsellingTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.grid1 = cls.demo.grids[1][0]
        cls.p1 = cls.make(1, cls.grid1)
        cls.p2 = cls.make(2, cls.grid1)
        cls.p3 = cls.make(3, cls.c1)
        cls.no_consent = cls.make(4, cls.c1, consent=False)
        cls.other = cls.make(5, cls.c2, user=cls.c2_counsellor)

    @classmethod
    def make(cls, serial, unit, *, consent=True, user=None):
        user = user or cls.c1_counsellor
        person = people_actions.register_person(
            acting_user=user,
            unit=unit,
            name=f"咨询{serial}",
            id_number=resident_id(date(1980, 3, 2), serial + 40),
            phone=phone(serial + 40),
        )
        if consent:
            people_actions.give_consent(
                acting_user=user,
                person=person,
                purpose="counselling",
                given_by="self",
                method="signed_paper",
                given_on=timezone.localdate(),
            )
        return person

    def individual(self, person=None, **extra):
        return actions.record_session(
            acting_user=self.c1_counsellor,
            kind="individual",
            format="offline",
            held_at=timezone.now() - timedelta(hours=1),
            participants=[{"person": person or self.p1, **CASE}],
            **{
                "techniques": ["supportive_listening", "cbt"],
                "toolkit": ["handbook"],
                "plan": "每周一次，共六次",
                **extra,
            },
        )

    # --- recording -------------------------------------------------------------------------

    def test_individual_session_with_timeline(self):
        session = self.individual()
        self.assertEqual(session.unit, self.grid1)
        self.assertEqual(session.participants.get().basic_situation, SECRET)
        event = PersonEvent.objects.get(person=self.p1, kind=EventKind.SESSION)
        self.assertNotIn(SECRET, event.summary)

    def test_family_and_group_sessions(self):
        family = actions.record_session(
            acting_user=self.c1_counsellor,
            kind="family",
            format="online",
            held_at=timezone.now(),
            participants=[{"person": self.p1}, {"person": self.p2, "role": "family_member"}],
        )
        self.assertEqual(family.participants.count(), 2)
        group = actions.record_session(
            acting_user=self.c1_counsellor,
            kind="group",
            format="offline",
            held_at=timezone.now(),
            title="睡眠团体",
            participants=[{"person": self.p1}, {"person": self.p2}, {"person": self.p3}],
        )
        self.assertEqual(group.unit, self.c1)
        self.assertEqual(
            PersonEvent.objects.filter(kind=EventKind.SESSION, object_id=str(group.pk)).count(), 3
        )

    def test_bad_input_refused(self):
        with self.assertRaises(ValidationError) as ctx:
            actions.record_session(
                acting_user=self.c1_counsellor,
                kind="individual",
                format="offline",
                held_at=timezone.now(),
                participants=[{"person": self.p1}],
            )
        self.assertIn("basic_situation", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            self.individual(minutes=0)
        self.assertIn("minutes", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            actions.record_session(
                acting_user=self.c1_counsellor,
                kind="individual",
                format="offline",
                held_at=timezone.now() + timedelta(hours=2),
                participants=[{"person": self.p1, **CASE}],
            )
        with self.assertRaises(ValidationError):
            self.individual(techniques=["hypnosis"])
        self.assertFalse(Session.objects.exists())

    def test_consent_missing_refused_naming_the_person(self):
        with self.assertRaises(ValidationError) as ctx:
            self.individual(self.no_consent)
        self.assertIn(self.no_consent.name, str(ctx.exception))
        self.assertFalse(Session.objects.exists())

    def test_other_community_refused_without_leaking(self):
        with self.assertRaises(ValidationError) as ctx:
            self.individual(self.other)
        message = " ".join(ctx.exception.message_dict["participants"])
        self.assertIn("在您服务的人员中未找到", message)
        self.assertNotIn(self.other.name, message)
        self.assertFalse(Session.objects.exists())

    def test_family_needs_a_client(self):
        with self.assertRaises(ValidationError) as ctx:
            actions.record_session(
                acting_user=self.c1_counsellor,
                kind="family",
                format="offline",
                held_at=timezone.now(),
                participants=[
                    {"person": self.p1, "role": "family_member"},
                    {"person": self.p2, "role": "family_member"},
                ],
            )
        self.assertIn("participants", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            actions.record_session(
                acting_user=self.c1_counsellor,
                kind="group",
                format="offline",
                held_at=timezone.now(),
                participants=[{"person": self.p1}, {"person": self.p1}],
            )
        self.assertFalse(Session.objects.exists())

    def test_change_log_masks_the_case_record(self):
        from auditlog.models import LogEntry

        participant = self.individual().participants.get()
        actions.update_case_record(
            acting_user=self.c1_counsellor, participant=participant, advice="转介精神科门诊"
        )
        entries = LogEntry.objects.filter(object_pk=str(participant.pk))
        self.assertTrue(entries.exists())
        for entry in entries:
            self.assertNotIn("转介精神科门诊", str(entry.changes))
            self.assertNotIn(SECRET, str(entry.changes))

    def test_update_case_record(self):
        participant = self.individual().participants.get()
        actions.update_case_record(
            acting_user=self.c1_counsellor, participant=participant, advice="转介精神科"
        )
        participant.refresh_from_db()
        self.assertEqual(participant.advice, "转介精神科")
        with self.assertRaises(ValidationError):
            actions.update_case_record(
                acting_user=self.c1_counsellor, participant=participant, advice=""
            )

    def test_encrypted_at_rest(self):
        participant = self.individual().participants.get()
        table = SessionParticipant._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT basic_situation FROM {table} WHERE id = %s",  # noqa: S608
                [participant.pk.hex if connection.vendor == "sqlite" else participant.pk],
            )
            raw = cursor.fetchone()[0]
        self.assertTrue(raw)
        self.assertNotIn(SECRET, raw)

    # --- visibility ------------------------------------------------------------------------

    def test_roles(self):
        session = self.individual()
        url = f"/counselling/{session.pk}/"
        before = AccessLog.objects.filter(object_id=str(session.pk)).count()
        page = self.client_for(self.c1_counsellor).get(url)
        self.assertContains(page, SECRET)
        self.assertEqual(AccessLog.objects.filter(object_id=str(session.pk)).count(), before + 1)
        for user in (self.c1_grid, self.c1_worker):
            if user.username == "c1_grid1":
                from xinqiao.orgs.models import ConfidentialityAgreement

                ConfidentialityAgreement.objects.get_or_create(
                    user=user, defaults={"signed_on": date(2020, 1, 1)}
                )
            page = self.client_for(user).get(url)
            self.assertEqual(page.status_code, 200, user.username)
            self.assertNotContains(page, SECRET)
            self.assertNotContains(page, "规律作息")
            file = self.client_for(user).get(f"/people/{self.p1.pk}/")
            self.assertEqual(file.status_code, 200)
            self.assertContains(file, session.held_at.astimezone(TZ).strftime("%Y-%m-%d"))
            self.assertNotContains(file, "规律作息")
        for user in (self.c2_counsellor, self.c2_grid, self.outsider, self.psychiatrist):
            self.assertEqual(self.client_for(user).get(url).status_code, 404, user.username)
        logged = AccessLog.objects.filter(
            object_id=str(session.pk), user=self.c1_counsellor, reason="person file"
        ).count()
        file = self.client_for(self.c1_counsellor).get(f"/people/{self.p1.pk}/")
        self.assertContains(file, "规律作息")
        self.assertEqual(
            AccessLog.objects.filter(
                object_id=str(session.pk), user=self.c1_counsellor, reason="person file"
            ).count(),
            logged + 1,
        )
        # No SESSION_VIEW: 404, like a missing session.
        self.assertEqual(self.client_for(self.auditor).get(url).status_code, 404)
        # Correcting a case record is for clinical roles.
        participant = session.participants.get()
        edit = f"/counselling/{session.pk}/participants/{participant.pk}/"
        self.assertEqual(self.client_for(self.c1_worker).get(edit).status_code, 404)
        corrected = self.client_for(self.c1_counsellor).post(edit, {**CASE, "advice": "复诊"})
        self.assertEqual(corrected.status_code, 302)
        participant.refresh_from_db()
        self.assertEqual(participant.advice, "复诊")
        # A psychiatrist serving the community reads the content too.
        from xinqiao.accounts.models import User
        from xinqiao.orgs.models import ConfidentialityAgreement, Membership, StaffProfile

        doctor = User.objects.create_user(username="c1_doctor", name="社区精神科医生")
        Membership.objects.create(user=doctor, unit=self.c1, role=Role.PSYCHIATRIST)
        StaffProfile.objects.create(user=doctor)
        ConfidentialityAgreement.objects.create(
            user=doctor,
            signed_on=timezone.localdate(),
            document_reference="T-1",
            recorded_by=self.city_admin,
        )
        self.assertContains(self.client_for(doctor).get(url), SECRET)
        # Psychiatrists, social workers and school psychology teachers read content too.
        for role in (Role.PSYCHIATRIST, Role.SOCIAL_WORKER, Role.COUNSELLOR):
            self.assertTrue(role_allows(role, Action.SESSION_NOTES_VIEW))
        for role in (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_ADMIN):
            self.assertFalse(role_allows(role, Action.SESSION_NOTES_VIEW))

    def test_pages(self):
        client = self.client_for(self.c1_counsellor)
        page = client.get(f"/counselling/new/?person={self.p1.pk}")
        self.assertEqual(page.status_code, 200)
        posted = client.post(
            f"/counselling/people/{self.p1.pk}/new/",
            {
                "kind": "individual",
                "format": "offline",
                "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "minutes": "50",
                **CASE,
            },
        )
        self.assertEqual(posted.status_code, 302, posted.content[:2000])
        group = client.post(
            "/counselling/new/",
            {
                "kind": "group",
                "format": "offline",
                "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "minutes": "90",
                "participants": [str(self.p1.pk), str(self.p3.pk)],
            },
        )
        self.assertEqual(group.status_code, 302)
        self.assertEqual(client.get("/counselling/").status_code, 200)
        self.assertEqual(client.get("/counselling/programmes/").status_code, 200)
        self.assertEqual(
            self.client_for(self.c2_counsellor)
            .get(f"/counselling/new/?person={self.p1.pk}")
            .status_code,
            404,
        )

    # --- outcomes --------------------------------------------------------------------------

    def score(self, person, instrument, total, when):
        return Assessment.objects.create(
            person=person,
            unit=person.unit,
            instrument=instrument,
            mode="staff",
            status="completed",
            total=total,
            raw=total,
            completed_at=when,
            band_code="test",
        )

    def test_rci_worked_example(self):
        # PHQ-9 from 18 to 8; s1 = 5.0, r = 0.84: SE = 5·√0.16 = 2.0, S_diff = √(2·4) = 2.828…,
        # RCI = −10 / 2.828 = −3.536: reliable (|RCI| > 1.96).
        rci = reliable_change_index(18, 8, sd=5.0, reliability=0.84)
        self.assertAlmostEqual(rci, -10 / math.sqrt(8), places=9)
        self.assertAlmostEqual(rci, -3.5355, places=3)
        self.assertAlmostEqual(reliable_change_points(sd=5.0, reliability=0.84), 5.54, places=2)
        day = datetime(2026, 3, 1, 10, tzinfo=TZ)
        self.score(self.p1, "phq9", 18, day)
        self.score(self.p1, "phq9", 8, day + timedelta(days=60))
        outcome = outcomes_for([self.p1], "phq9")
        self.assertEqual(outcome.summary.people, 1)
        self.assertEqual(outcome.summary.reliably_improved, 1)
        self.assertEqual(outcome.summary.reliably_recovered, 1)

    def test_programme_summary(self):
        programme = Programme.objects.create(
            unit=self.c1, name="睡眠团体", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30)
        )
        start = datetime(2026, 4, 1, 9, tzinfo=TZ)
        with self.settings():
            session = actions.record_session(
                acting_user=self.c1_counsellor,
                kind="group",
                format="offline",
                held_at=timezone.now(),
                participants=[{"person": self.p1}, {"person": self.p2}, {"person": self.p3}],
                programme=programme,
            )
        self.assertEqual(session.programme, programme)
        # p1: baseline before the start (an older one ignored), improved and recovered.
        self.score(self.p1, "phq9", 22, start - timedelta(days=90))
        self.score(self.p1, "phq9", 15, start - timedelta(days=2))
        self.score(self.p1, "phq9", 6, start + timedelta(days=40))
        # p2: no score before: the first within is the baseline; deteriorated.
        self.score(self.p2, "phq9", 5, start + timedelta(days=3))
        self.score(self.p2, "phq9", 12, start + timedelta(days=50))
        # p3: no change; a score after the end is not counted.
        self.score(self.p3, "phq9", 11, start - timedelta(days=1))
        self.score(self.p3, "phq9", 10, start + timedelta(days=30))
        self.score(self.p3, "phq9", 0, start + timedelta(days=200))
        phq, gad = programme_outcomes(programme)
        s = phq.summary
        self.assertEqual(
            (s.people, s.reliably_improved, s.reliably_deteriorated, phq.no_reliable_change),
            (3, 1, 1, 1),
        )
        self.assertEqual((s.cases_at_first, s.recovered, s.reliably_recovered), (2, 1, 1))
        self.assertEqual(gad.summary.people, 0)
        page = self.client_for(self.c1_counsellor).get(f"/counselling/programmes/{programme.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "PHQ9")
        # Above the unit, counts below the small-cell threshold are suppressed.
        page = self.client_for(self.street_admin).get(f"/counselling/programmes/{programme.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "*</abbr>")
        self.assertEqual(
            self.client_for(self.c2_counsellor)
            .get(f"/counselling/programmes/{programme.pk}/")
            .status_code,
            404,
        )

    def test_pre_post_pure(self):
        t = datetime(2026, 1, 1, tzinfo=TZ)
        self.assertIsNone(pre_post([(t, 10)], start=None, end=None))
        self.assertEqual(pre_post([(t, 10), (t + timedelta(1), 4)], start=None, end=None), (10, 4))


class DemoTests(PersonaTestCase):
    def test_populate(self):
        from xinqiao.counselling import demo

        for n in range(3):
            people_actions.register_person(
                acting_user=self.c1_counsellor,
                unit=self.c1,
                name=f"演示{n}",
                id_number=resident_id(date(1979, 1, 5), n + 60),
                phone=phone(n + 60),
            )
        demo.populate(timezone.localdate())
        self.assertTrue(Session.objects.filter(kind="group", programme__isnull=False).exists())
        self.assertTrue(Session.objects.filter(kind="individual").exists())


class SessionForAppointmentTests(PersonaTestCase):
    """A session recorded for an appointment closes it as attended, and every session is a
    follow-up contact: the plan's next due date moves on (R-BOOK → R-SESSION → R-FOLLOW)."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.p1 = CounsellingTestCase.make.__func__(cls, 1, cls.c1)  # type: ignore[attr-defined]
        cls.p3 = CounsellingTestCase.make.__func__(cls, 3, cls.c1)  # type: ignore[attr-defined]

    def test_session_from_its_appointment_marks_it_attended_and_moves_the_plan(self):
        import time_machine

        from xinqiao.booking import actions as booking_actions
        from xinqiao.booking.actions import WindowInput
        from xinqiao.followups.models import FollowUpPlan

        monday_9 = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
        with time_machine.travel(datetime(2026, 12, 7, 8, 0, tzinfo=TZ), tick=False):
            booking_actions.publish_availability(
                acting_user=self.c1_counsellor,
                unit=self.c1,
                windows=[WindowInput(weekday=0, start=time(9), end=time(12))],
            )
            appointment = booking_actions.book(
                acting_user=self.c1_counsellor,
                person=self.p3,
                counsellor=self.c1_counsellor,
                starts_at=monday_9,
                channel="staff",
            )
            early = self.client_for(self.c1_counsellor).get(f"/booking/a/{appointment.pk}/")
            self.assertNotContains(early, "?appointment=")  # not begun: nothing to record
        with time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=TZ), tick=False):
            client = self.client_for(self.c1_counsellor)
            page = client.get(f"/booking/a/{appointment.pk}/")
            link = f"/counselling/people/{self.p3.pk}/new/?appointment={appointment.pk}"
            self.assertContains(page, link)
            form = client.get(link)
            self.assertEqual(form.context["form"].initial["held_at"], "2026-12-07T09:00")
            response = client.post(
                link,
                {
                    "kind": "individual",
                    "format": "offline",
                    "held_at": "2026-12-07T09:00",
                    "minutes": "50",
                    **CASE,
                },
            )
            self.assertEqual(response.status_code, 302, getattr(response, "context", None))
            appointment.refresh_from_db()
            self.assertEqual(appointment.status, "attended")
            self.assertEqual(appointment.session.participants.get().person, self.p3)
            plan = FollowUpPlan.objects.get(person=self.p3)
            self.assertEqual(plan.last_contact_on, date(2026, 12, 7))
            self.assertEqual(plan.next_due, date(2026, 12, 7) + timedelta(days=plan.interval_days))
            # The same appointment cannot be recorded twice.
            with self.assertRaises(ValidationError) as refused:
                actions.record_session(
                    acting_user=self.c1_counsellor,
                    kind="individual",
                    format="offline",
                    held_at=monday_9,
                    participants=[{"person": self.p3, **CASE}],
                    appointment=appointment,
                )
            self.assertIn("appointment", refused.exception.message_dict)
            # Another person's appointment is not this session's.
            with self.assertRaises(ValidationError):
                actions.record_session(
                    acting_user=self.c1_counsellor,
                    kind="individual",
                    format="offline",
                    held_at=monday_9,
                    participants=[{"person": self.p1, **CASE}],
                    appointment=booking_actions.book(
                        acting_user=self.c1_counsellor,
                        person=self.p1,
                        counsellor=self.c1_counsellor,
                        starts_at=datetime(2026, 12, 14, 9, 0, tzinfo=TZ),
                        channel="staff",
                    ),
                )
