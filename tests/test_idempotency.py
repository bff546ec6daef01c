"""Idempotent public submissions (issue #10 items 3 and 4): every public POST accepts an
idempotency key; a retry with the same key replays the first response (same redirect, same
cookies, same page) and creates nothing more; a new key is a new submission; without a key
nothing changes. On PostgreSQL two identical submissions at once create exactly one record."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client, TransactionTestCase

from tests.people_data import resident_id
from xinqiao.assessments import actions as assessment_actions
from xinqiao.assessments.models import Assessment, AssessmentChannel, AssessmentStatus
from xinqiao.booking import actions as booking_actions
from xinqiao.booking.actions import WindowInput
from xinqiao.booking.models import Appointment
from xinqiao.hotline.models import CallbackRequest, MailboxMessage
from xinqiao.lib import idempotency
from xinqiao.ops.models import IdempotentRequest
from xinqiao.people import actions as people_actions
from xinqiao.people.models import Person
from xinqiao.portal import sms
from xinqiao.risk.models import Alert, RiskSignal
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)  # a Monday, 08:00 in the city
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
PHQ9_CRITICAL = [1, 2, 1, 2, 1, 1, 2, 1, 1]  # 12, item 9 = 1: a critical item (an alert)
NEUTRAL = "最近工作压力有点大，想找人聊聊怎么调整作息。"


def key() -> str:
    return str(uuid.uuid4())


def keyed(data: dict, k: str) -> dict:
    return {**data, "idempotency_key": k}


class IdempotencyCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        cache.clear()
        sms.sent.clear()

    def twice(self, url: str, data: dict, k: str | None = None, *, fresh: bool = True):
        """The same POST twice with one key; the retry from a client that never got the first
        answer (no cookies) unless ``fresh`` is False."""
        k = k or key()
        first_client = Client(HTTP_ACCEPT_LANGUAGE="en")
        first = first_client.post(url, keyed(data, k))
        second = (Client(HTTP_ACCEPT_LANGUAGE="en") if fresh else first_client).post(
            url, keyed(data, k)
        )
        return first, second

    def mail(self) -> dict:
        return {"kind": "mailbox", "reach": "anonymous", "body": NEUTRAL}

    def reference(self, response) -> str:
        """The reference code the page after sending shows."""
        self.assertEqual(response.status_code, 200, response.content.decode()[:500])
        found = re.search(r'<code class="secret" id="reference">([^<]+)</code>', response.text)
        assert found is not None, response.text[:2000]
        return found[1]


class KeyTests(IdempotencyCase):
    def test_only_a_digest_of_the_key_is_kept_and_the_replay_is_sealed(self):
        k = key()
        first, second = self.twice(f"/mailbox/{self.c1.pk}/", self.mail(), k)
        code = self.reference(first)
        row = IdempotentRequest.objects.get()
        self.assertEqual(row.scope, "mailbox.write")
        self.assertNotIn(k, row.key_digest)
        self.assertNotEqual(row.key_digest, k)
        self.assertNotIn(code.encode(), bytes(row.sealed))
        self.assertEqual(idempotency.unseal(k, row.sealed)["secret"], code)
        self.assertEqual(idempotency.unseal(key(), row.sealed), {})  # another key opens nothing
        self.assertEqual(self.reference(second), code)
        self.assertEqual(second["Idempotency-Key-Replayed"], "true")

    def test_a_malformed_key_counts_as_none(self):
        url = f"/mailbox/{self.c1.pk}/"
        for bad in ("short", "x" * 500, "键" * 20):
            Client().post(url, keyed(self.mail(), bad))
        self.assertEqual(MailboxMessage.objects.count(), 3)
        self.assertFalse(IdempotentRequest.objects.exists())

    def test_the_header_works_like_the_field(self):
        k = key()
        url = f"/mailbox/{self.c1.pk}/"
        codes = {
            self.reference(Client().post(url, self.mail(), HTTP_IDEMPOTENCY_KEY=k))
            for _ in range(2)
        }
        self.assertEqual(len(codes), 1)
        self.assertEqual(MailboxMessage.objects.count(), 1)

    def test_an_error_keeps_no_row_so_the_corrected_retry_runs(self):
        k = key()
        url = f"/mailbox/{self.c1.pk}/"
        refused = Client().post(url, keyed({**self.mail(), "body": ""}, k))
        self.assertEqual(refused.status_code, 400)
        self.assertFalse(IdempotentRequest.objects.exists())
        self.assertEqual(Client().post(url, keyed(self.mail(), k)).status_code, 200)
        self.assertEqual(MailboxMessage.objects.count(), 1)

    def test_keys_are_forgotten_after_a_day(self):
        k = key()
        url = f"/mailbox/{self.c1.pk}/"
        Client().post(url, keyed(self.mail(), k))
        with time_machine.travel(NOW + timedelta(hours=23), tick=False):
            self.assertEqual(idempotency.forget_expired(), 0)
        with time_machine.travel(NOW + timedelta(hours=25), tick=False):
            # Past the window the key is a new submission, and the daily job removes the row.
            Client().post(url, keyed(self.mail(), k))
            self.assertEqual(MailboxMessage.objects.count(), 2)
        with time_machine.travel(NOW + timedelta(hours=50), tick=False):
            self.assertEqual(idempotency.forget_expired(), 1)
        self.assertFalse(IdempotentRequest.objects.exists())

    def test_every_public_form_carries_a_new_key_each_time_it_is_shown(self):
        pages = [
            f"/mailbox/{self.c1.pk}/",
            f"/p/{self.c1.pk}/help/",
            f"/p/{self.c1.pk}/assess/phq9/",
        ]
        for page in pages:
            found = [
                re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', c.get(page).text)
                for c in (Client(), Client())
            ]
            self.assertEqual(len(found[0]), 1, page)
            self.assertNotEqual(found[0], found[1], page)


class MailboxTests(IdempotencyCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = f"/mailbox/{self.c1.pk}/"

    def test_same_key_one_message_different_keys_two_no_key_unchanged(self):
        first, second = self.twice(self.url, self.mail())
        self.assertEqual(MailboxMessage.objects.count(), 1)
        self.assertEqual((first.status_code, second.status_code), (200, 200))
        code = self.reference(first)
        self.assertEqual(self.reference(second), code)
        self.twice(self.url, self.mail())
        self.assertEqual(MailboxMessage.objects.count(), 2)
        for _ in range(2):
            Client().post(self.url, self.mail())
        self.assertEqual(MailboxMessage.objects.count(), 4)
        self.assertEqual(IdempotentRequest.objects.count(), 2)

    def test_a_retried_follow_up_is_written_once(self):
        code = self.reference(Client().post(self.url, self.mail()))
        message = MailboxMessage.objects.get()
        k = key()
        data = {"code": code, "body": "还想补充一点：晚上总是醒。"}
        first = Client().post("/mailbox/reply/", keyed(data, k))
        second = Client().post("/mailbox/reply/", keyed(data, k))
        self.assertEqual((first.status_code, second.status_code), (200, 200))
        self.assertEqual(first.text.count("晚上总是醒"), 1)
        self.assertEqual(second.text.count("晚上总是醒"), 1)
        self.assertEqual(message.replies.filter(author__isnull=True).count(), 1)
        other = Client().post("/mailbox/reply/", keyed(data, key()))
        self.assertEqual(other.text.count("晚上总是醒"), 2)
        self.assertEqual(message.replies.filter(author__isnull=True).count(), 2)

    def test_a_follow_up_on_my_page_is_written_once(self):
        ref = str(self.c1.pk)
        client = Client()
        client.post(f"/p/{ref}/me/sign-in/", {"phone": "13912345670"})
        client.post(f"/p/{ref}/me/code/", {"code": sms.sent[-1].code})
        self.reference(client.post(self.url, self.mail()))
        message = MailboxMessage.objects.get()
        url = f"/p/{ref}/me/messages/{message.pk}/"
        data = keyed({"body": "再补充一句。"}, key())
        first, second = client.post(url, data), client.post(url, data)
        self.assertEqual(first.status_code, 302, first.content[:500])
        self.assertEqual(second["Location"], first["Location"])
        self.assertEqual(message.replies.filter(author__isnull=True).count(), 1)
        client.post(url, keyed({"body": "再补充一句。"}, key()))
        self.assertEqual(message.replies.filter(author__isnull=True).count(), 2)


class CrisisPathTests(IdempotencyCase):
    def test_the_call_back_request_is_made_once(self):
        url = f"/p/{self.c1.pk}/help/"
        data = {"phone": "13800000000", "note": "想找人说说"}
        first, second = self.twice(url, data)
        self.assertEqual(first.status_code, 302)
        self.assertEqual(second["Location"], first["Location"])
        self.assertEqual(CallbackRequest.objects.count(), 1)
        self.twice(url, data)
        self.assertEqual(CallbackRequest.objects.count(), 2)
        Client().post(url, data)
        Client().post(url, data)
        self.assertEqual(CallbackRequest.objects.count(), 4)


class PortalAssessmentTests(IdempotencyCase):
    def url(self, name: str) -> str:
        return f"/p/{self.c1.pk}/assess/phq9/{name}/"

    def test_begin_answers_finish_and_call_back_happen_once(self):
        start = {"under_14": "no", "respondent": "self", "agree": "on"}
        k = key()
        first = Client().post(self.url("begin"), keyed(start, k))
        # The retry comes from a phone that never got the first answer (nor its cookie):
        # the same redirect and the resume cookie, and no second assessment.
        phone = Client()
        second = phone.post(self.url("begin"), keyed(start, k))
        self.assertEqual((first.status_code, second["Location"]), (302, first["Location"]))
        self.assertIn("xq_pa_phq9", second.cookies)
        self.assertEqual(Assessment.objects.count(), 1)
        for number, value in enumerate(PHQ9_CRITICAL, start=1):
            answer = keyed({"number": number, "answer": value}, key())
            self.assertEqual(phone.post(self.url("answer"), answer).status_code, 302)
            again = phone.post(self.url("answer"), answer)
            self.assertEqual(again.status_code, 302)
        finish = keyed({"number": 10, "skip": "1"}, key())
        done = phone.post(self.url("answer"), finish)
        self.assertEqual(phone.post(self.url("answer"), finish)["Location"], done["Location"])
        assessment = Assessment.objects.get(channel=AssessmentChannel.PORTAL)
        self.assertEqual((assessment.status, assessment.total), (AssessmentStatus.COMPLETED, 12))
        self.assertEqual(RiskSignal.objects.count(), 1)
        ask = keyed({"phone": "13800000000", "note": ""}, key())
        asked = phone.post(self.url("callback"), ask)
        self.assertEqual(asked.status_code, 302)
        self.assertEqual(phone.post(self.url("callback"), ask)["Location"], asked["Location"])
        self.assertEqual(CallbackRequest.objects.count(), 1)
        self.assertEqual(Alert.objects.count(), 1)

    def test_a_retried_answer_after_moving_on_does_not_move_back(self):
        phone = Client()
        phone.post(self.url("begin"), {"under_14": "no", "respondent": "self", "agree": "on"})
        first = keyed({"number": 1, "answer": 2}, key())
        phone.post(self.url("answer"), first)
        phone.post(self.url("answer"), keyed({"number": 2, "answer": 1}, key()))
        back = keyed({}, key())
        phone.post(self.url("back"), back)
        phone.post(self.url("back"), back)  # a retried "back" steps back once
        self.assertEqual(Assessment.objects.get().position, 1)

    def test_different_keys_start_two(self):
        start = {"under_14": "no", "respondent": "self", "agree": "on"}
        Client().post(self.url("begin"), keyed(start, key()))
        Client().post(self.url("begin"), keyed(start, key()))
        self.assertEqual(Assessment.objects.count(), 2)


class SelfAssessmentLinkTests(IdempotencyCase):
    def test_the_whole_assessment_and_its_alert_exist_once(self):
        person = people_actions.register_person(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            name="幂等测评",
            id_number=resident_id(date(1980, 5, 17), 3),
        )
        people_actions.give_consent(
            acting_user=self.c1_counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=NOW.date(),
        )
        invitation = assessment_actions.invite_person(
            acting_user=self.c1_counsellor, person=person, instrument="phq9"
        )
        base = f"/s/{invitation.token}/"
        k = key()
        Client().post(base + "begin", keyed({"respondent": "self", "agree": "on"}, k))
        phone = Client()
        again = phone.post(base + "begin", keyed({"respondent": "self", "agree": "on"}, k))
        self.assertEqual(again.status_code, 302)
        for number, value in enumerate(PHQ9_CRITICAL, start=1):
            answer = keyed({"number": number, "answer": value}, key())
            phone.post(base + "answer", answer)
            phone.post(base + "answer", answer)
        finish = keyed({"number": 10, "skip": "1"}, key())
        done = phone.post(base + "answer", finish)
        retried = Client().post(base + "answer", finish)  # the retry, on a fresh connection
        self.assertEqual(done["Location"], base + "done")
        self.assertEqual(retried["Location"], done["Location"])
        assessment = Assessment.objects.get(invitation=invitation)
        self.assertEqual((assessment.status, assessment.total), (AssessmentStatus.COMPLETED, 12))
        self.assertEqual(RiskSignal.objects.filter(person=person).count(), 1)
        self.assertEqual(Alert.objects.filter(person=person).count(), 1)
        self.assertEqual(phone.get(base + "done").status_code, 200)

    def test_a_finish_that_dies_halfway_leaves_nothing_and_its_retry_makes_one(self):
        """Issue #10 item 3: the request breaks after the assessment was scored but before its
        risk signal (as a process killed there would): nothing of it, not even the key, is
        kept; the client's retry with the same key makes the whole assessment and its alert
        once."""
        person = people_actions.register_person(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            name="中断测评",
            id_number=resident_id(date(1980, 5, 17), 5),
        )
        people_actions.give_consent(
            acting_user=self.c1_counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=NOW.date(),
        )
        invitation = assessment_actions.invite_person(
            acting_user=self.c1_counsellor, person=person, instrument="phq9"
        )
        base = f"/s/{invitation.token}/"
        phone = Client()
        phone.post(base + "begin", {"respondent": "self", "agree": "on"})
        for number, value in enumerate(PHQ9_CRITICAL, start=1):
            phone.post(base + "answer", {"number": number, "answer": value})
        finish = keyed({"number": 10, "skip": "1"}, key())
        with (
            mock.patch(
                "xinqiao.assessments.actions.raise_signal", side_effect=RuntimeError("killed")
            ),
            self.assertRaises(RuntimeError),
        ):
            phone.post(base + "answer", finish)
        assessment = Assessment.objects.get(invitation=invitation)
        self.assertEqual(assessment.status, AssessmentStatus.IN_PROGRESS)
        self.assertFalse(RiskSignal.objects.filter(person=person).exists())
        self.assertFalse(IdempotentRequest.objects.exists())
        retried = phone.post(base + "answer", finish)
        self.assertEqual(retried["Location"], base + "done")
        self.assertEqual(phone.post(base + "answer", finish)["Location"], base + "done")
        assessment.refresh_from_db()
        self.assertEqual(assessment.status, AssessmentStatus.COMPLETED)
        self.assertEqual(RiskSignal.objects.filter(person=person).count(), 1)
        self.assertEqual(Alert.objects.filter(person=person).count(), 1)
        self.assertEqual(IdempotentRequest.objects.count(), 1)


class BookingLinkTests(IdempotencyCase):
    def setUp(self) -> None:
        super().setUp()
        self.person = Person.objects.create(unit=self.c1, name="幂等预约", priority_level=3)
        booking_actions.publish_availability(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            windows=[WindowInput(weekday=0, start=time(9), end=time(12))],
        )
        _link, token = booking_actions.create_link(acting_user=self.c1_worker, person=self.person)
        self.url = f"/booking/p/{token}/confirm/"

    def slot(self, at: datetime) -> dict:
        return {"at": at.isoformat(), "c": str(self.c1_counsellor.pk), "confirmed": "1"}

    def test_the_same_confirmation_books_once(self):
        first, second = self.twice(self.url, self.slot(MONDAY_9))
        self.assertEqual((first.status_code, second.status_code), (200, 200))
        appointment = Appointment.objects.get()
        self.assertContains(first, appointment.reference)
        self.assertContains(second, appointment.reference)
        self.twice(self.url, self.slot(MONDAY_9 + timedelta(minutes=50)))
        self.assertEqual(Appointment.objects.count(), 2)
        # Without a key the same slot again is "just taken", as before.
        self.assertEqual(Client().post(self.url, self.slot(MONDAY_9)).status_code, 409)


class PortalBookingTests(IdempotencyCase):
    def setUp(self) -> None:
        super().setUp()
        booking_actions.publish_availability(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            windows=[WindowInput(weekday=0, start=time(9), end=time(12))],
        )
        self.ref = str(self.c1.pk)
        self.client = Client()
        self.client.post(f"/p/{self.ref}/me/sign-in/", {"phone": "13912345678"})
        self.client.post(f"/p/{self.ref}/me/code/", {"code": sms.sent[-1].code})

    def confirm(self, k: str, starts_at: datetime = MONDAY_9):
        data = {
            "c": str(self.c1_counsellor.pk),
            "at": str(int(starts_at.timestamp())),
            "name": "小周",
        }
        return self.client.post(f"/p/{self.ref}/book/confirm/", keyed(data, k))

    def test_the_same_confirmation_books_once(self):
        k = key()
        first, second = self.confirm(k), self.confirm(k)
        self.assertEqual(first.status_code, 302, first.content[:500])
        self.assertEqual(second["Location"], first["Location"])
        self.assertEqual(Appointment.objects.count(), 1)
        self.assertEqual(Person.objects.filter(name="小周").count(), 1)
        self.assertEqual(self.confirm(key(), MONDAY_9 + timedelta(minutes=50)).status_code, 302)
        self.assertEqual(Appointment.objects.count(), 2)


class ConcurrentSubmissionTests(TransactionTestCase):
    """Two identical submissions at the same moment (PostgreSQL: real concurrent writers)."""

    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        cache.clear()
        from xinqiao.ops.demo import build_demo_city

        self.demo = build_demo_city()

    def together(self, url: str, data: dict, clients: list[Client]) -> list[object]:
        barrier = threading.Barrier(len(clients))
        results: list[object] = []

        def post(client: Client) -> None:
            try:
                barrier.wait(timeout=10)
                results.append(client.post(url, data))
            except Exception as exc:  # reported by the assertion below
                results.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=post, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results

    def test_two_call_back_requests_at_once_make_one(self):
        unit = self.demo.communities[0]
        data = keyed({"phone": "13800000000", "note": ""}, key())
        results = self.together(f"/p/{unit.pk}/help/", data, [Client(), Client()])
        statuses = [getattr(r, "status_code", r) for r in results]
        self.assertEqual(statuses, [302, 302])
        self.assertEqual(CallbackRequest.objects.count(), 1)
        self.assertEqual(IdempotentRequest.objects.count(), 1)

    def test_two_finishing_answers_at_once_make_one_assessment_and_one_alert(self):
        counsellor = self.demo.users["c1_counsellor"]
        unit = self.demo.communities[0]
        person = people_actions.register_person(
            acting_user=counsellor,
            unit=unit,
            name="并发测评",
            id_number=resident_id(date(1980, 5, 17), 7),
        )
        people_actions.give_consent(
            acting_user=counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=datetime.now(TZ).date(),
        )
        invitation = assessment_actions.invite_person(
            acting_user=counsellor, person=person, instrument="phq9"
        )
        base = f"/s/{invitation.token}/"
        phone = Client()
        phone.post(base + "begin", {"respondent": "self", "agree": "on"})
        for number, value in enumerate(PHQ9_CRITICAL, start=1):
            phone.post(base + "answer", {"number": number, "answer": value})
        twin = Client()
        twin.cookies = phone.cookies  # the same phone, a second connection
        finish = keyed({"number": 10, "skip": "1"}, key())
        results = self.together(base + "answer", finish, [phone, twin])
        locations = [r["Location"] if hasattr(r, "status_code") else r for r in results]
        self.assertEqual(locations, [base + "done", base + "done"])
        assessment = Assessment.objects.get(invitation=invitation)
        self.assertEqual(assessment.status, AssessmentStatus.COMPLETED)
        self.assertEqual(RiskSignal.objects.filter(person=person).count(), 1)
        self.assertEqual(Alert.objects.filter(person=person).count(), 1)
