"""Booking on the public portal (issue #8 item 4; R-BOOK): the unit's counsellors' free slots,
sign-in first keeping the slot, the account's file in the unit, the booking with channel
``portal`` and the counsellor told, a slot "just taken" with the next free ones, cancelling
from my page, and another account's booking answering 404."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
)
from xinqiao.booking import actions
from xinqiao.booking.actions import SlotTaken, WindowInput
from xinqiao.booking.models import Appointment, AppointmentStatus
from xinqiao.notify.models import Notification
from xinqiao.ops.demo import build_demo_city
from xinqiao.orgs.models import Unit
from xinqiao.people.models import EventKind, Person, PersonEvent
from xinqiao.portal import sms
from xinqiao.portal.book import book_on_portal
from xinqiao.portal.models import AccountPerson, PortalAccount
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
# Monday 7 December 2026, 08:00 in the city.
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


class PortalBookingCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        cache.clear()
        sms.sent.clear()
        actions.publish_availability(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            windows=[WindowInput(weekday=0, start=time(9), end=time(12), location="社区心理室")],
        )
        self.ref = str(self.c1.pk)
        self.book_url = f"/p/{self.ref}/book/"

    def slot_url(self, starts_at: datetime = MONDAY_9) -> str:
        return (
            f"/p/{self.ref}/book/confirm/?c={self.c1_counsellor.pk}&at={int(starts_at.timestamp())}"
        )

    def sign_in(self, phone: str, next_url: str = "") -> tuple[Client, str]:
        client = Client()
        client.post(f"/p/{self.ref}/me/sign-in/", {"phone": phone, "next": next_url})
        response = client.post(
            f"/p/{self.ref}/me/code/", {"code": sms.sent[-1].code, "next": next_url}
        )
        self.assertEqual(response.status_code, 302)
        return client, response["Location"]

    def confirm(self, client: Client, starts_at: datetime = MONDAY_9, name: str = "小林", **extra):
        return client.post(
            f"/p/{self.ref}/book/confirm/",
            {
                "c": str(self.c1_counsellor.pk),
                "at": str(int(starts_at.timestamp())),
                "name": name,
                "about": "睡眠",
            },
            **extra,
        )


class BookingFlowTests(PortalBookingCase):
    def test_the_start_page_lists_free_slots_by_day_with_display_names(self):
        page = Client().get(self.book_url)
        self.assertContains(page, self.c1_counsellor.name)
        self.assertContains(page, "09:00")
        self.assertContains(page, "09:50")
        self.assertContains(page, "社区心理室")
        self.assertContains(page, self.slot_url().replace("&", "&amp;"))
        self.assertNotContains(page, self.c1_counsellor.username)
        # A portal of a unit no counsellor serves says so and points to the phones.
        lonely = Unit.objects.get(name="外社区")
        other = Client().get(f"/p/{lonely.pk}/book/", **EN)
        self.assertContains(other, "There are no free times in the next two weeks")

    def test_sign_in_first_then_book_in_the_portal_unit(self):
        anonymous = Client()
        response = anonymous.get(self.slot_url())
        self.assertEqual(response.status_code, 302)
        self.assertIn(f"next={quote(self.slot_url(), safe='')}", response["Location"])
        client, landed = self.sign_in("13900003333", self.slot_url())
        self.assertEqual(landed, self.slot_url())
        page = client.get(landed)
        self.assertContains(page, 'name="name"')
        notified = Notification.objects.count()
        response = self.confirm(client)
        appointment = Appointment.objects.get()
        self.assertRedirects(
            response,
            f"/p/{self.ref}/book/done/{appointment.pk}/",
            fetch_redirect_response=False,
        )
        self.assertEqual(appointment.channel, "portal")
        self.assertIsNone(appointment.booked_by)
        self.assertEqual(appointment.counsellor, self.c1_counsellor)
        self.assertEqual(appointment.starts_at, MONDAY_9)
        person = appointment.person
        self.assertEqual(person.unit, self.c1)
        self.assertEqual(person.name, "小林")
        self.assertEqual(person.phone, "13900003333")
        self.assertIn("睡眠", person.notes)
        link = AccountPerson.objects.get()
        self.assertEqual((link.unit, link.person), (self.c1, person))
        self.assertTrue(PersonEvent.objects.filter(person=person, kind=EventKind.CREATED).exists())
        self.assertTrue(
            PersonEvent.objects.filter(person=person, kind=EventKind.APPOINTMENT).exists()
        )
        self.assertEqual(Notification.objects.count(), notified + 1)
        done = client.get(response["Location"])
        self.assertContains(done, appointment.reference)
        self.assertContains(done, self.c1_counsellor.name)
        self.assertContains(done, f'href="/p/{self.ref}/me/"')
        mine = client.get(f"/p/{self.ref}/me/")
        self.assertContains(mine, f"/p/{self.ref}/me/bookings/{appointment.pk}/cancel/")
        # A second booking in the same unit reuses the file.
        self.confirm(client, datetime(2026, 12, 7, 10, 40, tzinfo=TZ))
        self.assertEqual(Appointment.objects.count(), 2)
        self.assertEqual(Person.objects.filter(name="小林").count(), 1)

    def test_a_name_is_required_and_nothing_is_written_without_it(self):
        client, _landed = self.sign_in("13900003333")
        people = Person.objects.count()
        response = self.confirm(client, name="  ", **EN)
        self.assertContains(response, "Tell us what we may call you", status_code=400)
        response = self.confirm(client, name="名" * 51, **EN)
        self.assertContains(response, "At most 50 characters", status_code=400)
        self.assertEqual(Person.objects.count(), people)
        self.assertFalse(Appointment.objects.exists())

    def test_a_slot_taken_a_moment_ago_says_so_with_the_next_free_slots(self):
        first, _ = self.sign_in("13900003333")
        second, _ = self.sign_in("13900004444")
        page = second.get(self.slot_url())  # the second visitor has the confirm page open
        self.assertEqual(page.status_code, 200)
        self.assertEqual(self.confirm(first).status_code, 302)
        people = Person.objects.count()
        response = self.confirm(second, name="阿梅", **EN)
        self.assertContains(response, "This time was just taken by someone else", status_code=409)
        self.assertContains(response, "09:50", status_code=409)
        self.assertNotContains(response, f"at={int(MONDAY_9.timestamp())}", status_code=409)
        self.assertEqual(Appointment.objects.count(), 1)
        self.assertEqual(Person.objects.count(), people)  # no file left behind
        second_account = PortalAccount.objects.exclude(pk=AccountPerson.objects.get().account_id)
        self.assertFalse(AccountPerson.objects.filter(account__in=second_account).exists())
        self.assertEqual(second.get(f"{self.book_url}confirm/?c=nonsense&at=1").status_code, 400)
        # Opening the taken slot's link says the same.
        self.assertContains(
            second.get(self.slot_url(), **EN), "just taken by someone else", status_code=409
        )


class MyBookingsTests(PortalBookingCase):
    def test_cancel_from_my_page_with_a_reason(self):
        client, _ = self.sign_in("13900003333")
        self.confirm(client)
        appointment = Appointment.objects.get()
        url = f"/p/{self.ref}/me/bookings/{appointment.pk}/cancel/"
        self.assertContains(client.get(url), 'name="reason"')
        response = client.post(url, {"reason": ""})
        self.assertEqual(response.status_code, 400)
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.BOOKED)
        response = client.post(url, {"reason": "临时有事"})
        self.assertRedirects(
            response, f"/p/{self.ref}/me/?cancelled=1", fetch_redirect_response=False
        )
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.CANCELLED)
        self.assertEqual(appointment.reason, "临时有事")
        self.assertEqual(client.post(url, {"reason": "again"}).status_code, 409)
        # The slot is free again on the portal.
        self.assertContains(Client().get(self.book_url), self.slot_url().replace("&", "&amp;"))

    def test_another_accounts_booking_is_a_404(self):
        owner, _ = self.sign_in("13900003333")
        self.confirm(owner)
        appointment = Appointment.objects.get()
        other, _ = self.sign_in("13900004444")
        cancel_url = f"/p/{self.ref}/me/bookings/{appointment.pk}/cancel/"
        self.assertEqual(other.get(cancel_url).status_code, 404)
        self.assertEqual(other.post(cancel_url, {"reason": "x"}).status_code, 404)
        self.assertEqual(other.get(f"/p/{self.ref}/book/done/{appointment.pk}/").status_code, 404)
        self.assertNotContains(other.get(f"/p/{self.ref}/me/"), str(appointment.pk))
        appointment.refresh_from_db()
        self.assertEqual(appointment.status, AppointmentStatus.BOOKED)
        # A file booked by staff for the same phone is not the account's either.
        staff_booked = Person.objects.create(unit=self.c1, name="职员登记", phone="13900004444")
        actions.book(
            acting_user=self.c1_counsellor,
            person=staff_booked,
            counsellor=self.c1_counsellor,
            starts_at=datetime(2026, 12, 7, 10, 40, tzinfo=TZ),
        )
        self.assertNotContains(other.get(f"/p/{self.ref}/me/"), "10:40")

    def test_the_race_itself_raises_slot_taken_and_leaves_no_file(self):
        self.sign_in("13900003333")
        self.sign_in("13900004444")
        first, second = PortalAccount.objects.order_by("created_at")
        book_on_portal(
            account=first,
            unit=self.c1,
            counsellor=self.c1_counsellor,
            starts_at=MONDAY_9,
            name="甲",
        )
        people = Person.objects.count()
        with self.assertRaises(SlotTaken) as caught:
            book_on_portal(
                account=second,
                unit=self.c1,
                counsellor=self.c1_counsellor,
                starts_at=MONDAY_9,
                name="乙",
            )
        self.assertEqual(caught.exception.offers[0].start, datetime(2026, 12, 7, 9, 50, tzinfo=TZ))
        self.assertEqual(Person.objects.count(), people)
        self.assertFalse(AccountPerson.objects.filter(account=second).exists())


# --- in a real browser at phone size, without JavaScript (issue #8 "Done when") -------------


@pytest.mark.browser
@pytest.mark.enable_socket
@pytest.mark.django_db(transaction=True)
def test_booking_a_slot_on_a_phone_without_javascript(live_server, browser):  # noqa: F811
    cache.clear()
    sms.sent.clear()
    demo = build_demo_city()
    unit, counsellor = demo.communities[0], demo.users["c1_counsellor"]
    actions.publish_availability(
        acting_user=counsellor,
        unit=unit,
        windows=[WindowInput(weekday=d, start=time(8), end=time(20)) for d in range(7)],
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    problems: dict[str, list[str]] = {}

    def check(name: str) -> None:
        # axe-core needs script: a second, scripted context looks at the same page.
        checker = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        checker.add_cookies(context.cookies())
        other = checker.new_page()
        other.goto(page.url)
        found = serious_accessibility_problems(other)
        if found:
            problems[name] = found
        checker.close()

    page.goto(f"{live_server.url}/p/{unit.pk}/book/")
    check("start")
    page.locator("a.button[href*='/book/confirm/']").first.click()
    assert "/me/" in page.url  # sign in first, the slot kept in "next"
    check("sign-in")
    page.fill("#id_phone", "13900005555")
    page.locator("form[action$='/me/sign-in/'] button[type=submit]").click()
    assert "/me/code/" in page.url
    check("code")
    page.fill("#id_code", sms.sent[-1].code)
    page.locator("form[action$='/me/code/'] button[type=submit]").click()
    assert "/book/confirm/" in page.url
    check("confirm")
    page.fill("#id_name", "小周")
    page.locator("form[action$='/book/confirm/'] button[type=submit]").click()
    assert "/book/done/" in page.url
    appointment = Appointment.objects.get()
    assert appointment.channel == "portal"
    assert appointment.person.unit == unit
    assert appointment.reference in page.content()
    check("done")
    page.goto(f"{live_server.url}/p/{unit.pk}/me/")
    assert f"/me/bookings/{appointment.pk}/cancel/" in page.content()
    check("my page")
    page.goto(f"{live_server.url}/p/{unit.pk}/me/bookings/{appointment.pk}/cancel/")
    check("cancel")
    page.fill("#id_reason", "临时有事")
    page.locator("form button[type=submit].primary").click()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert problems == {}
    context.close()
