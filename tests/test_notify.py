"""Notifications (issue #5 item 4 and its faults): in the app at once, with an unread badge
and an inbox of one's own only; copies through email (SMTP), an SMS gateway and a group-chat
robot, each against a local fake server; written in the caller's transaction (nothing sent
after a rollback), retried with back-off while a channel is down and then shown as not
delivered; and, on PostgreSQL with real worker processes, a worker killed while the gateway
holds its answer loses nothing and delivers nothing twice at the receiving end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client, TransactionTestCase, override_settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.notify_fakes import Behaviour, Mailbox, start_http, start_smtp, stop
from tests.test_browser import browser, serious_accessibility_problems, sign_in
from xinqiao.accounts.models import User
from xinqiao.notify import actions
from xinqiao.notify.actions import notify
from xinqiao.notify.channels import signed_webhook_url
from xinqiao.notify.models import Channel, Notification, NotificationStatus, NotifyPreference
from xinqiao.ops import jobs
from xinqiao.ops.demo import build_demo_city
from xinqiao.ops.models import Job, JobStatus
from xinqiao.test import PersonaTestCase

__all__ = ["browser"]  # test_browser's Chromium fixture, used by the browser test below
REPO = Path(__file__).resolve().parent.parent
MOBILE = "17000001234"  # the 170 0000 block: nobody's number
SUBJECT = "一级危机预警：请在15分钟内确认"
BODY = "东湖社区有一条新的危机预警。"


def alert_path() -> str:
    return "/risk/alerts/8c1b1c52-0c5e-4a53-9a53-6c3f5b0e2f10/"


class NotifyTestCase(PersonaTestCase):
    def tell(self, *users, subject=SUBJECT, body=BODY, obj=None):
        return notify(recipients=list(users), subject=subject, body=body, url=alert_path(), obj=obj)

    def in_app(self, user):
        return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


class InAppTests(NotifyTestCase):
    def test_by_default_each_recipient_gets_one_in_app_notification_and_no_job(self):
        retired = User.objects.create_user(username="retired", name="退休", is_active=False)
        rows = self.tell(
            self.c1_counsellor, self.c2_counsellor, self.c1_counsellor, retired, obj=self.c1
        )
        self.assertEqual([r.recipient for r in rows], [self.c1_counsellor, self.c2_counsellor])
        for row in rows:
            self.assertEqual((row.channel, row.status), (Channel.IN_APP, NotificationStatus.SENT))
            self.assertEqual((row.object_type, row.object_id), ("orgs.unit", str(self.c1.pk)))
            self.assertEqual(row.url, alert_path())
            self.assertTrue(row.is_unread)
        self.assertEqual(rows[0].batch, rows[1].batch)
        self.assertFalse(Job.objects.exists())
        about = Notification.objects.filter(object_type="orgs.unit", object_id=str(self.c1.pk))
        self.assertEqual(about.count(), 2)

    def test_a_link_outside_the_site_and_an_empty_subject_are_refused(self):
        for url in ("https://evil.example/", "//evil.example/", "risk/alerts/", "/\\evil"):
            with self.subTest(url=url), pytest.raises(ValueError, match="path within the site"):
                notify(recipients=[self.c1_counsellor], subject="s", body="", url=url)
        with pytest.raises(ValueError, match="subject"):
            notify(recipients=[self.c1_counsellor], subject=" \n ", body="", url="/")
        self.assertFalse(Notification.objects.exists())

    def test_the_subject_is_one_line(self):
        [row] = self.tell(self.c1_counsellor, subject="危机预警\r\nBcc: x@example.org")
        self.assertEqual(row.subject, "危机预警 Bcc: x@example.org")

    def test_status_changes_follow_the_transition_table(self):
        [row] = self.tell(self.c1_counsellor)
        with pytest.raises(ValueError, match="not allowed"):
            row.set_status(NotificationStatus.PENDING)
        actions.mark_read(user=self.c1_counsellor, notification=row)
        row.refresh_from_db()
        self.assertEqual(row.status, NotificationStatus.READ)
        self.assertIsNotNone(row.read_at)
        with pytest.raises(ValueError, match="not allowed"):
            row.set_status(NotificationStatus.SENT)

    def test_the_badge_counts_ones_own_unread_and_polls_every_15_seconds(self):
        self.tell(self.c1_counsellor)
        self.tell(self.c1_counsellor, self.c2_counsellor)
        c1 = self.client_for(self.c1_counsellor)
        badge = c1.get("/notify/badge/").content.decode()
        self.assertIn('hx-trigger="every 15s"', badge)
        self.assertIn('hx-get="/notify/badge/"', badge)
        self.assertIn(">2<", badge)
        home = c1.get("/")
        self.assertContains(home, 'id="notify-badge"')
        self.assertEqual(home.context["notify_unread"](), 2)
        tools = home.content.decode().split('<div class="tools">')[1]
        self.assertLess(tools.index("notify-badge"), tools.index("/accounts/me/"))
        self.assertIn(
            ">1<", self.client_for(self.c2_counsellor).get("/notify/badge/").content.decode()
        )
        quiet = self.client_for(self.c1_grid).get("/notify/badge/").content.decode()
        self.assertNotIn('class="badge"', quiet)

    def test_visitors_are_sent_to_sign_in_and_an_ended_sessions_poll_reloads_the_page(self):
        visitor = Client()
        response = visitor.get("/notify/badge/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/"))
        polled = visitor.get("/notify/badge/", headers={"HX-Request": "true"})
        self.assertEqual((polled.status_code, polled["HX-Refresh"]), (204, "true"))
        self.assertNotContains(visitor.get("/accounts/login/"), "notify-badge")

    def test_the_badges_poll_does_not_keep_an_idle_session_alive(self):
        client = self.client_for(self.c1_counsellor)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            client.get("/notify/")
        key = client.session.session_key

        def expiry():
            return Session.objects.get(session_key=key).expire_date

        first = expiry()
        with time_machine.travel(start + timedelta(minutes=10), tick=False):
            self.assertEqual(client.get("/notify/badge/").status_code, 200)
        self.assertEqual(expiry(), first)  # a poll is not activity
        with time_machine.travel(start + timedelta(minutes=11), tick=False):
            client.get("/notify/")
        self.assertEqual(expiry(), first + timedelta(minutes=11))  # a page view is

    def test_the_inbox_lists_ones_own_newest_first_in_pages(self):
        start = timezone.now()
        for n in range(55):
            with time_machine.travel(start + timedelta(minutes=n), tick=False):
                self.tell(self.c1_counsellor, subject=f"通知{n:02d}")
        self.tell(self.c2_counsellor, subject="别人的通知")
        client = self.client_for(self.c1_counsellor)
        with self.assertNumQueries(10):  # the same for 5 or 5,000
            page = client.get("/notify/")
        listed = [n.subject for n in page.context["page"]]
        self.assertEqual(listed[:2], ["通知54", "通知53"])
        self.assertEqual(len(listed), 50)
        self.assertContains(page, f'href="{alert_path()}"')
        self.assertNotContains(page, "别人的通知")
        second = client.get("/notify/", {"page": 2})
        self.assertEqual([n.subject for n in second.context["page"]][-1], "通知00")
        self.assertNotContains(self.client_for(self.c2_counsellor).get("/notify/"), "通知54")

    def test_mark_read_is_for_ones_own_notification_only(self):
        [mine] = self.tell(self.c1_counsellor)
        [theirs] = self.tell(self.c2_counsellor)
        c1 = self.client_for(self.c1_counsellor)
        self.assertEqual(c1.post("/notify/read/", {"notification": theirs.pk}).status_code, 404)
        self.assertEqual(c1.post("/notify/read/", {"notification": "not-an-id"}).status_code, 404)
        self.assertEqual(c1.post("/notify/read/", {}).status_code, 404)
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, NotificationStatus.SENT)
        self.assertEqual(c1.get("/notify/read/").status_code, 405)
        response = c1.post("/notify/read/", {"notification": mine.pk, "next": "/notify/?page=1"})
        self.assertRedirects(response, "/notify/?page=1", fetch_redirect_response=False)
        mine.refresh_from_db()
        self.assertEqual(mine.status, NotificationStatus.READ)
        # A foreign "next" is not followed.
        [again] = self.tell(self.c1_counsellor)
        away = c1.post("/notify/read/", {"notification": again.pk, "next": "https://evil.example/"})
        self.assertEqual(away["Location"], "/notify/")

    def test_mark_read_through_htmx_answers_the_row_and_the_badge(self):
        [mine] = self.tell(self.c1_counsellor)
        response = self.client_for(self.c1_counsellor).post(
            "/notify/read/", {"notification": mine.pk}, headers={"HX-Request": "true"}
        )
        self.assertContains(response, f'<tr id="notification-{mine.pk}">')
        self.assertNotContains(response, "<form")
        self.assertContains(response, 'id="notify-badge"')  # the badge, out of band
        self.assertContains(response, 'hx-swap-oob="true"')
        self.assertNotContains(response, 'class="badge"')  # nothing unread any more

    def test_mark_all_read_touches_only_ones_own(self):
        self.tell(self.c1_counsellor, self.c2_counsellor)
        self.tell(self.c1_counsellor)
        response = self.client_for(self.c1_counsellor).post("/notify/read-all/")
        self.assertRedirects(response, "/notify/", fetch_redirect_response=False)
        self.assertFalse(self.in_app(self.c1_counsellor).filter(status="sent").exists())
        self.assertEqual(self.in_app(self.c2_counsellor).get().status, NotificationStatus.SENT)


class PreferenceTests(NotifyTestCase):
    def test_without_external_channels_the_page_says_so(self):
        page = self.client_for(self.c1_counsellor).get("/notify/settings/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'name="mobile"')

    @override_settings(XINQIAO_NOTIFY_CHANNELS=["sms", "webhook"])
    def test_a_user_sets_their_own_mobile_number_kept_encrypted(self):
        client = self.client_for(self.c1_counsellor)
        page = client.get("/notify/settings/")
        self.assertContains(page, 'name="mobile"')
        self.assertContains(page, 'name="by_webhook"')
        self.assertNotContains(page, 'name="by_email"')
        bad = client.post("/notify/settings/", {"mobile": "12345", "by_sms": "on"})
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, 'class="error"')
        missing = client.post("/notify/settings/", {"mobile": "", "by_sms": "on"})
        self.assertContains(missing, 'class="error"')
        self.assertFalse(NotifyPreference.objects.exists())
        saved = client.post("/notify/settings/", {"mobile": "+86 170-0000-1234", "by_sms": "on"})
        self.assertRedirects(saved, "/notify/settings/", fetch_redirect_response=False)
        preference = NotifyPreference.objects.get(user=self.c1_counsellor)
        self.assertEqual(preference.mobile, MOBILE)
        self.assertEqual(
            (preference.by_sms, preference.by_webhook, preference.by_email), (True, False, True)
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT mobile FROM notify_notifypreference")
            [(stored,)] = cursor.fetchall()
        self.assertNotIn("0000", stored)
        self.assertFalse(NotifyPreference.objects.filter(user=self.c2_counsellor).exists())


def _channels(*names, server=None, **extra):
    url = server.url if server is not None else "http://127.0.0.1:9"
    values = {
        "XINQIAO_NOTIFY_CHANNELS": list(names),
        "XINQIAO_SMS_URL": f"{url}/sms/send",
        "XINQIAO_SMS_TOKEN": "sms-token-for-tests",
        "XINQIAO_WEBHOOK_URL": f"{url}/cgi-bin/webhook/send?key=robot-key",
        "XINQIAO_WEBHOOK_SECRET": "",
        "XINQIAO_PUBLIC_URL": "https://xinqiao.example.org",
        "XINQIAO_NOTIFY_TIMEOUT": 5,
    }
    return override_settings(**{**values, **extra})


@pytest.mark.enable_socket
class ChannelTests(NotifyTestCase):
    def setUp(self) -> None:
        self.gateway = Behaviour()
        self.server = start_http(self.gateway)
        self.addCleanup(stop, self.server)
        NotifyPreference.objects.create(user=self.c1_counsellor, mobile=MOBILE)

    def external(self, channel):
        return Notification.objects.filter(channel=channel)

    def test_sms_carries_number_text_token_and_the_notifications_id_as_idempotency_key(self):
        with _channels("sms", server=self.server):
            rows = self.tell(self.c1_counsellor, self.c2_counsellor)  # c2 has no number
            [sms] = [r for r in rows if r.channel == Channel.SMS]
            self.assertEqual((sms.recipient, sms.status), (self.c1_counsellor, "pending"))
            job = Job.objects.get(key=f"notify:{sms.pk}")
            self.assertEqual(
                (job.kind, job.payload), ("notify.deliver", {"notification": str(sms.pk)})
            )
            jobs.wait_until_done()
        [request] = self.gateway.requests
        self.assertEqual(request.path, "/sms/send")
        self.assertEqual(request.headers["authorization"], "Bearer sms-token-for-tests")
        self.assertEqual(request.headers["idempotency-key"], str(sms.pk))
        self.assertEqual(request.json["to"], MOBILE)
        text = request.json["text"]
        self.assertTrue(text.startswith(f"[心桥] {SUBJECT}\n"))
        self.assertIn(BODY, text)
        self.assertIn(f"https://xinqiao.example.org{alert_path()}", text)
        sms.refresh_from_db()
        self.assertEqual(sms.status, NotificationStatus.SENT)
        self.assertIsNotNone(sms.sent_at)
        self.assertEqual(self.in_app(self.c1_counsellor).get().status, NotificationStatus.SENT)

    def test_without_a_public_url_messages_carry_the_path(self):
        with _channels("sms", server=self.server, XINQIAO_PUBLIC_URL=""):
            self.tell(self.c1_counsellor)
            jobs.wait_until_done()
        self.assertTrue(self.gateway.requests[0].json["text"].endswith("\n" + alert_path()))

    def test_the_group_chat_gets_one_message_per_batch(self):
        with _channels("webhook", server=self.server):
            rows = self.tell(self.c1_counsellor, self.c2_counsellor)
            hooks = [r for r in rows if r.channel == Channel.WEBHOOK]
            self.assertEqual(len(hooks), 2)
            self.assertEqual(Job.objects.count(), 1)  # one delivery for the batch
            jobs.wait_until_done()
        [request] = self.gateway.requests
        self.assertEqual(request.path, "/cgi-bin/webhook/send?key=robot-key")
        self.assertEqual(request.json["msgtype"], "text")
        self.assertIn(SUBJECT, request.json["text"]["content"])
        self.assertEqual(request.headers["idempotency-key"], str(rows[0].batch))
        self.assertEqual(
            set(self.external(Channel.WEBHOOK).values_list("status", flat=True)), {"sent"}
        )
        self.assertEqual(set(Job.objects.values_list("status", flat=True)), {JobStatus.DONE})

    def test_a_user_may_leave_the_group_chat_out(self):
        NotifyPreference.objects.filter(user=self.c1_counsellor).update(by_webhook=False)
        with _channels("webhook", server=self.server):
            rows = self.tell(self.c1_counsellor, self.c2_counsellor)
        self.assertEqual(
            [(r.recipient, r.channel) for r in rows if r.channel != Channel.IN_APP],
            [(self.c2_counsellor, Channel.WEBHOOK)],
        )

    def test_a_robot_that_answers_200_with_an_error_code_did_not_deliver(self):
        self.gateway.reply = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
        with _channels("webhook", server=self.server, XINQIAO_NOTIFY_MAX_ATTEMPTS=1):
            [_app, hook] = self.tell(self.c1_counsellor)
            jobs.wait_until_done()
        hook.refresh_from_db()
        self.assertEqual(hook.status, NotificationStatus.FAILED)
        self.assertIn("errcode 93000", hook.last_error)

    def test_a_signed_robot_url_carries_timestamp_and_dingtalk_signature(self):
        secret = "SEC-test-secret"
        with _channels("webhook", server=self.server, XINQIAO_WEBHOOK_SECRET=secret):
            self.tell(self.c1_counsellor)
            jobs.wait_until_done()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.gateway.requests[0].path).query)
        self.assertEqual(query["key"], ["robot-key"])
        timestamp = query["timestamp"][0]
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        self.assertEqual(query["sign"], [expected])
        self.assertEqual(
            signed_webhook_url("https://oapi.example/robot/send?access_token=t", "s", now_ms=1),
            "https://oapi.example/robot/send?access_token=t&timestamp=1&sign="
            + urllib.parse.quote_plus(
                base64.b64encode(hmac.new(b"s", b"1\ns", hashlib.sha256).digest()).decode()
            ),
        )

    def test_email_goes_through_smtp_with_a_message_id_from_the_notification(self):
        mailbox = Mailbox()
        smtp = start_smtp(mailbox)
        self.addCleanup(stop, smtp)
        self.c1_counsellor.email = "c1@example.org"
        self.c1_counsellor.save(update_fields=["email"])
        with _channels(
            "email",
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=smtp.port,
            EMAIL_HOST_USER="xinqiao",
            EMAIL_HOST_PASSWORD="mail-password",
            DEFAULT_FROM_EMAIL="心桥 <notify@xinqiao.example.org>",
        ):
            rows = self.tell(self.c1_counsellor, self.c2_counsellor)  # c2 has no address
            [mail] = [r for r in rows if r.channel == Channel.EMAIL]
            jobs.wait_until_done()
        [message] = mailbox.messages
        self.assertEqual(mailbox.envelopes, [("notify@xinqiao.example.org", ["c1@example.org"])])
        self.assertEqual(mailbox.logins, ["xinqiao:mail-password"])
        self.assertEqual(message["Message-ID"], f"<notify.{mail.pk}@xinqiao.example.org>")
        self.assertEqual(message["Subject"].strip(), SUBJECT)  # folded onto a second line
        self.assertEqual(message["To"], "c1@example.org")
        self.assertEqual(message["Auto-Submitted"], "auto-generated")
        text = message.get_content()
        self.assertIn(BODY, text)
        self.assertIn(f"https://xinqiao.example.org{alert_path()}", text)
        mail.refresh_from_db()
        self.assertEqual(mail.status, NotificationStatus.SENT)

    def test_a_refused_address_is_reported_without_the_address(self):
        mailbox = Mailbox(refuse_recipients=True)
        smtp = start_smtp(mailbox)
        self.addCleanup(stop, smtp)
        self.c1_counsellor.email = "c1@example.org"
        self.c1_counsellor.save(update_fields=["email"])
        with (
            _channels(
                "email",
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=smtp.port,
                XINQIAO_NOTIFY_MAX_ATTEMPTS=1,
            ),
            self.assertLogs(level="INFO") as logs,
        ):
            [_app, mail] = self.tell(self.c1_counsellor)
            jobs.wait_until_done()
        mail.refresh_from_db()
        self.assertEqual(mail.status, NotificationStatus.FAILED)
        self.assertEqual(mail.last_error, "DeliveryError: SMTP: recipient refused")
        self.assertNotIn("c1@example.org", "\n".join(logs.output))

    def test_a_channel_that_is_down_is_retried_then_not_delivered_and_in_app_stays(self):
        self.gateway.status = 503
        with (
            _channels("sms", "webhook", server=self.server, XINQIAO_NOTIFY_MAX_ATTEMPTS=3),
            self.assertLogs(level="INFO") as logs,
        ):
            rows = self.tell(self.c1_counsellor)
            # The robot's address is a closed port: the connection is refused.
            with override_settings(XINQIAO_WEBHOOK_URL="http://127.0.0.1:9/robot"):
                start = timezone.now()
                for seconds in (0, 1, 3, 8):  # back-off: 2 s, then 4 s
                    with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
                        jobs.work_once(worker="w1")
        by_channel = {r.channel: r for r in rows}
        for row in rows:
            row.refresh_from_db()
        sms, hook = by_channel[Channel.SMS], by_channel[Channel.WEBHOOK]
        self.assertEqual(len(self.gateway.requests), 3)  # three attempts, none in between
        self.assertEqual(set(self.gateway.keys), {str(sms.pk)})
        self.assertEqual((sms.status, sms.last_error), ("failed", "DeliveryError: HTTP 503"))
        self.assertEqual(hook.status, NotificationStatus.FAILED)
        self.assertTrue(hook.last_error.startswith("DeliveryError: connection failed"))
        self.assertEqual(
            set(Job.objects.values_list("status", "attempts")), {(JobStatus.FAILED, 3)}
        )
        self.assertTrue(by_channel[Channel.IN_APP].is_unread)
        # Logs name notifications by id: never the text or the number.
        output = "\n".join(logs.output)
        self.assertIn(str(sms.pk), output)
        for secret in (SUBJECT, BODY, MOBILE, "robot-key", "sms-token-for-tests"):
            self.assertNotIn(secret, output)

    def test_nothing_is_sent_when_the_callers_transaction_rolls_back(self):
        with _channels("sms", "webhook", server=self.server):
            with self.assertRaises(RuntimeError), transaction.atomic():
                self.tell(self.c1_counsellor, self.c2_counsellor)
                raise RuntimeError("the alert was not saved")
            jobs.wait_until_done()
        self.assertFalse(Notification.objects.exists())
        self.assertFalse(Job.objects.exists())
        self.assertEqual(self.gateway.requests, [])

    def test_a_delivery_run_again_sends_nothing_more(self):
        with _channels("sms", server=self.server):
            [_app, sms] = self.tell(self.c1_counsellor)
            jobs.wait_until_done()
            with transaction.atomic():
                actions.deliver(notification_id=sms.pk)
        self.assertEqual(len(self.gateway.requests), 1)

    def test_a_channel_switched_off_before_delivery_is_not_delivered(self):
        with _channels("sms", server=self.server):
            [_app, sms] = self.tell(self.c1_counsellor)
        with _channels(server=self.server):
            jobs.wait_until_done()
        sms.refresh_from_db()
        self.assertEqual(sms.status, NotificationStatus.FAILED)
        self.assertIn("switched off", sms.last_error)
        self.assertEqual(self.gateway.requests, [])

    def test_a_number_removed_before_delivery_is_not_delivered(self):
        with _channels("sms", server=self.server):
            [_app, sms] = self.tell(self.c1_counsellor)
            NotifyPreference.objects.filter(user=self.c1_counsellor).update(mobile="")
            jobs.wait_until_done()
        sms.refresh_from_db()
        self.assertEqual(sms.status, NotificationStatus.FAILED)
        self.assertEqual(self.gateway.requests, [])


@pytest.mark.browser
@pytest.mark.enable_socket
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_marking_read_updates_the_row_and_the_badge_which_polls(live_server, browser):
    demo = build_demo_city()
    user = demo.users["c1_counsellor"]
    notify(recipients=[user], subject=SUBJECT, body=BODY, url="/notify/")
    notify(recipients=[user], subject="第二条通知", body="", url="/notify/")
    page = browser.new_context(locale="zh-CN").new_page()
    page.clock.install()
    sign_in(page, live_server.url, "c1_counsellor")
    count = page.locator("#notify-badge .badge")
    expect(count).to_have_text(re.compile(r"^2\b"))
    page.locator("#notify-badge").click()
    expect(page).to_have_url(live_server.url + "/notify/")
    assert serious_accessibility_problems(page) == []
    row = page.get_by_role("row").filter(has_text=SUBJECT)
    row.get_by_role("button").click()
    expect(row.get_by_role("button")).to_have_count(0)  # the row swapped, no reload
    expect(count).to_have_text(re.compile(r"^1\b"))  # and the badge with it
    page.clock.run_for(1000)  # htmx settles the swapped badge (and starts its polling)
    # Something new arrives: the badge asks every 15 s and shows it without a reload.
    notify(recipients=[user], subject="第三条通知", body="", url="/notify/")
    page.clock.fast_forward("00:16")
    expect(count).to_have_text(re.compile(r"^2\b"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _settings_in(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **clean,
            "XINQIAO_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
            **env,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_up_refuses_unknown_channels_and_channels_without_their_address(tmp_path):
    unknown = _settings_in({"XINQIAO_NOTIFY_CHANNELS": "email,fax"}, tmp_path)
    assert unknown.returncode != 0
    assert "unknown channel(s) fax" in unknown.stderr
    incomplete = _settings_in(
        {"XINQIAO_NOTIFY_CHANNELS": "sms,webhook", "XINQIAO_WEBHOOK_URL": "file:///etc/passwd"},
        tmp_path,
    )
    assert "the sms channel needs XINQIAO_SMS_URL" in incomplete.stderr
    assert "the webhook channel needs XINQIAO_WEBHOOK_URL" in incomplete.stderr
    assert "XINQIAO_SMS_TOKEN" in incomplete.stderr
    token = tmp_path / "sms_token"
    token.write_text("from-a-file\n")
    ready = _settings_in(
        {
            "XINQIAO_NOTIFY_CHANNELS": "sms",
            "XINQIAO_SMS_URL": "https://sms.example.org/send",
            "XINQIAO_SMS_TOKEN_FILE": str(token),
        },
        tmp_path,
    )
    assert ready.returncode == 0, ready.stderr


def _worker(*args: str, env_extra: dict[str, str]) -> subprocess.Popen[str]:
    """A real worker process on the test database (as in test_jobs)."""
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        **env_extra,
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", "work_jobs", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.enable_socket
class WorkerKilledDuringDeliveryTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("real worker processes are tested on PostgreSQL")
        self.gateway = Behaviour(hold_first=4)
        self.server = start_http(self.gateway)
        self.addCleanup(stop, self.server)

    def test_a_worker_killed_while_the_robot_holds_its_answer_loses_and_repeats_nothing(self):
        url = f"{self.server.url}/robot/send?key=k"
        env = {
            "XINQIAO_NOTIFY_CHANNELS": "webhook",
            "XINQIAO_WEBHOOK_URL": url,
            "XINQIAO_NOTIFY_TIMEOUT": "30",
        }
        duty = User.objects.create_user(username="duty", name="值班")
        with override_settings(XINQIAO_NOTIFY_CHANNELS=["webhook"], XINQIAO_WEBHOOK_URL=url):
            [_app, hook] = notify(recipients=[duty], subject=SUBJECT, body="", url="/notify/")
        first = _worker("--poll", "0.05", env_extra={**env, "XINQIAO_JOB_LEASE_SECONDS": "2"})
        self.assertTrue(self.gateway.arrived.wait(30), "the first worker never posted")
        first.send_signal(signal.SIGKILL)  # while it waits for the robot's answer
        first.communicate(timeout=30)
        hook.refresh_from_db()
        self.assertEqual(hook.status, NotificationStatus.PENDING)  # never committed
        second = _worker(
            "--until-empty", "--poll", "0.1", env_extra={**env, "XINQIAO_JOB_LEASE_SECONDS": "30"}
        )
        output = second.communicate(timeout=60)[0]
        self.assertEqual(second.returncode, 0, output)
        hook.refresh_from_db()
        self.assertEqual(hook.status, NotificationStatus.SENT)
        job = Job.objects.get(key=f"notify:{hook.pk}")
        self.assertEqual((job.status, job.attempts), (JobStatus.DONE, 2))
        self.assertEqual(self.gateway.keys, [str(hook.batch)] * 2)  # the same message again
        self.assertEqual(self.gateway.deliveries, 1)  # delivered once at the receiving end
