"""No secret in logs (issue #10 item 9; R-PRIVACY; "Never log personal data", CONTRIBUTING.md).

Generated ID numbers and phone numbers are planted through the real paths — a person file
registered on the API, with a wrong ID number too; a worry-mailbox message with a phone number
in its text and as its contact; a crisis call-back from the portal; a call-back after a
self-assessment; a staff search by phone and by ID number — while every logger is turned up
to DEBUG into one capture, and stdout and stderr are captured as well. None of the planted
values may appear there, in any spelling."""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator
from datetime import date

from django.core.cache import cache
from django.test import Client

from tests.people_data import resident_id
from xinqiao.accounts.actions import issue_api_token
from xinqiao.hotline.models import CallbackRequest, MailboxMessage
from xinqiao.people import actions
from xinqiao.people.models import Person
from xinqiao.test import PersonaTestCase, login

ID_NUMBER = resident_id(date(1975, 6, 7), 4242, region="990101")
WRONG_ID = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
PHONE = "17000004242"
CONTACT_PHONE = "17000005151"
MAILBOX_PHONE = "17000006363"
CALLBACK_PHONE = "17000007474"
ASSESS_PHONE = "17000008585"


def spellings(number: str) -> list[str]:
    """The number as written and as a log line might spell it: spaced 3-4-4, and its last
    eight digits (enough to identify a person)."""
    forms = [number, number[-8:]]
    if len(number) == 11:
        forms.append(f"{number[:3]} {number[3:7]} {number[7:]}")
    return forms


PLANTED = [
    value
    for number in (
        ID_NUMBER,
        WRONG_ID,
        PHONE,
        CONTACT_PHONE,
        MAILBOX_PHONE,
        CALLBACK_PHONE,
        ASSESS_PHONE,
    )
    for value in spellings(number)
]


@contextlib.contextmanager
def everything_logged() -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, and stdout and stderr, into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(args)s"))
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        for logger, level, disabled in levels:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(handler)


class NoSecretInLogsTests(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)
        self.ref = str(self.c1.pk)

    def plant(self) -> None:
        _, token = issue_api_token(user=self.c1_counsellor, name="log check")
        api = Client(HTTP_AUTHORIZATION=f"Token {token}")
        person = {
            "unit": self.ref,
            "name": "日志测试甲",
            "id_number": ID_NUMBER,
            "phone": PHONE,
            "notes": f"紧急联系人电话 {CONTACT_PHONE}",
        }
        created = api.post("/api/v1/people/", person, content_type="application/json")
        self.assertEqual(created.status_code, 201, created.content)
        refused = api.post(
            "/api/v1/people/",
            {**person, "name": "日志测试乙", "id_number": WRONG_ID, "phone": "12ab"},
            content_type="application/json",
        )
        self.assertEqual(refused.status_code, 400)
        duplicate = api.post("/api/v1/people/", person, content_type="application/json")
        self.assertGreaterEqual(duplicate.status_code, 400)
        staff = self.client_for(self.c1_counsellor)
        person_id = created.json()["id"]
        self.assertEqual(staff.get(f"/people/{person_id}/").status_code, 200)

        writer = Client()
        sent = writer.post(
            f"/mailbox/{self.ref}/",
            {
                "kind": "consultation",
                "reach": "contact",
                "phone": MAILBOX_PHONE,
                "body": f"我不想活了。我的电话是{MAILBOX_PHONE}，身份证号{ID_NUMBER}。",
            },
        )
        self.assertEqual(sent.status_code, 200)

        help_url = f"/p/{self.ref}/help/"
        asked = Client().post(help_url, {"phone": CALLBACK_PHONE, "note": f"打{CALLBACK_PHONE}"})
        self.assertEqual(asked.status_code, 302)

        visitor = Client()
        begin = f"/p/{self.ref}/assess/phq9/begin/"
        consent = {"under_14": "no", "respondent": "self", "agree": "on"}
        self.assertEqual(visitor.post(begin, consent).status_code, 302)
        answer = f"/p/{self.ref}/assess/phq9/answer/"
        for number, value in enumerate([1, 2, 1, 2, 1, 1, 2, 1, 3], start=1):
            visitor.post(answer, {"number": number, "answer": value})
        visitor.post(answer, {"number": 10, "skip": "1"})
        callback = visitor.post(
            f"/p/{self.ref}/assess/phq9/callback/",
            {"phone": ASSESS_PHONE, "note": f"请打 {ASSESS_PHONE}"},
        )
        self.assertEqual(callback.status_code, 302)

    def test_planted_numbers_never_reach_a_log_or_the_console(self):
        with everything_logged() as captured:
            logging.getLogger("xinqiao").debug("capture is on")
            self.plant()
        output = captured.getvalue()
        self.assertIn("capture is on", output)  # the capture works
        # The paths really ran: the values are stored (encrypted) where they belong.
        self.assertTrue(Person.objects.filter(name="日志测试甲").exists())
        self.assertEqual(MailboxMessage.objects.count(), 1)
        self.assertEqual(CallbackRequest.objects.count(), 2)
        leaked = [value for value in PLANTED if value in output]
        self.assertEqual(leaked, [], output[-3000:])

    def test_a_search_by_phone_number_leaves_no_trace_in_the_logs(self):
        """The search is posted as the browser posts it (the CSRF token from the page); the
        number is in no log, no Location header and no link of the result page, and the page
        really shows the person it found."""
        actions.register_person(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            name="日志测试丙",
            id_number=ID_NUMBER,
            phone=PHONE,
        )
        browser = login(Client(enforce_csrf_checks=True), self.c1_counsellor)
        for number in (PHONE, ID_NUMBER):
            with self.subTest(number=number), everything_logged() as captured:
                form = browser.get("/people/")
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
                assert token is not None
                posted = browser.post(
                    "/people/search/",
                    {"csrfmiddlewaretoken": token.group(1), "lookup": number, "priority": ""},
                )
                self.assertEqual(posted.status_code, 303)
                location = posted["Location"]
                self.assertRegex(location, r"^/people/\?s=[\w-]+$")
                shown = browser.get(location)
                self.assertContains(shown, "日志测试丙")
                urls = re.findall(r'(?:href|action|src)="([^"]*)"', shown.text)
                files = [u for u in urls if re.fullmatch(r"/people/[0-9a-f-]{36}/", u)]
                self.assertEqual(len(files), 1)  # the search ran: one match, not the whole list
                self.assertTrue(urls)
                output = captured.getvalue()
                for value in spellings(number):
                    self.assertNotIn(value, output)
                    self.assertNotIn(value, location)
                    self.assertEqual([u for u in urls if value in u], [])
