"""Referrals and feedback (issue #5 item 7, R-REFER): community → hospital and back on
discharge, civil affairs, schools and other communities; accept, decline, outcome, cancel;
consent for sharing data with a hospital and the emergency override (break-glass); the
receiving unit sees the referral, not the file; 404 for everyone else."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.people_data import phone, resident_id
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.ops.demo import build_demo_city
from xinqiao.people import actions as people_actions
from xinqiao.people.events import event_link
from xinqiao.people.models import EventKind, PersonEvent
from xinqiao.referrals import actions
from xinqiao.referrals.models import Referral, ReferralKind, ReferralStatus
from xinqiao.risk import actions as risk_actions
from xinqiao.risk.models import Alert, AlertStatus, RiskSignal
from xinqiao.test import PersonaTestCase

REASON = "近两周失眠加重，自述有轻生念头，家属陪同"
OUTCOME = "已收治入院，诊断为抑郁发作，治疗两周后好转"
CONTACT = "027-88886666"


class ReferralTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.doctor = cls.demo.users["doctor1"]
        cls.civil = cls.demo.users["civil1"]
        cls.teacher = cls.demo.users["teacher1"]
        cls.hospital = cls.demo.hospital
        cls.psychiatric = cls.demo.psychiatric
        cls.civil_affairs = cls.demo.civil_affairs
        cls.school = cls.demo.school

    def person(self, *, serial=1, unit=None, sharing=True, user=None):
        user = user or self.c1_counsellor
        person = people_actions.register_person(
            acting_user=user,
            unit=unit or self.c1,
            name=f"转介{serial}",
            id_number=resident_id(date(1985, 5, 17), serial),
            phone=phone(serial),
        )
        if sharing:
            people_actions.give_consent(
                acting_user=user,
                person=person,
                purpose="data_sharing_hospital",
                given_by="self",
                method="signed_paper",
                given_on=timezone.localdate(),
            )
        return person

    def refer(self, person, *, to_unit=None, kind="admission", user=None, **extra):
        return actions.refer_person(
            acting_user=user or self.c1_counsellor,
            person=person,
            to_unit=to_unit or self.hospital,
            kind=kind,
            reason=extra.pop("reason", REASON),
            contact_phone=extra.pop("contact_phone", CONTACT),
            **extra,
        )

    def accepted(self, person, **extra):
        referral = self.refer(person, **extra)
        return actions.accept_referral(acting_user=self.doctor, referral=referral)

    def form(self, to_unit, **extra):
        data = {
            "kind": "admission",
            "to_unit": str(to_unit.pk),
            "urgency": "urgent",
            "reason": REASON,
            "contact_phone": CONTACT,
            "emergency_reason": "",
        }
        data.update(extra)
        return data

    def referral_events(self, person):
        return list(
            PersonEvent.objects.filter(person=person, kind=EventKind.REFERRAL).order_by("at", "id")
        )


class CommunityToHospitalTests(ReferralTestCase):
    def test_accepted_and_done_with_the_outcome_fed_back_to_the_community(self):
        person = self.person()
        sender = self.client_for(self.c1_counsellor)
        response = sender.post(f"/referrals/people/{person.pk}/new/", self.form(self.hospital))
        referral = Referral.objects.get(person=person)
        self.assertRedirects(response, f"/referrals/{referral.pk}/")
        self.assertEqual(
            (referral.status, referral.from_unit, referral.to_unit, referral.sent_by),
            (ReferralStatus.SENT, self.c1, self.hospital, self.c1_counsellor),
        )
        self.assertIsNotNone(referral.consent_id)
        self.assertEqual(referral.contact_phone, "02788886666")

        doctor = self.client_for(self.doctor)
        inbox = doctor.get("/referrals/").content.decode()
        self.assertIn(f"/referrals/{referral.pk}/", inbox)
        self.assertIn(person.name, inbox)
        page = doctor.get(f"/referrals/{referral.pk}/").content.decode()
        for shown in (person.name, person.phone, REASON, self.c1.name, "02788886666"):
            self.assertIn(shown, page)
        self.assertIn(self.c1_counsellor.name, page)
        self.assertTrue(
            AccessLog.objects.filter(
                user=self.doctor,
                kind=AccessKind.VIEW,
                object_type="referrals.referral",
                object_id=str(referral.pk),
            ).exists()
        )

        self.assertEqual(doctor.post(f"/referrals/{referral.pk}/accept/").status_code, 302)
        response = doctor.post(
            f"/referrals/{referral.pk}/outcome/",
            {"outcome": OUTCOME, "outcome_on": timezone.localdate().isoformat()},
        )
        self.assertRedirects(response, f"/referrals/{referral.pk}/")
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.DONE)
        self.assertEqual((referral.decided_by, referral.completed_by), (self.doctor, self.doctor))
        self.assertEqual(referral.outcome, OUTCOME)

        # The community sees the outcome: in its sent list, on the page, on the file.
        sent = sender.get("/referrals/?box=out&status=done").content.decode()
        self.assertIn(f"/referrals/{referral.pk}/", sent)
        self.assertIn(OUTCOME, sender.get(f"/referrals/{referral.pk}/").content.decode())
        file_page = sender.get(f"/people/{person.pk}/").content.decode()
        self.assertIn('id="referrals"', file_page)
        self.assertIn(OUTCOME, file_page)
        self.assertIn(f"/referrals/{referral.pk}/", file_page)

        # The timeline: sent, accepted, done; no free text in the summaries.
        events = self.referral_events(person)
        self.assertEqual(len(events), 3)
        for event in events:
            self.assertIn(self.hospital.name, event.summary)
            self.assertNotIn(REASON, event.summary)
            self.assertNotIn(OUTCOME, event.summary)
            self.assertEqual(event_link(event), f"/referrals/{referral.pk}/")

    def test_the_receiving_hospital_sees_the_referral_but_not_the_file(self):
        person = self.person()
        referral = self.refer(person)
        doctor = self.client_for(self.doctor)
        self.assertEqual(doctor.get(f"/referrals/{referral.pk}/").status_code, 200)
        self.assertEqual(doctor.get(f"/people/{person.pk}/").status_code, 404)
        self.assertEqual(doctor.get(f"/referrals/people/{person.pk}/new/").status_code, 404)
        # Oversight of the file sees the referral's row on the file, not its page.
        city = self.client_for(self.city_admin)
        file_page = city.get(f"/people/{person.pk}/").content.decode()
        section = file_page[file_page.index('id="referrals"') : file_page.index('id="hospital"')]
        self.assertIn(self.hospital.name, section)
        self.assertNotIn(f"/referrals/{referral.pk}/", section)
        self.assertEqual(city.get(f"/referrals/{referral.pk}/").status_code, 404)

    def test_other_community_and_other_units_get_404_on_every_page(self):
        person = self.person()
        referral = self.accepted(person)
        missing = uuid.uuid4()
        pages = ["", "accept/", "decline/", "outcome/", "cancel/", "discharge/"]
        for user in (self.c2_counsellor, self.psychiatrist, self.outsider, self.c1_grid):
            client = self.client_for(user)
            with self.subTest(user=user.username):
                for suffix in pages:
                    for target in (referral.pk, missing):
                        self.assertEqual(
                            client.post(f"/referrals/{target}/{suffix}").status_code, 404
                        )
                    if suffix not in ("accept/", "cancel/"):  # POST only: 405 on GET
                        self.assertEqual(
                            client.get(f"/referrals/{referral.pk}/{suffix}").status_code, 404
                        )
                self.assertEqual(client.get(f"/referrals/people/{person.pk}/new/").status_code, 404)
                listing = client.get("/referrals/?status=all")
                self.assertIn(listing.status_code, (200, 404))
                self.assertNotIn(person.name, listing.content.decode())
        self.assertEqual(Referral.objects.get().status, ReferralStatus.ACCEPTED)

    def test_the_sending_side_may_not_answer_and_the_receiving_side_may_not_cancel(self):
        referral = self.refer(self.person())
        sender = self.client_for(self.c1_counsellor)
        self.assertEqual(sender.post(f"/referrals/{referral.pk}/accept/").status_code, 403)
        self.assertEqual(sender.get(f"/referrals/{referral.pk}/outcome/").status_code, 403)
        doctor = self.client_for(self.doctor)
        self.assertEqual(doctor.post(f"/referrals/{referral.pk}/cancel/").status_code, 403)
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.SENT)

    def test_list_queries_do_not_grow_with_the_referrals(self):
        for serial in range(1, 3):
            self.refer(self.person(serial=serial))
        doctor = self.client_for(self.doctor)
        doctor.get("/referrals/")  # session and grants warmed up
        with CaptureQueriesContext(connection) as two:
            doctor.get("/referrals/")
        for serial in range(3, 6):
            self.refer(self.person(serial=serial))
        with CaptureQueriesContext(connection) as five:
            page = doctor.get("/referrals/").content.decode()
        self.assertEqual(len(two.captured_queries), len(five.captured_queries))
        self.assertIn("转介5", page)


class FeedbackNotificationTests(ReferralTestCase):
    def test_the_receiving_unit_hears_of_a_referral_and_the_sender_of_the_answer(self):
        from xinqiao.notify.models import Notification

        person = self.person()
        referral = self.refer(person)
        told = Notification.objects.filter(
            object_type="referrals.referral", object_id=str(referral.pk)
        )
        self.assertIn(self.demo.users["doctor1"], [n.recipient for n in told])
        self.assertNotIn(self.c1_counsellor, [n.recipient for n in told])
        for note in told:
            self.assertNotIn(person.name, note.subject + note.body)
        actions.accept_referral(acting_user=self.demo.users["doctor1"], referral=referral)
        self.assertTrue(told.filter(recipient=self.c1_counsellor).exists())


class DischargeTests(ReferralTestCase):
    def test_hospital_discharge_goes_back_to_the_community_with_a_risk_signal(self):
        grid = self.demo.grids[1][0]
        person = self.person(unit=grid)
        admission = self.accepted(person)
        doctor = self.client_for(self.doctor)
        page = doctor.get(f"/referrals/{admission.pk}/").content.decode()
        self.assertIn(f"/referrals/{admission.pk}/discharge/", page)
        plan = "出院康复评估：病情稳定。每两周随访一次，按时服药，注意复发征兆"
        response = doctor.post(
            f"/referrals/{admission.pk}/discharge/",
            {
                "discharged_on": timezone.localdate().isoformat(),
                "follow_up_plan": plan,
                "urgency": "urgent",
                "contact_phone": "027-88886667",
            },
        )
        discharge = Referral.objects.get(kind=ReferralKind.DISCHARGE)
        self.assertRedirects(response, f"/referrals/{discharge.pk}/")
        # From the hospital to the community that looks after the person (not the grid).
        self.assertEqual((discharge.from_unit, discharge.to_unit), (self.hospital, self.c1))
        self.assertEqual((discharge.previous, discharge.reason), (admission, plan))
        self.assertEqual(discharge.discharged_on, timezone.localdate())
        admission.refresh_from_db()
        self.assertEqual(admission.status, ReferralStatus.DONE)
        self.assertIn(self.c1.name, admission.outcome)
        # The discharge raised a risk signal for the community (xinqiao.risk.actions).
        signal = RiskSignal.objects.get(object_type="referrals.referral")
        self.assertEqual(signal.object_id, str(discharge.pk))
        self.assertEqual(signal.source, "hospital_discharge")

        # The community accepts and completes it like any other referral.
        community = self.client_for(self.c1_counsellor)
        inbox = community.get("/referrals/?box=in").content.decode()
        self.assertIn(f"/referrals/{discharge.pk}/", inbox)
        self.assertIn(plan, community.get(f"/referrals/{discharge.pk}/").content.decode())
        self.assertEqual(community.post(f"/referrals/{discharge.pk}/accept/").status_code, 302)
        community.post(
            f"/referrals/{discharge.pk}/outcome/",
            {"outcome": "已上门随访，纳入重点人群", "outcome_on": timezone.localdate().isoformat()},
        )
        discharge.refresh_from_db()
        self.assertEqual(discharge.status, ReferralStatus.DONE)
        self.assertEqual(discharge.completed_by, self.c1_counsellor)
        # The hospital sees the community's feedback on its discharge.
        self.assertIn("已上门随访", doctor.get(f"/referrals/{discharge.pk}/").content.decode())
        kinds = [e.summary for e in self.referral_events(person)]
        self.assertEqual(len(kinds), 6)  # sent, accepted, done; discharge sent, accepted, done

    def test_discharge_needs_a_person_received_and_a_plan(self):
        person = self.person()
        referral = self.refer(person)
        with pytest.raises(ValidationError) as info:
            actions.record_discharge(
                acting_user=self.doctor,
                referral=referral,
                discharged_on=timezone.localdate(),
                follow_up_plan="随访",
                contact_phone=CONTACT,
            )
        self.assertIn("referral", info.value.message_dict)
        actions.accept_referral(acting_user=self.doctor, referral=referral)
        for field, values in {
            "follow_up_plan": {"follow_up_plan": "  "},
            "discharged_on": {"discharged_on": timezone.localdate() + timedelta(days=1)},
            "contact_phone": {"contact_phone": "12"},
        }.items():
            kwargs = {
                "discharged_on": timezone.localdate(),
                "follow_up_plan": "每周随访",
                "contact_phone": CONTACT,
                **values,
            }
            with self.subTest(field=field), pytest.raises(ValidationError) as info:
                actions.record_discharge(acting_user=self.doctor, referral=referral, **kwargs)
            self.assertIn(field, info.value.message_dict)
        self.assertEqual(Referral.objects.count(), 1)
        self.assertFalse(RiskSignal.objects.filter(object_type="referrals.referral").exists())
        # A community's own referral is not a hospital's to discharge.
        relief = self.refer(person, to_unit=self.civil_affairs, kind="relief")
        relief = actions.accept_referral(acting_user=self.civil, referral=relief)
        self.assertEqual(
            self.client_for(self.civil).get(f"/referrals/{relief.pk}/discharge/").status_code, 404
        )


class AnswerTests(ReferralTestCase):
    def test_decline_with_a_reason_the_sender_reads(self):
        person = self.person()
        referral = self.refer(person, to_unit=self.civil_affairs, kind="relief")
        civil = self.client_for(self.civil)
        empty = civil.post(f"/referrals/{referral.pk}/decline/", {"decline_reason": ""})
        self.assertEqual(empty.status_code, 200)
        self.assertContains(empty, 'id="id_decline_reason-error"')
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.SENT)
        why = "不属于本辖区救助范围，请转户籍所在地民政部门"
        response = civil.post(f"/referrals/{referral.pk}/decline/", {"decline_reason": why})
        self.assertRedirects(response, f"/referrals/{referral.pk}/")
        referral.refresh_from_db()
        self.assertEqual(
            (referral.status, referral.decline_reason, referral.decided_by),
            (ReferralStatus.DECLINED, why, self.civil),
        )
        sender = self.client_for(self.c1_counsellor)
        self.assertIn(why, sender.get(f"/referrals/{referral.pk}/").content.decode())
        self.assertIn(why, sender.get(f"/people/{person.pk}/").content.decode())
        self.assertEqual(len(self.referral_events(person)), 2)

    def test_cancel_by_the_sending_unit(self):
        person = self.person()
        referral = self.refer(person)
        colleague = self.client_for(self.c1_worker)  # same community, not the sender
        self.assertEqual(colleague.post(f"/referrals/{referral.pk}/cancel/").status_code, 302)
        referral.refresh_from_db()
        self.assertEqual(
            (referral.status, referral.decided_by), (ReferralStatus.CANCELLED, self.c1_worker)
        )
        # Cancelled: the hospital can no longer accept it, and a new one may be sent.
        doctor = self.client_for(self.doctor)
        doctor.post(f"/referrals/{referral.pk}/accept/")
        referral.refresh_from_db()
        self.assertEqual(referral.status, ReferralStatus.CANCELLED)
        self.refer(person)
        self.assertEqual(Referral.objects.filter(person=person).count(), 2)

    def test_transitions_not_in_the_table_are_refused(self):
        person = self.person()
        referral = self.refer(person)
        today = timezone.localdate()

        def complete(r):
            return actions.complete_referral(
                acting_user=self.doctor, referral=r, outcome=OUTCOME, outcome_on=today
            )

        with pytest.raises(ValidationError) as info:
            complete(referral)  # sent → done skips acceptance
        self.assertIn("status", info.value.message_dict)
        actions.accept_referral(acting_user=self.doctor, referral=referral)
        refused = {
            "accept again": lambda r: actions.accept_referral(acting_user=self.doctor, referral=r),
            "decline": lambda r: actions.decline_referral(
                acting_user=self.doctor, referral=r, reason="满床"
            ),
            "cancel": lambda r: actions.cancel_referral(acting_user=self.c1_counsellor, referral=r),
        }
        for name, run in refused.items():
            with self.subTest(accepted=name), pytest.raises(ValidationError) as info:
                run(referral)
            self.assertIn("status", info.value.message_dict)
        complete(referral)
        for name, run in {**refused, "complete again": complete}.items():
            with self.subTest(done=name), pytest.raises(ValidationError):
                run(referral)
        referral.refresh_from_db()
        self.assertEqual((referral.status, referral.outcome), (ReferralStatus.DONE, OUTCOME))
        self.assertEqual(len(self.referral_events(person)), 3)
        # Every status and every target: only the table's moves are allowed.
        for current, allowed in Referral.TRANSITIONS.items():
            for target in ReferralStatus:
                self.assertEqual(
                    Referral(status=current).can_become(target),
                    target in allowed,
                    (current, target),
                )

    def test_the_database_refuses_what_the_rules_forbid(self):
        person = self.person()
        base = {
            "person": person,
            "from_unit": self.c1,
            "kind": "relief",
            "reason": REASON,
            "contact_phone": CONTACT,
            "sent_by": self.c1_counsellor,
        }
        bad = {
            "to itself": {"to_unit": self.c1},
            "done without outcome": {
                "to_unit": self.civil_affairs,
                "status": "done",
                "decided_by": self.civil,
                "decided_at": timezone.now(),
            },
            "medical without consent or emergency": {"to_unit": self.hospital, "kind": "admission"},
            "declined without reason": {
                "to_unit": self.civil_affairs,
                "status": "declined",
                "decided_by": self.civil,
                "decided_at": timezone.now(),
            },
        }
        for name, fields in bad.items():
            with self.subTest(name), pytest.raises(IntegrityError), transaction.atomic():
                Referral.objects.create(**{**base, **fields})
        Referral.objects.create(**base, to_unit=self.civil_affairs)
        with pytest.raises(IntegrityError), transaction.atomic():
            Referral.objects.create(**base, to_unit=self.civil_affairs)  # second open one


class ConsentTests(ReferralTestCase):
    def test_no_hospital_referral_without_consent_or_an_emergency_reason(self):
        person = self.person(sharing=False)
        with pytest.raises(ValidationError) as info:
            self.refer(person, urgency="emergency")
        self.assertIn("emergency_reason", info.value.message_dict)
        client = self.client_for(self.c1_counsellor)
        url = f"/referrals/people/{person.pk}/new/"
        page = client.post(url, self.form(self.hospital))
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'id="id_emergency_reason-error"')
        # An emergency reason alone is not enough: the referral must be an emergency.
        page = client.post(url, self.form(self.hospital, emergency_reason="当场有自杀行为"))
        self.assertContains(page, 'id="id_urgency-error"')
        self.assertFalse(Referral.objects.exists())
        self.assertFalse(PersonEvent.objects.filter(kind=EventKind.REFERRAL).exists())
        self.assertFalse(AccessLog.objects.filter(kind=AccessKind.BREAK_GLASS).exists())
        # Civil affairs is no hospital: no data-sharing consent needed.
        self.refer(person, to_unit=self.civil_affairs, kind="relief")

    def test_emergency_override_is_kept_shown_and_logged_as_break_glass(self):
        person = self.person(sharing=False)
        why = "正在天台，有明确自杀计划，本人无法表达同意"
        client = self.client_for(self.c1_counsellor)
        response = client.post(
            f"/referrals/people/{person.pk}/new/",
            self.form(self.psychiatric, urgency="emergency", emergency_reason=why),
        )
        referral = Referral.objects.get()
        self.assertRedirects(response, f"/referrals/{referral.pk}/")
        self.assertEqual((referral.emergency_reason, referral.consent), (why, None))
        entry = AccessLog.objects.get(kind=AccessKind.BREAK_GLASS)
        self.assertEqual(
            (entry.user, entry.object_type, entry.object_id, entry.ip),
            (self.c1_counsellor, "people.person", str(person.pk), "127.0.0.1"),
        )
        self.assertNotIn(why, entry.reason)  # health text stays encrypted on the referral
        self.assertIn(str(referral.pk), entry.reason)
        self.assertEqual(referral.emergency_reason, why)
        self.assertTrue(entry.unit_path.startswith(self.c1.path))
        page = self.client_for(self.psychiatrist).get(f"/referrals/{referral.pk}/")
        self.assertContains(page, why)

    def test_with_consent_no_emergency_reason_is_kept(self):
        person = self.person()
        referral = self.refer(person, urgency="emergency", emergency_reason="不需要")
        self.assertEqual(referral.emergency_reason, "")
        self.assertEqual(referral.consent.purpose, "data_sharing_hospital")
        self.assertFalse(AccessLog.objects.filter(kind=AccessKind.BREAK_GLASS).exists())


class DestinationTests(ReferralTestCase):
    def test_a_deactivated_receiving_unit_is_refused_by_name(self):
        person = self.person()
        self.psychiatric.is_active = False
        self.psychiatric.save(update_fields=["is_active"])
        with pytest.raises(ValidationError) as info:
            self.refer(person, to_unit=self.psychiatric)
        self.assertIn(self.psychiatric.name, info.value.message_dict["to_unit"][0])
        client = self.client_for(self.c1_counsellor)
        url = f"/referrals/people/{person.pk}/new/"
        self.assertNotContains(client.get(url), self.psychiatric.name)  # not offered
        page = client.post(url, self.form(self.psychiatric))
        self.assertContains(page, 'id="id_to_unit-error"')
        self.assertContains(page, self.psychiatric.name)
        self.assertFalse(Referral.objects.exists())

    def test_the_kind_must_fit_the_receiving_unit(self):
        person = self.person()
        mismatches = [
            ("relief", self.hospital),
            ("admission", self.civil_affairs),
            ("green_channel", self.school),
            ("school", self.c2),
            ("community", self.psychiatric),
        ]
        for kind, unit in mismatches:
            with self.subTest(kind=kind), pytest.raises(ValidationError) as info:
                self.refer(person, kind=kind, to_unit=unit, urgency="urgent")
            self.assertIn("to_unit", info.value.message_dict)
        with pytest.raises(ValidationError) as info:
            self.refer(person, kind="community", to_unit=self.c1)
        self.assertIn("to_unit", info.value.message_dict)
        with pytest.raises(ValidationError) as info:
            self.refer(person, kind="discharge")  # only a hospital records one
        self.assertIn("kind", info.value.message_dict)
        with pytest.raises(ValidationError) as info:
            self.refer(person, kind="green_channel", to_unit=self.psychiatric)  # routine
        self.assertIn("urgency", info.value.message_dict)
        self.assertFalse(Referral.objects.exists())
        page = self.client_for(self.c1_counsellor).post(
            f"/referrals/people/{person.pk}/new/", self.form(self.hospital, kind="relief")
        )
        self.assertContains(page, 'id="id_to_unit-error"')

    def test_school_civil_affairs_and_another_community_receive_their_kinds(self):
        person = self.person()
        cases = [
            ("school", self.school, self.teacher),
            ("relief", self.civil_affairs, self.civil),
            ("community", self.c2, self.c2_counsellor),
            ("green_channel", self.psychiatric, self.psychiatrist),
        ]
        for kind, unit, receiver in cases:
            with self.subTest(kind=kind):
                referral = self.refer(person, kind=kind, to_unit=unit, urgency="urgent")
                client = self.client_for(receiver)
                self.assertIn(
                    f"/referrals/{referral.pk}/", client.get("/referrals/").content.decode()
                )
                self.assertEqual(client.post(f"/referrals/{referral.pk}/accept/").status_code, 302)
                referral.refresh_from_db()
                self.assertEqual(referral.status, ReferralStatus.ACCEPTED)
        # The receiving community sees the referral, not the file.
        c2 = self.client_for(self.c2_counsellor)
        self.assertEqual(c2.get(f"/people/{person.pk}/").status_code, 404)

    def test_one_open_referral_per_person_and_kind(self):
        person = self.person()
        first = self.refer(person)
        with pytest.raises(ValidationError) as info:
            self.refer(person, to_unit=self.psychiatric)
        self.assertIn("kind", info.value.message_dict)
        actions.decline_referral(acting_user=self.doctor, referral=first, reason="床位已满")
        self.refer(person, to_unit=self.psychiatric)
        self.assertEqual(Referral.objects.filter(status__in=["sent", "accepted"]).count(), 1)


class AlertTests(ReferralTestCase):
    def alert_for(self, person):
        risk_actions.report_concern(
            acting_user=self.c1_counsellor, person=person, behaviours=["suicide_talk"]
        )
        return Alert.objects.get(person=person)

    def test_a_referral_from_an_alert_marks_it_referred(self):
        person = self.person()
        alert = self.alert_for(person)
        client = self.client_for(self.c1_counsellor)
        url = f"/referrals/people/{person.pk}/new/?alert={alert.pk}"
        self.assertContains(client.get(url), f'value="{alert.pk}"')
        response = client.post(url, {**self.form(self.hospital), "alert": str(alert.pk)})
        referral = Referral.objects.get()
        self.assertRedirects(response, f"/referrals/{referral.pk}/")
        self.assertEqual(referral.alert, alert)
        alert.refresh_from_db()
        self.assertEqual(alert.status, AlertStatus.REFERRED)
        self.assertEqual(list(alert.referrals.all()), [referral])

    def test_an_alert_about_someone_else_is_refused_and_nothing_written(self):
        person, other = self.person(serial=1), self.person(serial=2)
        alert = self.alert_for(other)
        with pytest.raises(ValidationError) as info:
            self.refer(person, alert=alert)
        self.assertIn("alert", info.value.message_dict)
        self.assertFalse(Referral.objects.exists())
        client = self.client_for(self.c1_counsellor)
        url = f"/referrals/people/{person.pk}/new/?alert={alert.pk}"
        self.assertEqual(client.get(url).status_code, 404)
        alert.refresh_from_db()
        self.assertEqual(alert.status, AlertStatus.OPEN)


class ErasureTests(ReferralTestCase):
    def test_erasure_destroys_the_free_texts(self):
        person = self.person(sharing=False)
        referral = self.refer(person, urgency="emergency", emergency_reason="当场有自杀行为")
        referral = actions.accept_referral(acting_user=self.doctor, referral=referral)
        actions.complete_referral(
            acting_user=self.doctor,
            referral=referral,
            outcome=OUTCOME,
            outcome_on=timezone.localdate(),
        )
        person = people_actions.erase_person(
            acting_user=self.street_admin,
            person=person,
            legal_reason="registered_in_error",
            note="申请编号 2026-17",
        )
        referral.refresh_from_db()
        texts = (referral.reason, referral.outcome, referral.emergency_reason)
        self.assertEqual(texts, (person.name,) * 3)  # the "(erased)" placeholder
        self.assertEqual(referral.status, ReferralStatus.DONE)
        page = self.client_for(self.doctor).get(f"/referrals/{referral.pk}/").content.decode()
        self.assertNotIn(REASON, page)
        self.assertNotIn(OUTCOME, page)


class ConcurrentReferralTests(TransactionTestCase):
    """Two workers at the same moment: the database and the row locks keep the rules."""

    def race(self, *runs: Callable[[], object]) -> list[str]:
        barrier = threading.Barrier(len(runs))
        outcomes: list[str] = []

        def run(work):
            try:
                barrier.wait(timeout=10)
                work()
                outcomes.append("done")
            except ValidationError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(work,)) for work in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return sorted(outcomes)

    def test_two_workers_refer_at_once_and_one_referral_is_sent(self):
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        demo = build_demo_city()
        person = people_actions.register_person(
            acting_user=demo.users["c1_counsellor"],
            unit=demo.communities[0],
            name="并发转介",
            id_number=resident_id(date(1985, 5, 17), 7),
        )
        people_actions.give_consent(
            acting_user=demo.users["c1_counsellor"],
            person=person,
            purpose="data_sharing_hospital",
            given_by="self",
            method="signed_paper",
            given_on=timezone.localdate(),
        )

        def refer(username):
            return lambda: actions.refer_person(
                acting_user=demo.users[username],
                person=person,
                to_unit=demo.hospital,
                kind="admission",
                reason=REASON,
                contact_phone=CONTACT,
            )

        self.assertEqual(self.race(refer("c1_counsellor"), refer("c1_worker")), ["done", "refused"])
        referral = Referral.objects.get()
        # Accepting and cancelling at once: exactly one of them happens.
        outcomes = self.race(
            lambda: actions.accept_referral(acting_user=demo.users["doctor1"], referral=referral),
            lambda: actions.cancel_referral(
                acting_user=demo.users["c1_counsellor"], referral=referral
            ),
        )
        self.assertEqual(outcomes, ["done", "refused"])
        referral.refresh_from_db()
        self.assertIn(referral.status, (ReferralStatus.ACCEPTED, ReferralStatus.CANCELLED))
        self.assertEqual(
            PersonEvent.objects.filter(person=person, kind=EventKind.REFERRAL).count(), 2
        )
