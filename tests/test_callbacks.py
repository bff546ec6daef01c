"""Call-back requests from the portal and the hotline's call-back queue (issue #8 item 2,
R-CRISIS): routing to the serving centre, the notification, scope, transitions, the call."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from xinqiao.audit.models import AccessLog
from xinqiao.hotline import callbacks
from xinqiao.hotline.models import (
    Call,
    CallbackRequest,
    CallbackSource,
    CallbackStatus,
    HotlineTraining,
    Seat,
    Shift,
)
from xinqiao.notify.models import Notification
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.test import PersonaTestCase

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)
PHONE = "13800000000"


def child(kind: str, name: str, parent: Unit) -> Unit:
    unit = Unit(kind=kind, name=name, parent=parent, depth=parent.depth + 1)
    unit.path = f"{parent.path}{unit.id.hex}/"
    unit.save()
    return unit


class CallbackTests(PersonaTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.centre = self.demo.hotline
        self.hotline2 = self.demo.users["hotline2"]

    def make(self, unit: Unit | None = None, note: str = "") -> CallbackRequest:
        return callbacks.request_callback(
            unit=unit or self.c1, phone=PHONE, note=note, source=CallbackSource.CRISIS
        )

    # --- routing and notification ---------------------------------------------------------

    def test_routed_to_the_city_centre_and_everyone_taking_callbacks_told_when_no_shift(
        self,
    ) -> None:
        callback = self.make()
        self.assertEqual(callback.centre, self.centre)
        told = set(Notification.objects.values_list("recipient__username", flat=True))
        self.assertIn("hotline1", told)
        self.assertIn("hotline2", told)
        # Nobody without the call-back permission hears of it (R-PRIVACY).
        self.assertNotIn("city_admin", told)
        self.assertNotIn(PHONE, "".join(Notification.objects.values_list("body", flat=True)))

    def test_nearest_centre_wins_and_on_shift_operator_is_told(self) -> None:
        district = self.demo.districts[0]
        near = child(UnitKind.HOTLINE_CENTRE, "区热线", district)
        operator = self.hotline2
        Membership.objects.create(user=operator, unit=near, role=Role.HOTLINE_OPERATOR)
        seat = Seat.objects.create(centre=near, name="1")
        Shift.objects.create(
            seat=seat,
            operator=operator,
            starts_at=NOW - timedelta(hours=1),
            ends_at=NOW + timedelta(hours=3),
        )
        callback = self.make()
        self.assertEqual(callback.centre, near)
        told = list(Notification.objects.values_list("recipient__username", flat=True))
        self.assertEqual(set(told), {"hotline2"})

    def test_no_centre_anywhere_routes_to_the_unit_itself(self) -> None:
        community = Unit.objects.get(name="外社区")
        callback = self.make(unit=community)
        self.assertEqual(callback.centre, community)

    def test_bad_phone_writes_nothing(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            callbacks.request_callback(unit=self.c1, phone="12", source=CallbackSource.CRISIS)
        self.assertIn("phone", caught.exception.message_dict)
        self.assertFalse(CallbackRequest.objects.exists())
        self.assertFalse(Notification.objects.exists())

    # --- scope ---------------------------------------------------------------------------

    def test_queue_and_detail_scope(self) -> None:
        callback = self.make(note="睡不着")
        url = reverse("hotline:callback", args=[callback.pk])
        ok = self.client_for(self.hotline)
        page = ok.get(reverse("hotline:callbacks"))
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, url)
        self.assertNotContains(page, PHONE)  # the number only on the detail page
        detail = ok.get(url)
        self.assertContains(detail, PHONE)
        self.assertTrue(
            AccessLog.objects.filter(object_id=str(callback.pk), user=self.hotline).exists()
        )
        self.assertEqual(self.client_for(self.outsider).get(url).status_code, 404)
        queue = self.client_for(self.outsider).get(reverse("hotline:callbacks"))
        self.assertEqual(queue.status_code, 404)
        # The c1 counsellor takes call-backs in c1: the request came from c1's portal.
        self.assertEqual(self.client_for(self.c1_counsellor).get(url).status_code, 200)
        # The c2 counsellor does not see a request from c1 routed to the city centre.
        self.assertEqual(self.client_for(self.c2_counsellor).get(url).status_code, 404)
        # A grid worker has no call-back permission.
        self.assertEqual(self.client_for(self.c1_grid).get(url).status_code, 404)

    def test_another_centres_operator_gets_404(self) -> None:
        district = self.demo.districts[-1]
        other = child(UnitKind.HOTLINE_CENTRE, "他区热线", district)
        operator = self.demo.users["hotline_lead"]
        Membership.objects.filter(user=operator).delete()
        Membership.objects.create(user=operator, unit=other, role=Role.HOTLINE_OPERATOR)
        callback = self.make()
        url = reverse("hotline:callback", args=[callback.pk])
        self.assertEqual(self.client_for(operator).get(url).status_code, 404)

    # --- transitions ---------------------------------------------------------------------

    def test_take_no_answer_three_times_unreachable(self) -> None:
        callback = self.make()
        me, other = self.client_for(self.hotline), self.client_for(self.hotline2)
        for attempt in range(1, 4):
            me.post(reverse("hotline:callback_take", args=[callback.pk]))
            callback.refresh_from_db()
            self.assertEqual(callback.status, CallbackStatus.CALLING)
            self.assertEqual(callback.taken_by, self.hotline)
            # Another operator sees who is calling, and cannot take or release it.
            seen = other.get(reverse("hotline:callback", args=[callback.pk]))
            self.assertContains(seen, self.hotline.name)
            other.post(reverse("hotline:callback_take", args=[callback.pk]))
            other.post(reverse("hotline:callback_no_answer", args=[callback.pk]))
            callback.refresh_from_db()
            self.assertEqual(callback.taken_by, self.hotline)
            self.assertEqual(callback.attempts, attempt - 1)
            me.post(reverse("hotline:callback_no_answer", args=[callback.pk]), {"note": ""})
            callback.refresh_from_db()
            self.assertEqual(callback.attempts, attempt)
        self.assertEqual(callback.status, CallbackStatus.UNREACHABLE)
        self.assertTrue(str(callback.outcome))
        self.assertEqual(callback.closed_by, self.hotline)
        # Closed: taking again is refused, nothing changes.
        response = me.post(reverse("hotline:callback_take", args=[callback.pk]))
        self.assertIn("error=1", response["Location"])
        callback.refresh_from_db()
        self.assertEqual(callback.status, CallbackStatus.UNREACHABLE)

    def test_reached_and_logged_call_closes_the_request(self) -> None:
        HotlineTraining.objects.create(
            operator=self.hotline,
            centre=self.centre,
            course="心理援助培训",
            completed_on=date(2026, 2, 1),
        )
        callback = self.make()
        client = self.client_for(self.hotline)
        client.post(reverse("hotline:callback_take", args=[callback.pk]))
        detail = client.get(reverse("hotline:callback", args=[callback.pk]))
        call_url = reverse("hotline:call_new") + f"?callback={callback.pk}"
        self.assertContains(detail, call_url)
        form = {
            "centre": str(self.centre.pk),
            "caller_type": "self",
            "caller_sex": "female",
            "age_band": "25_34",
            "problems": ["isolation_stress"],
            "risk": "none",
            "interventions": ["support"],
            "referral": "none",
            "started_at": "2026-03-02T09:50:00",
        }
        response = client.post(call_url, form)
        self.assertEqual(response.status_code, 302)
        callback.refresh_from_db()
        self.assertEqual(callback.status, CallbackStatus.DONE)
        self.assertEqual(callback.call, Call.objects.get())

    def test_banner_on_the_call_list(self) -> None:
        self.make()
        self.make(unit=self.c2)
        page = self.client_for(self.hotline).get(reverse("hotline:calls"))
        self.assertContains(page, reverse("hotline:callbacks"))
        self.assertContains(page, "2")

    def test_late_request_is_marked(self) -> None:
        callback = self.make()
        with time_machine.travel(NOW + timedelta(minutes=40), tick=False):
            page = self.client_for(self.hotline).get(reverse("hotline:callbacks"))
        self.assertContains(page, 'class="late"')
        self.assertContains(page, reverse("hotline:callback", args=[callback.pk]))


class CallbackRiskTests(PersonaTestCase):
    """A call-back request raises its risk signal (R-CRISIS): risk words in the note, or the
    facts of the self-assessment that offered it, open a crisis alert at once on an unnamed
    file at the portal's unit — with its deadline and escalation — beside the queue item."""

    def portal_phq9(self, answers: list[int]):
        from xinqiao.assessments import actions as assessments

        assessment = assessments.begin_portal_assessment(
            unit=self.c1,
            instrument="phq9",
            respondent="self",
            resume_key="k" * 24,
            under_14=False,
        )
        for number, value in enumerate(answers, start=1):
            assessment = assessments.save_answer(assessment=assessment, number=number, value=value)
        return assessments.finish_self_assessment(assessment=assessment)

    def test_a_plain_request_is_a_queue_item_only(self) -> None:
        from xinqiao.risk.models import Alert

        callback = callbacks.request_callback(
            unit=self.c1, phone=PHONE, source=CallbackSource.CRISIS, note="睡不着，想找人聊聊"
        )
        self.assertIsNone(callback.alert)
        self.assertFalse(Alert.objects.exists())

    def test_risk_words_in_the_note_open_an_alert_on_an_unnamed_file(self) -> None:
        from xinqiao.risk.models import Alert

        callback = callbacks.request_callback(
            unit=self.c1, phone=PHONE, source=CallbackSource.CRISIS, note="我不想活了，想自杀"
        )
        callback.refresh_from_db()
        self.assertEqual(callback.text_risk, "high")
        self.assertIsNotNone(callback.alert)
        alert = Alert.objects.get()
        self.assertEqual(alert.person, callback.person)
        self.assertTrue(callback.person.unnamed_contact)
        self.assertEqual(callback.person.unit, self.c1)
        self.assertNotIn(PHONE, callback.person.name)
        detail = self.client_for(self.hotline).get(reverse("hotline:callback", args=[callback.pk]))
        self.assertContains(detail, reverse("risk:alert", args=[alert.pk]))

    def test_after_a_phq9_with_item_9_the_assessments_facts_raise_the_crisis_level(self) -> None:
        from xinqiao.risk.models import Alert, RiskSignal

        assessment = self.portal_phq9([3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
        self.assertFalse(Alert.objects.exists())  # anonymous: nobody to reach yet
        callback = callbacks.request_callback(
            unit=self.c1,
            phone=PHONE,
            source=CallbackSource.SELF_ASSESSMENT,
            assessment=assessment,
        )
        callback.refresh_from_db()
        signal = RiskSignal.objects.get(object_id=str(callback.pk))
        self.assertIn("phq9_item9_nearly_every_day", signal.rules)
        self.assertEqual(signal.level, 1)
        self.assertEqual(Alert.objects.get().pk, callback.alert_id)

    def test_a_mild_assessment_with_a_call_back_raises_nothing(self) -> None:
        from xinqiao.risk.models import Alert

        assessment = self.portal_phq9([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        callbacks.request_callback(
            unit=self.c1,
            phone=PHONE,
            source=CallbackSource.SELF_ASSESSMENT,
            assessment=assessment,
        )
        self.assertFalse(Alert.objects.exists())
