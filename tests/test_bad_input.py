"""Bad input on the public portal and the API (issue #10 item 7): SQL and script injection
strings in every text field of the public forms (mailbox message and follow-up, crisis
call-back, self-assessment consent, answers and call-back, booking), invalid UTF-8, a 2 MB
body, JSON nested 10,000 deep, and uploads of the wrong type. Each is answered with a clean
4xx — or accepted and then shown escaped — never a 500, never a stack trace."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client

from xinqiao.accounts.actions import issue_api_token
from xinqiao.test import PersonaTestCase

SCRIPT = '<script>alert("xq")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOADS = [
    "'; DROP TABLE people_person; --",
    "1' OR '1'='1",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
    SCRIPT,
    ATTRIBUTE,
    "{{ settings.SECRET_KEY }}{% debug %}",
    "\x00\x01\x7f",
    "\ud7ff\ufeff\u202e",
    "%s%s%s%n",
]
# What a raw payload looks like if it reached the page unescaped.
UNESCAPED = ("<script>alert", "<img src=x")
TRACE_MARKERS = ("Traceback", 'File "/', "django/core/handlers", "Exception Value")

BAD_UTF8 = b"body=\xff\xfe\xc3\x28%ff%fe&kind=mailbox&reach=anonymous"
TWO_MB = 2 * 1024 * 1024
API_POSTS = ("/api/v1/score", "/api/v1/people/", "/api/v1/auth/token")


class BadInputCase(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()  # the rate limits count per address: each check starts afresh
        self.addCleanup(cache.clear)
        self.ref = str(self.c1.pk)

    def assert_clean(self, response: HttpResponse, *, payload: str = "") -> str:
        self.assertLess(response.status_code, 500, payload)
        body = response.content.decode("utf-8", "replace")
        for marker in TRACE_MARKERS:
            self.assertNotIn(marker, body, payload)
        for raw in UNESCAPED:
            self.assertNotIn(raw, body, payload)
        return body

    def post_each(self, url: str, base: dict[str, str], fields: list[str]) -> None:
        """Every payload in every named field, the other fields left valid."""
        for field in fields:
            for payload in PAYLOADS:
                cache.clear()
                with self.subTest(url=url, field=field, payload=payload):
                    response = Client().post(url, {**base, field: payload})
                    self.assert_clean(response, payload=payload)


class BadInputTests(BadInputCase):
    # --- the public forms ------------------------------------------------------------------

    def test_mailbox_message_fields(self):
        url = f"/mailbox/{self.ref}/"
        base = {"kind": "mailbox", "reach": "contact", "body": "最近睡不好。", "phone": ""}
        fields = ["body", "subject", "phone", "email", "kind", "reach", "age_band"]
        fields += ["writer_group", "area"]
        self.post_each(url, base, fields)
        self.post_each("/mailbox/reply/", {"code": "ABCD-EFGH"}, ["code", "body"])
        self.assertLess(Client().get(f"/mailbox/{PAYLOADS[0]}/").status_code, 500)

    def test_a_script_in_a_message_is_stored_and_shown_escaped(self):
        writer = Client()
        sent = writer.post(
            f"/mailbox/{self.ref}/",
            {"kind": "mailbox", "reach": "anonymous", "subject": SCRIPT, "body": SCRIPT},
        )
        self.assertEqual(sent.status_code, 200)
        self.assert_clean(sent)
        code = sent.context["reference"]
        thread = writer.post("/mailbox/reply/", {"code": code})
        body = self.assert_clean(thread)
        self.assertIn("&lt;script&gt;alert(", body)
        again = writer.post("/mailbox/reply/", {"code": code, "body": ATTRIBUTE})
        self.assertIn("&quot;&gt;&lt;img src=x", self.assert_clean(again))
        # The staff side shows it escaped too.
        staff = self.client_for(self.c1_counsellor).get("/hotline/mailbox/")
        self.assert_clean(staff)

    def test_crisis_call_back_fields(self):
        self.post_each(
            f"/p/{self.ref}/help/", {"phone": "17000000001", "note": "需要帮助"}, ["phone", "note"]
        )

    def test_self_assessment_consent_answers_and_call_back(self):
        begin = f"/p/{self.ref}/assess/phq9/begin/"
        consent = {"under_14": "no", "respondent": "self", "agree": "on"}
        self.post_each(begin, consent, ["under_14", "respondent", "agree", "guardian_name"])
        visitor = Client()
        self.assertEqual(visitor.post(begin, consent).status_code, 302)
        answer = f"/p/{self.ref}/assess/phq9/answer/"
        for field in ("number", "answer", "skip"):
            for payload in PAYLOADS:
                with self.subTest(field=field, payload=payload):
                    data = {"number": "1", "answer": "1", field: payload}
                    self.assert_clean(visitor.post(answer, data), payload=payload)
        for number, value in enumerate([1, 2, 1, 2, 1, 1, 2, 1, 1], start=1):
            self.assertEqual(
                visitor.post(answer, {"number": number, "answer": value}).status_code, 302
            )
        visitor.post(answer, {"number": 10, "skip": "1"})
        callback = f"/p/{self.ref}/assess/phq9/callback/"
        for field in ("phone", "note"):
            for payload in PAYLOADS:
                cache.clear()
                with self.subTest(field=field, payload=payload):
                    data = {"phone": "17000000002", "note": "", field: payload}
                    if field == "note":
                        data["phone"] = "1700000" + str(PAYLOADS.index(payload)).zfill(4)
                    self.assert_clean(visitor.post(callback, data), payload=payload)

    def test_booking_fields(self):
        url = f"/p/{self.ref}/book/confirm/"
        base = {"c": str(self.c1_counsellor.pk), "at": "1796601600", "name": "小林"}
        self.post_each(url, base, ["c", "at", "name", "about", "phone"])
        for payload in PAYLOADS:
            response = Client().get(f"/p/{self.ref}/book/confirm/", {"c": payload, "at": payload})
            self.assert_clean(response, payload=payload)

    def test_portal_sign_in_fields(self):
        self.post_each(f"/p/{self.ref}/me/sign-in/", {"phone": "17000000003"}, ["phone", "next"])
        self.post_each(f"/p/{self.ref}/me/code/", {"code": "123456"}, ["code", "next"])

    # --- raw bodies and the API ---------------------------------------------------------

    def test_invalid_utf8_in_a_form_body_is_not_a_500(self):
        for url in (f"/mailbox/{self.ref}/", f"/p/{self.ref}/help/", "/mailbox/reply/"):
            with self.subTest(url=url):
                response = Client().generic(
                    "POST", url, BAD_UTF8, content_type="application/x-www-form-urlencoded"
                )
                self.assert_clean(response)

    def test_invalid_utf8_in_the_url_is_not_a_500(self):
        for url in ("/mailbox/%FF%FE/", f"/p/{self.ref}/learn/?topic=%FF", "/p/%C3%28/"):
            with self.subTest(url=url):
                self.assert_clean(Client().get(url))

    def test_a_2_mb_body_is_refused_cleanly(self):
        big = "测" * (TWO_MB // 3 + 1)
        for url in (f"/mailbox/{self.ref}/", f"/p/{self.ref}/help/"):
            with self.subTest(url=url):
                response = Client().post(
                    url, {"kind": "mailbox", "reach": "anonymous", "body": big, "note": big}
                )
                self.assertGreaterEqual(response.status_code, 400)
                self.assert_clean(response)

    def api(self) -> Client:
        _, raw = issue_api_token(user=self.c1_counsellor, name="bad input")
        return Client(HTTP_AUTHORIZATION=f"Token {raw}")

    def assert_refused_by_the_api(self, api: Client, bodies: list[bytes]) -> None:
        for url in API_POSTS:
            for body in bodies:
                cache.clear()
                with self.subTest(url=url, body=body[:40]):
                    response = api.generic("POST", url, body, content_type="application/json")
                    self.assertGreaterEqual(response.status_code, 400)
                    self.assert_clean(response)
                    self.assertEqual(response["Content-Type"], "application/json")

    def test_invalid_utf8_and_hostile_json_to_the_api(self):
        self.assert_refused_by_the_api(
            self.api(),
            [
                json.dumps(
                    {"instrument": "phq9", "answers": json.loads("[" * 50 + "]" * 50)}
                ).encode(),
                b'{"instrument": "phq9", "answers": [\xff\xfe]}',
                b'{"instrument": "\xc3\x28"}',
                b"\xff\xfe{}",
                json.dumps({"instrument": "phq9", "answers": [0] * 200_000}).encode(),
                json.dumps({"instrument": SCRIPT, "answers": [PAYLOADS[0]]}).encode(),
                json.dumps({"username": PAYLOADS[0], "password": PAYLOADS[1]}).encode(),
            ],
        )

    def test_json_nested_10000_deep_is_a_400(self):
        api = self.api()
        for body in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
            for url in API_POSTS:
                cache.clear()
                response = api.generic("POST", url, body, content_type="application/json")
                self.assertEqual(response.status_code, 400)
                self.assert_clean(response)

    # --- uploads -------------------------------------------------------------------------

    def lesson(self, upload: SimpleUploadedFile) -> HttpResponse:
        data = {
            "unit": str(self.c1.pk),
            "title_zh": "睡前放松",
            "body_zh": "<p>关灯前十分钟放下手机。</p>",
            "topics": ["sleep"],
            "groups": ["general_public"],
            "transcript_zh": "文字稿",
            "media_file": upload,
        }
        client = self.client_for(self.c1_worker)
        return client.post("/content/new/lesson", data, HTTP_ACCEPT_LANGUAGE="en")

    def test_wrong_types_are_refused_with_a_message(self):
        wrong = [
            ("lesson.mp4", b"MZ\x90\x00" + b"\0" * 200, "video/mp4"),  # a Windows program
            ("lesson.mp3", b"<svg onload=alert(1)>" * 10, "audio/mpeg"),
            ("lesson.webm", b"%PDF-1.7\n" + b"x" * 200, "video/webm"),
            ("lesson.wav", b"", "audio/wav"),
            ("课.ogg", b"\x00" * 300, "audio/ogg"),
            (SCRIPT + ".mp4", b"PK\x03\x04" + b"\0" * 200, "application/zip"),
        ]
        for name, content, content_type in wrong:
            with self.subTest(name=name):
                response = self.lesson(SimpleUploadedFile(name, content, content_type))
                self.assertEqual(response.status_code, 400)
                self.assert_clean(response)
