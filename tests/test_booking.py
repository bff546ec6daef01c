"""Appointments (R-BOOK; seed 002 篇2 三(三)2 预约咨询, 50 minutes): availability, booking,
no double booking (also under concurrency on PostgreSQL), cancel/reschedule/no-show,
reminders, the ICS feed, the person's own booking link, and scope."""

from __future__ import annotations

import html
import re
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client, TransactionTestCase, override_settings
from django.utils import translation
from icalendar import Calendar

from xinqiao.booking import actions
from xinqiao.booking.actions import WindowInput
from xinqiao.booking.models import Appointment, AppointmentStatus
from xinqiao.notify.models import Notification
from xinqiao.people.models import Person
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
# Monday 7 December 2026, 08:00 in the city.
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)


def at(h: int, m: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, h, m, tzinfo=TZ)


class BookingTestCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        cache.clear()
        self.person = Person.objects.create(unit=self.c1, name="预约测试甲", priority_level=3)
        self.other = Person.objects.create(unit=self.c1, name="预约测试乙", priority_level=3)
        self.c2_person = Person.objects.create(unit=self.c2, name="预约测试丙", priority_level=3)
        actions.publish_availability(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            windows=[
                WindowInput(weekday=0, start=time(9), end=time(12), location="社区心理室"),
                WindowInput(weekday=2, start=time(14), end=time(17), format="online"),
            ],
        )

    def book(self, person=None, starts_at=MONDAY_9, user=None):
        return actions.book(
            acting_user=user or self.c1_counsellor,
            person=person or self.person,
            counsellor=self.c1_counsellor,
            starts_at=starts_at,
            channel="staff",
        )


class AvailabilityTests(BookingTestCase):
    def test_slots_are_fifty_minutes_cut_from_the_windows(self):
        offers = actions.offers_for(self.person, days=3)
        monday = [o.start for o in offers if o.start.date() == NOW.date()]
        self.assertEqual(monday, [at(9), at(9, 50), at(10, 40)])
        self.assertTrue(all(o.end - o.start == timedelta(minutes=50) for o in offers))
        wednesday = [o for o in offers if o.start.astimezone(TZ).day == 9]
        self.assertEqual(wednesday[0].format, "online")

    def test_bad_windows_are_refused_naming_the_field(self):
        cases = [
            (
                [
                    WindowInput(weekday=1, start=time(9), end=time(11)),
                    WindowInput(weekday=1, start=time(10), end=time(12)),
                ],
                "windows-1-start",
            ),
            ([WindowInput(weekday=1, start=time(11), end=time(9))], "windows-0-end"),
            ([WindowInput(weekday=1, start=time(9), end=time(9, 30))], "windows-0-end"),
            ([WindowInput(weekday=9, start=time(9), end=time(12))], "windows-0-weekday"),
        ]
        for windows, field in cases:
            with self.subTest(field=field), self.assertRaises(ValidationError) as caught:
                actions.publish_availability(
                    acting_user=self.c1_counsellor, unit=self.c1, windows=windows
                )
            self.assertIn(field, caught.exception.message_dict)
        # Nothing half-written: the published windows are still there.
        self.assertEqual(len(actions.offers_for(self.person, days=1)), 3)

    def test_only_publishers_publish_and_only_their_own(self):
        with self.assertRaises(Http404):
            actions.publish_availability(acting_user=self.c1_counsellor, unit=self.c2, windows=[])

    def test_closed_day_and_extra_hours(self):
        actions.add_change(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            kind="closed",
            day=NOW.date(),
            start=time(9),
            end=time(10),
            reason="培训",
        )
        actions.add_change(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            kind="extra",
            day=NOW.date() + timedelta(days=1),
            start=time(18),
            end=time(19),
        )
        offers = [o.start for o in actions.offers_for(self.person, days=2)]
        self.assertNotIn(at(9), offers)
        self.assertIn(at(10, 40), offers)
        self.assertIn(at(18, day=8), offers)
        with self.assertRaises(ValidationError) as caught:
            actions.add_change(
                acting_user=self.c1_counsellor, unit=self.c1, kind="closed", day=NOW.date()
            )
        self.assertIn("reason", caught.exception.message_dict)

    def test_availability_page_publishes_and_names_the_field(self):
        client = self.client_for(self.c1_counsellor)
        self.assertEqual(client.get("/booking/availability/").status_code, 200)
        response = client.post(
            "/booking/availability/",
            {
                "form": "windows",
                "unit": self.c1.pk,
                "windows-0-weekday": "1",
                "windows-0-start": "10:00",
                "windows-0-end": "09:00",
            },
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "结束时间必须晚于开始时间", status_code=400)
        response = client.post(
            "/booking/availability/",
            {
                "form": "windows",
                "unit": self.c1.pk,
                "windows-0-weekday": "1",
                "windows-0-start": "10:00",
                "windows-0-end": "12:00",
            },
        )
        self.assertEqual(response.status_code, 302)


class BookingRuleTests(BookingTestCase):
    def test_book_and_the_counsellor_hears_of_it(self):
        appointment = self.book(user=self.c1_worker)
        self.assertEqual(appointment.status, AppointmentStatus.BOOKED)
        self.assertEqual(appointment.ends_at - appointment.starts_at, timedelta(minutes=50))
        self.assertEqual(appointment.location, "社区心理室")
        self.assertTrue(
            Notification.objects.filter(recipient=self.c1_counsellor, channel="in_app").exists()
        )
        self.assertNotIn(at(9), [o.start for o in actions.offers_for(self.person)])

    @translation.override("en")
    def test_past_outside_and_taken_are_refused_clearly(self):
        with self.assertRaises(ValidationError) as caught:
            self.book(starts_at=at(7))
        self.assertIn("past", caught.exception.message_dict["starts_at"][0])
        with self.assertRaises(ValidationError) as caught:
            self.book(starts_at=at(13))
        self.assertIn("free times", caught.exception.message_dict["starts_at"][0])
        self.book()
        with self.assertRaises(actions.SlotTaken) as caught:
            self.book(person=self.other)
        self.assertIn("just taken", caught.exception.message_dict["starts_at"][0])
        self.assertEqual(caught.exception.offers[0].start, at(9, 50))

    def test_a_person_is_not_booked_twice_at_once(self):
        self.book()
        with self.assertRaises(ValidationError):
            self.book(starts_at=MONDAY_9)
        self.assertEqual(Appointment.objects.filter(person=self.person).count(), 1)

    def test_person_outside_scope_is_not_found(self):
        with self.assertRaises(Http404):
            self.book(person=self.person, user=self.c2_counsellor)
        with self.assertRaises(Http404):
            actions.book(
                acting_user=self.c1_counsellor,
                person=self.c2_person,
                counsellor=self.c1_counsellor,
                starts_at=MONDAY_9,
            )

    def test_counsellor_without_availability_for_the_unit_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            actions.book(
                acting_user=self.c1_counsellor,
                person=self.person,
                counsellor=self.c2_counsellor,
                starts_at=MONDAY_9,
            )
        self.assertIn("counsellor", caught.exception.message_dict)

    def test_cancel_needs_a_reason_and_frees_the_slot(self):
        appointment = self.book()
        with self.assertRaises(ValidationError) as caught:
            actions.cancel(acting_user=self.c1_counsellor, appointment=appointment, reason=" ")
        self.assertIn("reason", caught.exception.message_dict)
        actions.cancel(acting_user=self.c1_counsellor, appointment=appointment, reason="身体不适")
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)
        self.assertEqual(appointment.reason, "身体不适")
        self.book(person=self.other)  # the slot is free again
        with self.assertRaises(ValidationError):
            actions.cancel(acting_user=self.c1_counsellor, appointment=appointment, reason="再次")

    def test_reschedule_links_the_new_appointment(self):
        old = self.book()
        with self.assertRaises(ValidationError) as caught:
            actions.reschedule(
                acting_user=self.c1_counsellor, appointment=old, new_starts_at=at(10, 40), reason=""
            )
        self.assertIn("reason", caught.exception.message_dict)
        new = actions.reschedule(
            acting_user=self.c1_counsellor,
            appointment=old,
            new_starts_at=at(10, 40),
            reason="来访者要求",
        )
        old.refresh_from_db()
        self.assertEqual(old.status, AppointmentStatus.RESCHEDULED)
        self.assertEqual(old.rescheduled_to, new)
        self.assertEqual(new.starts_at, at(10, 40))
        self.assertIn(at(9), [o.start for o in actions.offers_for(self.person)])

    def test_no_show_and_attended_only_once_begun(self):
        appointment = self.book()
        with self.assertRaises(ValidationError):
            actions.mark_no_show(acting_user=self.c1_counsellor, appointment=appointment)
        with time_machine.travel(at(10), tick=False):
            actions.mark_no_show(acting_user=self.c1_counsellor, appointment=appointment)
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.NO_SHOW)
        second = self.book(starts_at=at(9, 50))
        with time_machine.travel(at(11), tick=False):
            actions.mark_attended(acting_user=self.c1_counsellor, appointment=second)
        second.refresh_from_db()
        self.assertEqual(second.status, AppointmentStatus.ATTENDED)

    def test_reminders_are_sent_once(self):
        tomorrow = self.book(starts_at=at(14, day=9))  # Wednesday
        soon = self.book(person=self.other)
        self.assertEqual(actions.send_reminders(), 1)  # only the one within a day
        soon.refresh_from_db()
        self.assertIsNotNone(soon.reminder_sent_at)
        self.assertEqual(actions.send_reminders(), 0)
        with time_machine.travel(at(15, day=8), tick=False):
            self.assertEqual(actions.send_reminders(), 1)
            self.assertEqual(actions.send_reminders(), 0)
        tomorrow.refresh_from_db()
        self.assertIsNotNone(tomorrow.reminder_sent_at)
        from xinqiao.booking.tasks import remind_appointments

        remind_appointments.call_local()


class PagesTests(BookingTestCase):
    def test_an_earlier_appointment_still_open_stays_on_my_list(self):
        appointment = self.book()
        with time_machine.travel(at(9, day=9), tick=False):
            mine = self.client_for(self.c1_counsellor).get("/booking/")
            self.assertContains(mine, f"/booking/a/{appointment.pk}/")
            actions.mark_no_show(acting_user=self.c1_counsellor, appointment=appointment)
            mine = self.client_for(self.c1_counsellor).get("/booking/")
            self.assertNotContains(mine, f"/booking/a/{appointment.pk}/")

    def test_erasure_cancels_what_is_to_come_and_stops_the_link(self):
        from xinqiao.booking.models import BookingLink
        from xinqiao.people.actions import erase_person

        past = self.book()
        actions.cancel(acting_user=self.c1_counsellor, appointment=past, reason="家中有事改天")
        coming = self.book(starts_at=at(9, 50))
        link, token = actions.create_link(acting_user=self.c1_counsellor, person=self.person)
        erase_person(
            acting_user=self.street_admin,
            person=self.person,
            legal_reason="consent_withdrawn",
            note="申请编号 2026-07",
        )
        past.refresh_from_db()
        coming.refresh_from_db()
        self.assertEqual(past.reason, "")
        self.assertEqual(coming.status, AppointmentStatus.CANCELLED)
        self.assertIsNotNone(BookingLink.objects.get(pk=link.pk).revoked_at)
        self.assertEqual(Client().get(f"/booking/p/{token}/").status_code, 410)

    def test_staff_pages(self):
        appointment = self.book()
        client = self.client_for(self.c1_counsellor)
        for url in (
            "/booking/",
            "/booking/unit/",
            f"/booking/a/{appointment.pk}/",
            f"/booking/people/{self.person.pk}/book/?counsellor={self.c1_counsellor.pk}",
            f"/people/{self.person.pk}/",
        ):
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "预约测试甲")
        response = client.post(
            f"/booking/people/{self.other.pk}/book/",
            {"counsellor": self.c1_counsellor.pk, "starts_at": at(9).isoformat()},
        )
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "刚刚被别人预约", status_code=409)
        response = client.post(f"/booking/a/{appointment.pk}/cancel", {"reason": ""})
        self.assertEqual(response.status_code, 400)
        response = client.post(f"/booking/a/{appointment.pk}/cancel", {"reason": "改期"})
        self.assertEqual(response.status_code, 302)

    def test_scope_404(self):
        appointment = self.book()
        client = self.client_for(self.c2_counsellor)
        self.assertEqual(client.get(f"/booking/a/{appointment.pk}/").status_code, 404)
        self.assertEqual(
            client.post(f"/booking/a/{appointment.pk}/cancel", {"reason": "x"}).status_code, 404
        )
        self.assertEqual(client.get(f"/booking/people/{self.person.pk}/book/").status_code, 404)
        self.assertNotContains(client.get("/booking/unit/"), "预约测试甲")

    def test_ics_feed_parses_back_and_names_nobody(self):
        appointment = self.book()
        cancelled = self.book(person=self.other, starts_at=at(9, 50))
        actions.cancel(acting_user=self.c1_counsellor, appointment=cancelled, reason="有事")
        client = self.client_for(self.c1_counsellor)
        download = client.get("/booking/calendar.ics")
        self.assertEqual(download.status_code, 200)
        response = client.post("/booking/calendar/")
        url = response.context["url"]
        feed = Client().get(url[url.index("/booking/") :])
        self.assertEqual(feed.status_code, 200)
        self.assertNotIn("预约测试", feed.content.decode())
        events = {str(e["uid"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
        event = events[f"{appointment.pk}@testserver"]
        self.assertEqual(event.decoded("dtstart"), at(9))
        self.assertEqual(event.decoded("dtend"), at(9, 50))
        self.assertIn(appointment.reference, str(event["summary"]))
        self.assertEqual(str(events[f"{cancelled.pk}@testserver"]["status"]), "CANCELLED")
        # A new address retires the old one.
        client.post("/booking/calendar/")
        self.assertEqual(Client().get(url[url.index("/booking/") :]).status_code, 404)


class PublicLinkTests(BookingTestCase):
    def link(self, days=14):
        _link, token = actions.create_link(
            acting_user=self.c1_worker, person=self.person, days=days
        )
        return _link, f"/booking/p/{token}/"

    def test_the_person_books_and_cancels_from_the_phone(self):
        _link, url = self.link()
        client = Client()
        page = client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "09:00")
        self.assertContains(page, self.c1_counsellor.name)
        self.assertNotContains(page, "预约测试甲")
        href = html.unescape(re.search(r'href="([^"]*confirm/[^"]*)"', page.content.decode())[1])
        confirm = client.get(href)
        self.assertContains(confirm, "09:00")
        self.assertEqual(confirm.status_code, 200)
        booked = client.post(
            url + "confirm/",
            {"at": at(9).isoformat(), "c": self.c1_counsellor.pk, "confirmed": "1"},
        )
        self.assertEqual(booked.status_code, 200)
        appointment = Appointment.objects.get(person=self.person)
        self.assertEqual(appointment.channel, "self")
        self.assertIsNone(appointment.booked_by)
        self.assertContains(booked, appointment.reference)
        # Someone else took the next slot meanwhile.
        self.book(person=self.other, starts_at=at(9, 50))
        taken = client.post(
            url + "confirm/",
            {"at": at(9, 50).isoformat(), "c": self.c1_counsellor.pk, "confirmed": "1"},
        )
        self.assertEqual(taken.status_code, 409)
        self.assertContains(taken, "10:40", status_code=409)
        self.assertNotContains(taken, "预约测试乙", status_code=409)
        refused = client.post(url + "cancel/", {"appointment": appointment.pk, "reason": ""})
        self.assertEqual(refused.status_code, 400)
        done = client.post(url + "cancel/", {"appointment": appointment.pk, "reason": "加班"})
        self.assertEqual(done.status_code, 200)
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)

    def test_expired_revoked_and_unknown_links(self):
        link, url = self.link(days=1)
        with time_machine.travel(NOW + timedelta(days=2), tick=False):
            self.assertEqual(Client().get(url).status_code, 410)
        actions.revoke_link(acting_user=self.c1_worker, link=link)
        self.assertEqual(Client().get(url).status_code, 410)
        self.assertEqual(Client().get("/booking/p/nothing-here/").status_code, 404)

    @override_settings(XINQIAO_SELF_SERVICE_RATE_PER_MINUTE=3)
    def test_rate_limited(self):
        _link, url = self.link()
        client = Client()
        statuses = [client.get(url).status_code for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])

    def test_staff_create_the_link_with_a_qr_code(self):
        client = self.client_for(self.c1_worker)
        response = client.post(f"/booking/people/{self.person.pk}/link/", {"days": "7"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<svg")
        self.assertContains(response, "/booking/p/")
        outsider = self.client_for(self.c2_counsellor)
        self.assertEqual(outsider.post(f"/booking/people/{self.person.pk}/link/").status_code, 404)


class ConcurrentBookingTests(TransactionTestCase):
    def test_two_bookings_of_one_slot_at_once_exactly_one_wins(self):
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        from xinqiao.ops.demo import build_demo_city

        demo = build_demo_city()
        counsellor = demo.users["c1_counsellor"]
        unit = demo.communities[0]
        people = [
            Person.objects.create(unit=unit, name=f"并发预约{n}", priority_level=3) for n in (1, 2)
        ]
        with time_machine.travel(NOW, tick=False):
            actions.publish_availability(
                acting_user=counsellor,
                unit=unit,
                windows=[WindowInput(weekday=0, start=time(9), end=time(12))],
            )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def book(person):
            try:
                with time_machine.travel(NOW, tick=False):
                    barrier.wait(timeout=10)
                    actions.book(
                        acting_user=counsellor,
                        person=person,
                        counsellor=counsellor,
                        starts_at=MONDAY_9,
                    )
                outcomes.append("won")
            except actions.SlotTaken as exc:
                outcomes.append(exc.message_dict["starts_at"][0])
            finally:
                connection.close()

        threads = [threading.Thread(target=book, args=(p,)) for p in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(outcomes), 2)
        self.assertEqual(outcomes.count("won"), 1)
        self.assertIn("刚刚被别人预约", next(o for o in outcomes if o != "won"))
        self.assertEqual(Appointment.objects.filter(starts_at=MONDAY_9, status="booked").count(), 1)


class DemoTests(PersonaTestCase):
    def test_populate(self):
        from django.utils import timezone

        from xinqiao.booking.demo import populate

        Person.objects.create(unit=self.c1, name="演示预约", priority_level=3)
        populate(timezone.localdate())
        self.assertTrue(Appointment.objects.filter(status="booked").exists())
        self.assertTrue(self.c1_counsellor.availability_windows.exists())
