"""Light accounts of the public portal (issue #8 item 5): one-time codes through the console
SMS adapter, wrong codes → void → lock, the per-number limit, no account enumeration, session
rotation and idle expiry, sign-out, and "my page" (linked mailbox threads and
self-assessments, scoped to the account)."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.test import Client, override_settings

from xinqiao.assessments import actions as assessment_actions
from xinqiao.hotline.models import MailboxMessage
from xinqiao.portal import otp, sms
from xinqiao.portal.accounts import remember_assessment
from xinqiao.portal.models import AccountMessage, PortalAccount, SignInCode
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)
PHONE = "13900001111"  # generated test numbers
OTHER_PHONE = "13900002222"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def last_code() -> str:
    return sms.sent[-1].code


class PortalAccountCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.traveller = time_machine.travel(NOW, tick=False)
        self.clock = self.traveller.start()
        self.addCleanup(self.traveller.stop)
        cache.clear()
        sms.sent.clear()
        self.ref = str(self.c1.pk)
        self.base = f"/p/{self.ref}/me/"

    def ask_code(self, client: Client, phone: str = PHONE, **extra):
        return client.post(f"{self.base}sign-in/", {"phone": phone, "next": ""}, **extra)

    def enter(self, client: Client, code: str, **extra):
        return client.post(f"{self.base}code/", {"code": code, "next": ""}, **extra)

    def sign_in(self, client: Client | None = None, phone: str = PHONE) -> Client:
        client = client or Client()
        self.assertEqual(self.ask_code(client, phone).status_code, 302)
        response = self.enter(client, last_code())
        self.assertRedirects(response, self.base, fetch_redirect_response=False)
        return client


class CodeTests(PortalAccountCase):
    def test_code_goes_to_the_console_outbox_masked_and_only_its_digest_is_stored(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            response = self.ask_code(Client())
        self.assertRedirects(
            response,
            f"{self.base}code/?next=%2Fp%2F{self.ref}%2Fme%2F",
            fetch_redirect_response=False,
        )
        self.assertEqual(len(sms.sent), 1)
        sent = sms.sent[0]
        self.assertEqual(sent.phone, PHONE)
        self.assertRegex(sent.code, r"^\d{6}$")
        self.assertIn(sent.code, sent.text)
        self.assertIn("Xinqiao sign-in code for 139****1111:", out.getvalue())
        self.assertNotIn(PHONE, out.getvalue())
        row = SignInCode.objects.get()
        self.assertNotIn(sent.code, row.digest)
        self.assertEqual(row.expires_at - row.created_at, timedelta(minutes=10))
        account = PortalAccount.objects.get()
        self.assertEqual(account.phone, PHONE)
        self.assertNotIn(PHONE, account.phone_index)

    def test_a_landline_or_nonsense_is_refused_naming_the_field(self):
        for bad in ["", "abc", "02012345678", "1390000111"]:
            response = self.ask_code(Client(), bad, **EN)
            self.assertEqual(response.status_code, 400, bad)
            self.assertContains(response, "Enter a mobile number of 11 digits", status_code=400)
        self.assertEqual(sms.sent, [])
        self.assertFalse(PortalAccount.objects.exists())

    def test_the_same_answer_for_a_known_and_an_unknown_number(self):
        known = self.sign_in()
        known.post(f"{self.base}sign-out/")
        pages = []
        for phone in (PHONE, OTHER_PHONE):
            client = Client()
            response = self.ask_code(client, phone)
            self.assertEqual(response.status_code, 302)
            page = client.get(response["Location"]).content.decode()
            pages.append(page.replace(otp.mask_phone(phone), "MASK"))
        strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
        self.assertEqual(strip.sub("", pages[0]), strip.sub("", pages[1]))

    def test_sign_in_rotates_the_session_and_sign_out_ends_it(self):
        client = Client()
        self.ask_code(client)
        before = client.session.session_key
        self.enter(client, last_code())
        self.assertNotEqual(client.session.session_key, before)
        page = client.get(self.base)
        self.assertContains(page, "139****1111")
        self.assertContains(page, f'action="{self.base}sign-out/"')
        client.post(f"{self.base}sign-out/")
        page = client.get(self.base)
        self.assertContains(page, f'action="{self.base}sign-in/"')
        self.assertNotContains(page, "139****1111")

    def test_a_code_is_good_once_and_expires(self):
        client = Client()
        self.ask_code(client)
        code = last_code()
        self.clock.shift(timedelta(minutes=11))
        response = self.enter(client, code, **EN)
        self.assertContains(response, "can no longer be used", status_code=400)
        self.ask_code(client)
        self.assertEqual(self.enter(client, last_code()).status_code, 302)
        other = Client()
        self.ask_code(other)
        first = last_code()
        self.ask_code(other)  # a new code voids the earlier one
        self.assertContains(self.enter(other, first, **EN), "not right", status_code=400)
        self.assertEqual(SignInCode.objects.filter(voided_at__isnull=False).count(), 2)

    def test_idle_for_more_than_thirty_days_signs_out(self):
        client = self.sign_in()
        self.clock.shift(timedelta(days=29))
        self.assertContains(client.get(self.base), "139****1111")
        self.clock.shift(timedelta(days=31))
        self.assertNotContains(client.get(self.base), "139****1111")

    def test_wrong_codes_void_the_code_then_lock_the_number(self):
        client = Client()
        self.ask_code(client)
        good = last_code()
        wrong = "000000" if good != "000000" else "111111"
        for _ in range(4):
            response = self.enter(client, wrong, **EN)
            self.assertContains(response, "This code is not right", status_code=400)
        response = self.enter(client, wrong, **EN)  # the fifth: the code is void
        self.assertContains(response, "can no longer be used", status_code=400)
        self.assertContains(self.enter(client, good, **EN), "can no longer", status_code=400)
        self.assertNotIn("xq_portal_account", client.session)
        # A new code, five more wrong entries: the number is locked for 30 minutes.
        self.ask_code(client)
        good = last_code()
        wrong = "000000" if good != "000000" else "111111"
        for _ in range(4):
            self.enter(client, wrong)
        response = self.enter(client, wrong, **EN)
        self.assertContains(response, "paused until 08:30", status_code=429)
        self.assertContains(response, "tel:", status_code=429)  # the hotline, always
        response = self.ask_code(Client(), **EN)
        self.assertContains(response, "paused until 08:30", status_code=429)
        self.assertEqual(self.enter(client, good).status_code, 429)
        self.clock.shift(timedelta(minutes=31))
        self.sign_in()

    def test_a_number_gets_five_codes_an_hour(self):
        for _ in range(5):
            self.assertEqual(self.ask_code(Client()).status_code, 302)
        response = self.ask_code(Client(), **EN)
        self.assertContains(response, "Several codes were already sent", status_code=429)
        self.assertEqual(len(sms.sent), 5)
        self.clock.shift(timedelta(minutes=61))
        self.assertEqual(self.ask_code(Client()).status_code, 302)

    def test_one_address_asks_at_most_ten_codes_an_hour(self):
        for n in range(10):
            self.assertEqual(self.ask_code(Client(), f"1390000{n:04d}").status_code, 302)
        response = self.ask_code(Client(), "13900009999", **EN)
        self.assertContains(response, "from this network", status_code=429)

    @override_settings(
        XINQIAO_PUBLIC_SMS="http", XINQIAO_SMS_URL="http://127.0.0.1:9/sms", XINQIAO_SMS_TOKEN="t"
    )
    def test_a_gateway_failure_says_so_kindly(self):
        from unittest import mock

        from xinqiao.notify.channels import DeliveryError

        with mock.patch("xinqiao.notify.channels.post_json", side_effect=DeliveryError("x")):
            response = self.ask_code(Client(), **EN)
        self.assertContains(response, "could not send the code", status_code=400)
        self.assertIsNotNone(SignInCode.objects.get().voided_at)
        with mock.patch("xinqiao.notify.channels.post_json", return_value=b"") as post:
            self.assertEqual(self.ask_code(Client()).status_code, 302)
        url, payload = post.call_args.args
        self.assertEqual(url, "http://127.0.0.1:9/sms")
        self.assertEqual(payload["to"], PHONE)
        self.assertRegex(payload["text"], r"\d{6}")
        self.assertEqual(post.call_args.kwargs["headers"]["Authorization"], "Bearer t")
        self.assertEqual(sms.sent, [])  # the console outbox is for the console adapter

    def test_next_only_goes_to_this_portal(self):
        client = Client()
        client.post(f"{self.base}sign-in/", {"phone": PHONE, "next": "https://evil.example/"})
        response = client.post(
            f"{self.base}code/", {"code": last_code(), "next": "https://evil.example/"}
        )
        self.assertRedirects(response, self.base, fetch_redirect_response=False)
        client = Client()
        client.post(f"{self.base}sign-in/", {"phone": PHONE, "next": f"/p/{self.ref}/book/"})
        response = client.post(
            f"{self.base}code/", {"code": last_code(), "next": f"/p/{self.ref}/book/"}
        )
        self.assertRedirects(response, f"/p/{self.ref}/book/", fetch_redirect_response=False)

    def test_the_sign_in_page_offers_the_reference_code_without_an_account(self):
        page = Client().get(self.base)
        self.assertContains(page, 'action="/mailbox/reply/"')
        self.assertContains(page, 'name="code"')


class MyPageTests(PortalAccountCase):
    def write(self, client: Client, body: str = "最近睡不好，想找人聊聊。") -> MailboxMessage:
        response = client.post(
            f"/mailbox/{self.c1.pk}/", {"kind": "mailbox", "reach": "anonymous", "body": body}
        )
        self.assertEqual(response.status_code, 200, response.content[:500])
        return MailboxMessage.objects.order_by("-created_at").first()

    def test_a_message_written_while_signed_in_is_on_my_page(self):
        client = self.sign_in()
        message = self.write(client)
        self.assertTrue(AccountMessage.objects.filter(message=message).exists())
        page = client.get(self.base)
        self.assertContains(page, message.number)
        thread = client.get(f"{self.base}messages/{message.pk}/")
        self.assertContains(thread, "最近睡不好")
        response = client.post(f"{self.base}messages/{message.pk}/", {"body": "补充一句。"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(message.replies.filter(author__isnull=True).count(), 1)
        self.assertContains(client.get(f"{self.base}messages/{message.pk}/"), "补充一句。")
        # Another account, and nobody signed in: not theirs.
        other = self.sign_in(phone=OTHER_PHONE)
        self.assertEqual(other.get(f"{self.base}messages/{message.pk}/").status_code, 404)
        self.assertNotContains(other.get(self.base), message.number)
        # Not signed in: the same 404 as for a thread that does not exist, with the sign-in form.
        anonymous = Client()
        response = anonymous.get(f"{self.base}messages/{message.pk}/", **EN)
        self.assertContains(response, "Please sign in to see this page", status_code=404)
        self.assertContains(response, f'value="{self.base}messages/{message.pk}/"', status_code=404)
        self.assertNotContains(response, "最近睡不好", status_code=404)
        self.assertEqual(anonymous.get(f"{self.base}messages/{uuid.uuid4()}/").status_code, 404)

    def test_a_message_written_without_signing_in_is_linked_to_nobody(self):
        self.write(Client())
        self.assertFalse(AccountMessage.objects.exists())

    def test_results_show_the_kind_message_never_the_clinical_label(self):
        client = self.sign_in()
        account = PortalAccount.objects.get()
        assessment = assessment_actions.begin_portal_assessment(
            unit=self.c1, instrument="phq9", respondent="self", resume_key="k", under_14=False
        )
        for number in range(1, 10):
            assessment = assessment_actions.save_answer(
                assessment=assessment, number=number, value=3
            )
        assessment = assessment_actions.finish_self_assessment(assessment=assessment)
        self.assertEqual(assessment.status, "completed")
        remember_assessment(account=account, assessment=assessment)
        remember_assessment(account=account, assessment=assessment)  # idempotent
        page = client.get(self.base, **EN)
        self.assertContains(page, "Thank you for telling us how you are")
        self.assertContains(page, f'href="/p/{self.ref}/help/"')
        self.assertNotContains(page, "Severe")
        # The score is never shown as a score (the page's UUIDs and tokens may hold the digits).
        text = page.content.decode()
        self.assertNotRegex(text, rf"(?<![\w-]){assessment.total}(?![\w-])")
        self.assertNotIn("27/27", text)
        other = self.sign_in(phone=OTHER_PHONE)
        self.assertNotContains(other.get(self.base, **EN), "Thank you for telling us")


class DemoTests(PortalAccountCase):
    def test_the_demo_account_has_a_booking_and_a_thread_on_my_page(self):
        from xinqiao.booking.actions import WindowInput, publish_availability
        from xinqiao.portal.demo_accounts import DEMO_PHONE, add_demo_accounts

        publish_availability(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            windows=[WindowInput(weekday=0, start=time(9), end=time(12))],
        )
        account = add_demo_accounts(self.demo)
        self.assertIsNotNone(account)
        client = self.sign_in(phone=DEMO_PHONE)
        page = client.get(self.base)
        self.assertContains(page, "/me/bookings/")
        self.assertContains(page, "/me/messages/")


class WeightTests(PortalAccountCase):
    def test_the_account_pages_are_light_and_work_as_plain_forms(self):
        client = Client()
        pages = [client.get(self.base)]
        self.ask_code(client)
        pages.append(client.get(f"{self.base}code/"))
        self.enter(client, last_code())
        pages.append(client.get(self.base))
        for page in pages:
            self.assertEqual(page.status_code, 200)
            body = page.content.decode()
            self.assertLess(len(page.content), 100_000)  # issue #8: under 100 KB before media
            self.assertNotIn("<script", body)
            self.assertIn('name="viewport"', body)
            self.assertEqual(page["Cache-Control"].count("no-store"), 1)
