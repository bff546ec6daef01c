"""Faults (issue #10 item 3): a web process killed with SIGKILL in the middle of the last
answer of a self-assessment leaves either the whole submission (the completed assessment, its
risk signal and crisis alert) or nothing of it, and the phone's retry with the same
idempotency key then makes exactly one. PostgreSQL only: a real gunicorn on the test database.

(A worker killed in the middle of a job: tests/test_faults_worker.py, test_jobs, test_notify.)"""

from __future__ import annotations

import http.client
import os
import re
import signal
import time
import uuid
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from tests import servers
from tests.people_data import resident_id
from xinqiao.assessments import actions as assessment_actions
from xinqiao.assessments.models import Assessment, AssessmentStatus
from xinqiao.ops.demo import build_demo_city
from xinqiao.ops.models import IdempotentRequest
from xinqiao.people import actions as people_actions
from xinqiao.risk.models import Alert

# PHQ-9 with item 9 answered "several days" (1): any endorsement of the suicide item raises a
# high-level alert (xinqiao/risk/rules.py "suicide_risk_item", CLINICAL.md: item 9 >= 1).
PHQ9_ITEM9_POSITIVE = [1, 0, 1, 2, 0, 1, 0, 1, 1]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


class Phone:
    """One browser: its cookies, a fresh connection per request (a killed worker drops it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, body: dict[str, object] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept-Language": "zh-CN", "Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = "http://127.0.0.1/"
        conn.request(method, path, body=data, headers=headers)
        return conn

    def receive(self, conn: http.client.HTTPConnection) -> tuple[int, str, str]:
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        conn.close()
        return response.status, response.headers.get("Location", ""), text

    def request(self, method: str, path: str, body: dict[str, object] | None = None):
        status, location, text = self.receive(self.send(method, path, body))
        if status in (301, 302) and location:
            return self.request("GET", location)
        assert status < 400, (method, path, status)
        return text


@pytest.mark.enable_socket
class WebProcessKilledTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("a real gunicorn on the test database is tested on PostgreSQL")
        demo = build_demo_city()
        counsellor, unit = demo.users["c1_counsellor"], demo.communities[0]
        person = people_actions.register_person(
            acting_user=counsellor,
            unit=unit,
            name="故障测试",
            id_number=resident_id(date(1980, 5, 17), 7),
        )
        people_actions.give_consent(
            acting_user=counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            guardian_name="",
            method="signed_paper",
            given_on=timezone.localdate(),
        )
        self.person = person
        campaign = assessment_actions.create_campaign(
            acting_user=demo.users["c1_counsellor"],
            unit=demo.communities[0],
            title="faults",
            instrument="phq9",
            closes_on=timezone.localdate() + timedelta(days=3),
            anonymous=False,
            people=[person],
        )
        self.token = campaign.invitations.get(person=person).token
        db = connection.settings_dict
        user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        self.url = f"postgres://{user}@{host}:{port}/{db['NAME']}"
        self.port = servers.free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DB_CONN_MAX_AGE": "0",
            "XINQIAO_JOBS_IMMEDIATE": "0",
            "LOG_LEVEL": "WARNING",
        }
        self.server = servers.start_gunicorn(self.port, env, workers=1)
        self.addCleanup(servers.stop, self.server)

    def _worker_pid(self) -> int:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        self.assertEqual(len(pids), 1, pids)
        return pids[0]

    def _state(self, assessment: Assessment) -> tuple[str, int]:
        assessment.refresh_from_db()
        alerts = Alert.objects.filter(person=self.person).count()
        return assessment.status, alerts

    def test_a_web_process_killed_mid_submission_leaves_all_or_nothing_and_the_retry_one(self):
        phone = Phone(self.port)
        path = f"/s/{self.token}"
        page = phone.request("GET", f"{path}/")
        form = {"csrfmiddlewaretoken": CSRF.findall(page)[0]}
        page = phone.request(
            "POST",
            f"{path}/begin",
            form | {"respondent": "self", "agree": "on", "idempotency_key": str(uuid.uuid4())},
        )
        for number, value in enumerate(PHQ9_ITEM9_POSITIVE, start=1):
            page = phone.request(
                "POST",
                f"{path}/answer",
                form | {"number": number, "answer": value, "idempotency_key": KEY.findall(page)[0]},
            )
        assessment = Assessment.objects.get(person=self.person)
        self.assertNotEqual(assessment.status, AssessmentStatus.COMPLETED)
        self.assertEqual(Alert.objects.filter(person=self.person).count(), 0)
        keys_before = IdempotentRequest.objects.count()
        last = form | {"number": 10, "skip": "1", "idempotency_key": KEY.findall(page)[0]}

        # Hold back alerts from another connection so the submission stops inside its
        # transaction (the assessment scored, its alert being raised), then kill -9 the
        # web worker while it waits.
        with psycopg.connect(self.url, autocommit=False) as blocker:
            blocker.execute(f'LOCK TABLE "{Alert._meta.db_table}" IN EXCLUSIVE MODE')
            conn = phone.send("POST", f"{path}/answer", last)
            deadline = time.monotonic() + 20
            with psycopg.connect(self.url, autocommit=True) as watcher:
                while not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE %s",
                    [f'%"{Alert._meta.db_table}"%'],  # raising the alert (it locks open ones)
                ).fetchone()[0]:  # type: ignore[index]
                    self.assertLess(time.monotonic(), deadline, "the submission never blocked")
                    time.sleep(0.05)
            os.kill(self._worker_pid(), signal.SIGKILL)  # in the middle of the request
            with pytest.raises((http.client.HTTPException, OSError)):
                phone.receive(conn)
            blocker.rollback()
        # Nothing of the submission survived: not completed, no alert, no idempotency row.
        self.assertNotEqual(self._state(assessment)[0], AssessmentStatus.COMPLETED)
        self.assertEqual(self._state(assessment)[1], 0)
        self.assertEqual(IdempotentRequest.objects.count(), keys_before)

        servers.wait_until_up(self.port)  # gunicorn started a new worker
        for _ in range(2):  # the retry, and a retry of the retry: the same key
            status, location, _text = phone.receive(phone.send("POST", f"{path}/answer", last))
            self.assertEqual(status, 302)
            self.assertIn("/done", location)
        self.assertEqual(self._state(assessment), (AssessmentStatus.COMPLETED, 1))
