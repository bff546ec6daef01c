"""Faults (issue #10 item 3): PostgreSQL restarted while the platform is under load. Requests
that meet the database down fail cleanly — a 503 with a plain, translated message and a
Retry-After, never a 500 nor a word of the error — and succeed again once it is back, on the
same gunicorn workers (their persistent connections are found broken and opened again). Phones
that got the 503 send their call-back request again with the same idempotency key: at the end
every request left exactly one call-back, none lost, none twice.

The restart is real (``pg_ctl stop -m fast``, a pause, ``pg_ctl start``) on a PostgreSQL cluster
of the test's own (initdb into a temporary directory, a free port), so the shared server the
rest of the suite uses is never touched. Run on the PostgreSQL suite only, where the server's
binaries are installed; it takes about half a minute."""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, SimpleTestCase

from tests import servers
from xinqiao.hotline.models import CallbackRequest
from xinqiao.orgs.models import Unit

PG_CTL = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
UNAVAILABLE_ZH = "服务暂时不可用"
# Words of a database error that must never reach a client.
LEAKS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", "server closed", "5432")


class DatabaseDownPageTests(SimpleTestCase):
    """The 503 itself, on either database: what a client sees when the database is gone."""

    def _healthz_with_database_down(self, **headers: str):
        client = Client(raise_request_exception=False)
        down = mock.Mock()
        down.cursor.side_effect = OperationalError("connection to server at 127.0.0.1 failed")
        with mock.patch("xinqiao.workbench.views.connection", down):
            return client.get("/healthz", **headers)

    def test_a_request_meeting_the_database_down_gets_a_clean_503(self):
        response = self._healthz_with_database_down(HTTP_ACCEPT_LANGUAGE="zh-CN")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "5")
        self.assertIn("no-store", response["Cache-Control"])
        body = response.content.decode()
        self.assertIn(UNAVAILABLE_ZH, body)
        self.assertIn(settings.XINQIAO_HOTLINE_NUMBER, body)  # the way to help, even now
        for leak in (*LEAKS, "127.0.0.1"):
            self.assertNotIn(leak, body)

    def test_in_english_too(self):
        response = self._healthz_with_database_down(HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 503)
        self.assertIn("briefly unavailable", response.content.decode())

    def test_an_api_client_gets_json(self):
        client = Client(raise_request_exception=False)
        with mock.patch(
            "xinqiao.accounts.api_auth.ApiTokenAuthentication.authenticate",
            side_effect=OperationalError("the database system is shutting down"),
        ):
            response = client.get("/api/v1/people/", HTTP_AUTHORIZATION="Token abc")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertIn("detail", response.json())
        self.assertNotIn("shutting down", response.content.decode())

    def test_any_other_error_is_still_a_500(self):
        client = Client(raise_request_exception=False)
        broken = mock.Mock()
        broken.cursor.side_effect = ZeroDivisionError
        with mock.patch("xinqiao.workbench.views.connection", broken):
            response = client.get("/healthz")
        self.assertEqual(response.status_code, 500)


class Cluster:
    """A PostgreSQL cluster of the test's own, run as the ``postgres`` user when the test runs
    as root (the server refuses root)."""

    def __init__(self) -> None:
        self.bin = PG_CTL[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="xq-pg-"))
        self.data = self.root / "data"
        self.port = servers.free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/xinqiao"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(  # noqa: S603
            [*prefix, *command], check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def create(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.start()
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE xinqiao")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        # "fast": the server ends every session at once (their transactions roll back), as a
        # restart by an operator or a fail-over does.
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no HTTP answer at all
    body: str
    at: float


@dataclass
class Phone:
    """One visitor's browser: cookies, and the call-back requests it has sent (by key)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def send(self, method: str, path: str, body: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {"Accept-Language": "zh-CN", "Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = "http://127.0.0.1/"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            return 0, ""
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, text


def _phone_number(rng: random.Random) -> str:
    return "139" + "".join(str(rng.randrange(10)) for _ in range(8))  # generated, not real


@pytest.mark.enable_socket
class PostgresRestartUnderLoadTests(SimpleTestCase):
    clients = 4

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            raise pytest.skip.Exception("a PostgreSQL restart is tested on the PostgreSQL suite")
        if not PG_CTL or (os.geteuid() == 0 and shutil.which("runuser") is None):
            raise pytest.skip.Exception("the PostgreSQL server binaries are not installed")
        cls.cluster = Cluster()
        cls.addClassCleanup(cls.cluster.remove)
        cls.cluster.create()
        cls.data_dir = tempfile.mkdtemp(prefix="xq-restart-data-")
        cls.addClassCleanup(shutil.rmtree, cls.data_dir, True)
        cls.env = {
            **os.environ,
            "DATABASE_URL": cls.cluster.url,
            "XINQIAO_DATA_DIR": cls.data_dir,
            # Production's persistent connections: the ones a restart breaks under the workers.
            "DB_CONN_MAX_AGE": "60",
            "XINQIAO_JOBS_IMMEDIATE": "0",
            "XINQIAO_CALLBACKS_PER_HOUR": "100000",
            "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
        }
        for command in (["migrate", "--verbosity", "0"], ["demo", "--people", "2"]):
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "xinqiao.cli", *command],
                env=cls.env,
                cwd=servers.REPO,
                check=True,
                capture_output=True,
                timeout=600,
            )

    def setUp(self) -> None:
        with psycopg.connect(self.cluster.url) as conn:
            table = Unit._meta.db_table
            sql = f'SELECT id FROM "{table}" WHERE kind = %s ORDER BY created_at LIMIT 1'  # noqa: S608
            row = conn.execute(sql, ["community"]).fetchone()
        assert row is not None
        self.unit = str(row[0])
        self.port = servers.free_port()
        self.server = servers.start_gunicorn(self.port, self.env, workers=2)
        self.addCleanup(servers.stop, self.server)

    def _visit(self, phone: Phone, rng: random.Random, outcomes: list[Outcome], sent: dict):
        """One step of one visitor: a portal page, or a call-back request (its form, then the
        POST with the form's idempotency key; a 503 leaves the key to be sent again)."""
        home = f"/p/{self.unit}/"
        if rng.random() < 0.7:
            path = rng.choice([home, f"{home}learn/", "/healthz"])
            status, body = phone.send("GET", path)
            outcomes.append(Outcome("read", status, body, time.monotonic()))
            return
        status, body = phone.send("GET", f"{home}help/")
        outcomes.append(Outcome("form", status, body, time.monotonic()))
        if status != 200:
            return
        form = {
            "csrfmiddlewaretoken": CSRF.findall(body)[0],
            "idempotency_key": KEY.findall(body)[0],
            "phone": _phone_number(rng),
            "note": "",
        }
        status, body = phone.send("POST", f"{home}help/", form)
        outcomes.append(Outcome("callback", status, body, time.monotonic()))
        sent[form["idempotency_key"]] = (phone, form, status)

    def _callbacks(self) -> int:
        with psycopg.connect(self.cluster.url) as conn:
            table = CallbackRequest._meta.db_table
            row = conn.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (the model's own)
            return int(row.fetchone()[0])  # type: ignore[index]

    def test_requests_fail_cleanly_while_postgresql_restarts_and_succeed_after(self):
        callbacks_before = self._callbacks()  # the demo city's own
        outcomes: list[Outcome] = []
        sent: dict[str, tuple[Phone, dict[str, str], int]] = {}
        stop = threading.Event()

        def visitor(seed: int) -> None:
            rng = random.Random(seed)
            phone = Phone(self.port)
            while not stop.is_set():
                self._visit(phone, rng, outcomes, sent)

        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(3)
            # One phone has the call-back form open when the database goes down.
            phone = Phone(self.port)
            status, page = phone.send("GET", f"/p/{self.unit}/help/")
            self.assertEqual(status, 200)
            form = {
                "csrfmiddlewaretoken": CSRF.findall(page)[0],
                "idempotency_key": KEY.findall(page)[0],
                "phone": _phone_number(random.Random(99)),
                "note": "",
            }
            down_at = time.monotonic()
            self.cluster.stop()
            status, page = phone.send("POST", f"/p/{self.unit}/help/", form)
            self.assertEqual(status, 503)
            outcomes.append(Outcome("callback", status, page, time.monotonic()))
            sent[form["idempotency_key"]] = (phone, form, status)
            time.sleep(3)  # the database is down: every request meets it
            self.cluster.start()
            up_at = time.monotonic()
            time.sleep(6)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

        statuses = {o.status for o in outcomes}
        self.assertTrue(statuses <= {200, 302, 503}, sorted(statuses))  # no 500, no dropped line
        unavailable = [o for o in outcomes if o.status == 503]
        self.assertTrue(unavailable, "no request met the database down")
        self.assertTrue(all(down_at <= o.at <= up_at + 5 for o in unavailable))
        for outcome in unavailable:
            self.assertIn(UNAVAILABLE_ZH, outcome.body)
            for leak in LEAKS:
                self.assertNotIn(leak, outcome.body)
        # Before the restart and from a few seconds after it, everything succeeded, on both
        # workers (each reconnected on its own).
        before = [o for o in outcomes if o.at < down_at]
        after = [o for o in outcomes if o.at > up_at + 3]
        self.assertGreater(len(before), 20)
        self.assertGreater(len(after), 20)
        self.assertEqual({o.status for o in before + after}, {200, 302})

        # The phones that got a 503 send the same request again, with the same key.
        for phone, form, status in sent.values():
            if status != 302:
                retry_status, _body = phone.send("POST", f"/p/{self.unit}/help/", form)
                self.assertEqual(retry_status, 302)
        # A retry of one that did go through answers as before, and saves nothing more.
        phone, form, _status = next(iter(sent.values()))
        self.assertEqual(phone.send("POST", f"/p/{self.unit}/help/", form)[0], 302)
        # One per request sent: none lost, none twice.
        self.assertEqual(self._callbacks() - callbacks_before, len(sent))
