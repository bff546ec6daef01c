"""Worry mailbox and online consultation (issue #7 item 3, R-MAILBOX): the round trip with a
reference code, triage before queueing (high → crisis alert on an unnamed file; queue order),
bad input (empty, too long, 100 KB, emoji, traditional characters, HTML), flood and code
guessing rate limits, scope, encryption at rest."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, TransactionTestCase

from xinqiao.audit.models import AccessLog
from xinqiao.hotline import mailbox_actions as actions
from xinqiao.hotline import mailbox_public
from xinqiao.hotline.mailbox_views import segments
from xinqiao.hotline.models import MailboxMessage, MailboxReply, MessageStatus, TextRisk
from xinqiao.orgs.models import Unit
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)

NEUTRAL = "最近工作压力有点大，晚上睡得不太好，想找人聊聊怎么调整作息。"
RISKY = "我真的不想活了，药已经攒够了，今晚就吃下去，结束这一切。"
CODE_RE = re.compile(r'<code class="secret" id="reference">([A-Z2-7-]+)</code>')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


class MailboxTestCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        cache.clear()
        self.writer = english()

    def write_url(self, unit: Unit | None = None) -> str:
        return f"/mailbox/{(unit or self.c1).pk}/"

    def send(self, body: str = NEUTRAL, client: Client | None = None, **extra: str):
        data = {"kind": "mailbox", "reach": "anonymous", "body": body, **extra}
        return (client or self.writer).post(self.write_url(), data)

    def sent_code(self, response) -> str:
        self.assertEqual(response.status_code, 200, response.content.decode()[:2000])
        match = CODE_RE.search(response.content.decode())
        assert match is not None
        return match.group(1)


class RoundTripTests(MailboxTestCase):
    def test_write_answer_read_follow_up_close(self):
        page = self.writer.get(self.write_url())
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page["Referrer-Policy"], "same-origin")
        self.assertIn("no-cache", page["Cache-Control"])
        self.assertContains(page, settings.XINQIAO_HOTLINE_NUMBER)
        self.assertContains(page, "csrfmiddlewaretoken")

        sent = self.send(subject="睡眠")
        code = self.sent_code(sent)
        self.assertEqual(len(actions.normalise_code(code)), 16)  # 16 × 5 bits = 80 bits
        self.assertContains(sent, settings.XINQIAO_HOTLINE_NUMBER)
        self.assertContains(sent, "read by a person")
        self.assertContains(sent, "120 / 110")
        self.assertEqual(sent["Referrer-Policy"], "same-origin")
        message = MailboxMessage.objects.get()
        self.assertEqual(message.status, MessageStatus.QUEUED)
        self.assertEqual(message.unit, self.c1)
        self.assertIsNone(message.person)

        staff = self.client_for(self.c1_counsellor)
        queue = staff.get("/hotline/mailbox/")
        self.assertContains(queue, message.number)
        self.assertContains(queue, "睡眠")
        detail = f"/hotline/mailbox/{message.pk}/"
        self.assertContains(staff.get(detail), NEUTRAL)
        self.assertTrue(
            AccessLog.objects.filter(object_id=str(message.pk), reason="mailbox message").exists()
        )
        staff.post(detail + "claim")
        message.refresh_from_db()
        self.assertEqual(message.status, MessageStatus.IN_PROGRESS)
        self.assertEqual(message.assigned_to, self.c1_counsellor)
        answer = "谢谢你写信来。可以试试每天固定时间起床，睡前一小时放下手机。"
        self.assertEqual(staff.post(detail + "answer", {"answer": answer}).status_code, 302)
        message.refresh_from_db()
        self.assertEqual(message.status, MessageStatus.ANSWERED)
        self.assertEqual(message.answered_at, NOW)

        thread = self.writer.post("/mailbox/reply/", {"code": code.lower().replace("-", " ")})
        self.assertEqual(thread.status_code, 200)
        self.assertContains(thread, answer)
        self.assertContains(thread, NEUTRAL)
        self.assertEqual(thread["Referrer-Policy"], "same-origin")

        again = "好的，我试了几天，好一些了，但早上还是很累。"
        followed = self.writer.post("/mailbox/reply/", {"code": code, "body": again})
        self.assertEqual(followed.status_code, 200)
        self.assertContains(followed, again)
        message.refresh_from_db()
        self.assertEqual(message.status, MessageStatus.QUEUED)  # back in the queue
        self.assertIsNone(message.assigned_to)
        self.assertEqual(message.replies.count(), 2)

        self.assertEqual(staff.post(detail + "close").status_code, 302)
        message.refresh_from_db()
        self.assertEqual(message.status, MessageStatus.CLOSED)
        self.assertEqual(message.closed_at, NOW)

        closed = self.writer.post("/mailbox/reply/", {"code": code})
        self.assertContains(closed, "This conversation is closed")
        self.assertNotContains(closed, "<textarea")
        refused = self.writer.post("/mailbox/reply/", {"code": code, "body": "还有一件事"})
        self.assertEqual(refused.status_code, 409)
        self.assertEqual(message.replies.count(), 2)
        with self.assertRaises(ValidationError):
            actions.follow_up(message=message, body="还有一件事")

    def test_the_code_is_never_in_the_url_and_get_shows_only_the_form(self):
        code = self.sent_code(self.send())
        page = self.writer.get("/mailbox/reply/", {"code": code})
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, NEUTRAL)

    def test_the_form_speaks_the_writers_language(self):
        # The limits are built when the module is imported; they must still be translated
        # when the page is shown (they once stayed in the default language).
        english = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/mailbox/{self.c1.pk}/")
        self.assertContains(english, "At most 5000 characters.")
        chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"/mailbox/{self.c1.pk}/")
        self.assertNotContains(chinese, "At most 5000 characters.")

    def test_unit_by_code_and_which_units_take_messages(self):
        self.c1.code = "310101001001"
        self.c1.save()
        self.assertEqual(self.writer.get("/mailbox/310101001001/").status_code, 200)
        for unit in (self.demo.hotline, self.demo.school, self.demo.station):
            self.assertEqual(self.writer.get(f"/mailbox/{unit.pk}/").status_code, 200)
        for unit in (self.demo.city, self.demo.districts[0], self.demo.hospital):
            self.assertEqual(self.writer.get(f"/mailbox/{unit.pk}/").status_code, 404)
        self.assertEqual(self.writer.get("/mailbox/no-such-unit/").status_code, 404)
        self.c2.is_active = False
        self.c2.save()
        self.assertEqual(self.writer.get(f"/mailbox/{self.c2.pk}/").status_code, 404)

    def test_contact_group_age_and_street_are_kept(self):
        street = self.demo.streets[1]
        code = self.sent_code(
            self.send(
                kind="consultation",
                reach="contact",
                phone="13800000000",
                wechat="demo_writer",
                age_band="25_34",
                writer_group="student",
                area=str(street.pk),
            )
        )
        message = MailboxMessage.objects.get()
        self.assertEqual(message.kind, "consultation")
        self.assertEqual(message.area, street)
        self.assertEqual(message.writer_group, "student")
        self.assertEqual(message.age_band, "25_34")
        self.assertEqual(actions.Contact.decode(message.contact).phone, "13800000000")
        self.assertIsNotNone(actions.find_thread(code))

        staff = self.client_for(self.c1_counsellor)
        detail = staff.get(f"/hotline/mailbox/{message.pk}/")
        self.assertNotContains(detail, "13800000000")
        shown = staff.post(f"/hotline/mailbox/{message.pk}/contact")
        self.assertContains(shown, "13800000000")
        self.assertTrue(
            AccessLog.objects.filter(object_id=str(message.pk), reason="mailbox contact").exists()
        )

    def test_contact_chosen_but_none_given_and_foreign_street(self):
        response = self.send(reach="contact")
        self.assertEqual(response.status_code, 400)
        self.assertIn("phone", response.context["form"].errors)
        outside_street = Unit.objects.get(name="外街道")
        response = self.send(area=str(outside_street.pk))
        self.assertEqual(response.status_code, 400)
        self.assertIn("area", response.context["form"].errors)
        response = self.send(reach="contact", phone="<b>call</b>")
        self.assertIn("phone", response.context["form"].errors)
        self.assertEqual(MailboxMessage.objects.count(), 0)


class TriageTests(MailboxTestCase):
    def test_high_risk_message_raises_an_alert_on_an_unnamed_file(self):
        self.sent_code(self.send(RISKY))
        message = MailboxMessage.objects.get()
        self.assertEqual(message.text_risk, TextRisk.HIGH)
        self.assertEqual(message.priority, 0)
        self.assertTrue(message.signals)
        self.assertIsNotNone(message.person)
        assert message.person is not None
        self.assertTrue(message.person.unnamed_contact)
        self.assertEqual(message.person.unit, self.c1)
        self.assertIn(message.number, message.person.name)
        self.assertIsNotNone(message.alert)
        assert message.alert is not None
        self.assertEqual(message.alert.person, message.person)
        staff = self.client_for(self.c1_counsellor)
        detail = staff.get(f"/hotline/mailbox/{message.pk}/")
        self.assertContains(detail, f"/risk/alerts/{message.alert.pk}/")
        self.assertContains(detail, "<mark")

    def test_neutral_message_raises_nothing(self):
        self.sent_code(self.send(NEUTRAL))
        message = MailboxMessage.objects.get()
        self.assertNotEqual(message.text_risk, TextRisk.HIGH)
        self.assertIsNone(message.alert)
        self.assertIsNone(message.person)

    def test_the_writer_is_not_told_the_triage_result(self):
        risky = self.send(RISKY).content.decode()
        neutral = self.send(NEUTRAL).content.decode()

        def scrub(page: str) -> str:
            return CODE_RE.sub("CODE", CSRF_RE.sub("CSRF", page))

        self.assertEqual(scrub(risky), scrub(neutral))
        code = CODE_RE.search(risky)
        assert code is not None
        thread = self.writer.post("/mailbox/reply/", {"code": code.group(1)}).content.decode()
        for word in ("High", "high", "triage", "Triage", "alert"):
            self.assertNotIn(word, thread.replace(settings.XINQIAO_HOTLINE_NUMBER, ""))

    def test_priority_follows_triage_and_queue_order_is_high_medium_then_oldest(self):
        for text in (NEUTRAL, RISKY):
            message, _code = actions.submit(unit=self.c1, body=text)
            self.assertEqual(message.priority, actions.priority_of(message.text_risk))
        ids = {}
        for n, name in enumerate(["old_none", "medium", "new_none", "high"]):
            with time_machine.travel(NOW + timedelta(minutes=n), tick=False):
                message, _code = actions.submit(unit=self.c1, body=f"{NEUTRAL} {n}")
            ids[name] = message
        MailboxMessage.objects.filter(pk=ids["medium"].pk).update(
            text_risk=TextRisk.MEDIUM, priority=1
        )
        MailboxMessage.objects.filter(pk=ids["high"].pk).update(text_risk=TextRisk.HIGH, priority=0)
        page = self.client_for(self.c1_counsellor).get("/hotline/mailbox/").content.decode()
        order = [page.index(ids[k].number) for k in ("high", "medium", "old_none", "new_none")]
        self.assertEqual(order, sorted(order))
        self.assertContains(
            self.client_for(self.c1_counsellor).get("/hotline/mailbox/"), "绝不能代替人工阅读"
        )

    def test_a_high_risk_follow_up_raises_the_alert_and_moves_the_thread_up(self):
        message, code = actions.submit(unit=self.c1, body=NEUTRAL)
        self.assertIsNone(message.alert)
        self.writer.post("/mailbox/reply/", {"code": code, "body": RISKY})
        message.refresh_from_db()
        self.assertEqual(message.text_risk, TextRisk.HIGH)
        self.assertEqual(message.priority, 0)
        self.assertIsNotNone(message.alert)
        self.assertEqual(message.replies.get().text_risk, TextRisk.HIGH)

    def test_traditional_characters_are_triaged(self):
        message, _code = actions.submit(
            unit=self.c1, body="我真的不想活了，藥已經攢夠了，今晚就吃下去。"
        )
        self.assertEqual(message.text_risk, TextRisk.HIGH)
        self.assertIn("藥已經", message.body)  # stored as written


class BadInputTests(MailboxTestCase):
    def test_empty_message_is_refused_naming_the_field(self):
        for body in ("", "   \n  "):
            response = self.send(body)
            self.assertEqual(response.status_code, 400)
            self.assertIn("body", response.context["form"].errors)
            self.assertContains(response, "Please write your message.", status_code=400)
        self.assertEqual(MailboxMessage.objects.count(), 0)

    def test_too_long_and_100_kb_messages_are_refused_cleanly(self):
        for body in ("字" * (actions.MAX_BODY + 1), "x" * 100 * 1024, "情" * 100 * 1024):
            response = self.send(body)
            self.assertEqual(response.status_code, 400)
            self.assertIn("body", response.context["form"].errors)
            self.assertContains(response, "too long", status_code=400)
        self.assertEqual(MailboxMessage.objects.count(), 0)
        self.sent_code(self.send("字" * actions.MAX_BODY))
        self.assertEqual(MailboxMessage.objects.count(), 1)
        with self.assertRaises(ValidationError):
            actions.submit(unit=self.c1, body="x" * (actions.MAX_BODY + 1))

    def test_emoji_and_mixed_scripts_are_kept(self):
        body = "今天好累😢 so tired… 我覺得很難過 ☕️ Ça va? Привет"
        code = self.sent_code(self.send(body))
        self.assertEqual(MailboxMessage.objects.get().body, body)
        self.assertContains(self.writer.post("/mailbox/reply/", {"code": code}), "😢")

    def test_html_and_script_are_stored_and_shown_as_text(self):
        body = "<script>alert('x')</script><b>粗体</b><img src=x onerror=alert(1)>"
        code = self.sent_code(self.send(body, subject="<i>主题</i>"))
        message = MailboxMessage.objects.get()
        self.assertEqual(message.body, body)
        thread = self.writer.post("/mailbox/reply/", {"code": code}).content.decode()
        staff = self.client_for(self.c1_counsellor)
        pages = [
            thread,
            staff.get(f"/hotline/mailbox/{message.pk}/").content.decode(),
            staff.get("/hotline/mailbox/").content.decode(),
        ]
        for page in pages:
            self.assertIn("&lt;script&gt;alert(&#x27;x&#x27;)", page)
            self.assertNotIn("<script>alert(", page)
            self.assertNotIn("<img src=x", page)
            self.assertNotIn("<b>粗体", page)
        self.assertIn("&lt;i&gt;主题&lt;/i&gt;", pages[1])

    def test_a_flood_from_one_address_is_rate_limited(self):
        for _n in range(mailbox_public.WRITES_PER_HOUR):
            self.sent_code(self.send())
        response = self.send()
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many messages", status_code=429)
        self.assertEqual(MailboxMessage.objects.count(), mailbox_public.WRITES_PER_HOUR)
        other = english()
        response = other.post(
            self.write_url(),
            {"kind": "mailbox", "reach": "anonymous", "body": NEUTRAL},
            REMOTE_ADDR="10.0.0.9",
        )
        self.assertEqual(response.status_code, 200)  # another address is not blocked
        # The next hour the address may write again.
        with time_machine.travel(NOW + timedelta(hours=1, minutes=1), tick=False):
            self.sent_code(self.send())

    def test_rate_limit_message_is_in_the_writers_language(self):
        chinese = Client()
        for _n in range(mailbox_public.WRITES_PER_HOUR + 1):
            response = self.send(client=chinese)
        self.assertEqual(response.status_code, 429)
        self.assertIn('lang="zh-Hans"', response.content.decode())

    def test_wrong_code_gets_one_generic_answer_then_429(self):
        code = self.sent_code(self.send())
        wrong = actions.new_code()
        answers = []
        for attempt in (wrong, "not a code", "AAAA"):
            response = self.writer.post("/mailbox/reply/", {"code": attempt})
            self.assertEqual(response.status_code, 404)
            answers.append(CSRF_RE.sub("", response.content.decode()))
        self.assertEqual(len(set(answers)), 1)
        self.assertIn("No message was found for this code", answers[0])
        for _n in range(mailbox_public.CODE_TRIES_PER_10_MIN - 3):
            self.writer.post("/mailbox/reply/", {"code": actions.new_code()})
        blocked = self.writer.post("/mailbox/reply/", {"code": code})
        self.assertEqual(blocked.status_code, 429)
        self.assertContains(blocked, "Too many codes", status_code=429)


class StaffTests(MailboxTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.message, self.code = actions.submit(unit=self.c1, body=NEUTRAL)
        self.detail = f"/hotline/mailbox/{self.message.pk}/"

    def test_scope_outside_answers_404(self):
        c2 = self.client_for(self.c2_counsellor)
        self.assertEqual(c2.get(self.detail).status_code, 404)
        self.assertEqual(c2.post(self.detail + "claim").status_code, 404)
        self.assertEqual(c2.post(self.detail + "contact").status_code, 404)
        self.assertNotContains(c2.get("/hotline/mailbox/"), self.message.number)
        # Administrators of the street do not read messages (need-to-know).
        admin = self.client_for(self.street_admin)
        self.assertEqual(admin.get("/hotline/mailbox/").status_code, 404)
        self.assertEqual(admin.get(self.detail).status_code, 404)
        self.assertEqual(self.client_for(self.hotline).get(self.detail).status_code, 404)
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, MessageStatus.QUEUED)

    def test_a_second_claim_is_refused_and_illegal_moves_are_explained(self):
        first = self.client_for(self.c1_counsellor)
        first.post(self.detail + "claim")
        other = self.c1_counsellor.__class__.objects.get(username="c1_social")
        second = self.client_for(other)
        response = second.post(self.detail + "claim")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "正在回复这封来信", status_code=400)
        response = second.post(self.detail + "answer", {"answer": "我来回答"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(MailboxReply.objects.exists())
        first.post(self.detail + "close")
        response = first.post(self.detail + "release")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "不能改为", status_code=400)

    def test_empty_answer_and_category(self):
        staff = self.client_for(self.c1_counsellor)
        self.assertEqual(staff.post(self.detail + "answer", {"answer": " "}).status_code, 400)
        self.assertEqual(
            staff.post(self.detail + "category", {"category": "nope"}).status_code, 400
        )
        staff.post(self.detail + "category", {"category": "negative_emotion"})
        self.message.refresh_from_db()
        self.assertEqual(self.message.category, "negative_emotion")
        staff.post(self.detail + "claim")
        staff.post(self.detail + "release")
        self.message.refresh_from_db()
        self.assertEqual(self.message.status, MessageStatus.QUEUED)
        self.assertIsNone(self.message.assigned_to)

    def test_the_hotline_centre_answers_its_own_messages(self):
        message, _code = actions.submit(unit=self.demo.hotline, body=NEUTRAL, kind="consultation")
        self.assertEqual(
            self.client_for(self.hotline).get(f"/hotline/mailbox/{message.pk}/").status_code, 200
        )
        self.assertEqual(
            self.client_for(self.c1_counsellor).get(f"/hotline/mailbox/{message.pk}/").status_code,
            404,
        )

    def test_body_and_contact_are_encrypted_and_the_code_is_not_stored(self):
        message, code = actions.submit(
            unit=self.c1,
            body="加密测试正文",
            subject="加密测试主题",
            contact=actions.Contact(phone="13900000000"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT body, subject, contact, code_digest FROM hotline_mailboxmessage "
                "WHERE id = %s",
                [message.pk.hex if connection.vendor == "sqlite" else message.pk],
            )
            body, subject, contact, digest = cursor.fetchone()
        for stored in (body, subject, contact):
            self.assertTrue(stored.startswith("v1."))
        self.assertNotIn("加密测试", body + subject)
        self.assertNotIn("13900000000", contact)
        normalised = actions.normalise_code(code)
        self.assertNotIn(normalised, digest)
        self.assertNotEqual(digest, normalised)
        row = MailboxMessage.objects.filter(pk=message.pk).values().get()
        self.assertFalse(any(normalised in str(v) or code in str(v) for v in row.values()))


class SegmentTests(MailboxTestCase):
    def test_signal_spans_cut_the_text_and_are_clamped_and_merged(self):
        text = "ab<c>def"
        signals = [
            {"kind": "suicide", "span": [2, 5], "field": "body"},
            {"kind": "distress", "span": [4, 99], "field": "body"},
            {"kind": "suicide", "span": [0, 1], "field": "subject"},
        ]
        pieces = segments(text, signals)
        self.assertEqual("".join(p["text"] for p in pieces), text)
        self.assertEqual([p["text"] for p in pieces if p["mark"]], ["<c>def"])
        self.assertEqual(segments("abc", []), [{"text": "abc", "mark": ""}])


class DemoTests(MailboxTestCase):
    def test_demo_messages(self):
        from xinqiao.hotline import demo_mailbox

        demo_mailbox.populate(NOW.date())
        messages = MailboxMessage.objects.all()
        self.assertEqual(messages.count(), len(demo_mailbox.MESSAGES))
        self.assertEqual(messages.filter(text_risk=TextRisk.HIGH).count(), 1)
        self.assertEqual(messages.filter(text_risk=TextRisk.MEDIUM).count(), 1)
        self.assertIsNotNone(messages.get(text_risk=TextRisk.HIGH).alert)
        self.assertGreater(messages.filter(status=MessageStatus.ANSWERED).count(), 3)
        self.assertTrue(messages.filter(status=MessageStatus.CLOSED).exists())
        self.assertTrue(messages.filter(status=MessageStatus.IN_PROGRESS).exists())
        self.assertTrue(all(m.created_at <= NOW for m in messages))
        self.assertGreater(len({m.unit_id for m in messages}), 5)
        page = self.client_for(self.hotline).get("/hotline/mailbox/")
        self.assertEqual(page.status_code, 200)


class ConcurrentClaimTests(TransactionTestCase):
    def test_two_claims_at_once_exactly_one_wins(self):
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        from xinqiao.ops.demo import build_demo_city

        demo = build_demo_city()
        message, _code = actions.submit(unit=demo.communities[0], body=NEUTRAL)
        users = [demo.users["c1_counsellor"], demo.users["c1_social"]]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def claim(user):
            try:
                barrier.wait(timeout=10)
                actions.claim(acting_user=user, message=message)
                outcomes.append("won")
            except ValidationError as exc:
                outcomes.append("status" if "status" in exc.message_dict else "other")
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(outcomes), ["status", "won"])
        message.refresh_from_db()
        self.assertEqual(message.status, MessageStatus.IN_PROGRESS)
        self.assertIn(message.assigned_to, users)
