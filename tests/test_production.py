"""Production mode (issue #10 item 1): security headers, ``check --deploy``, session fixation,
CSRF, and the ``/metrics`` endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from xinqiao.notify.models import Channel, Notification, NotificationStatus
from xinqiao.ops.demo import build_demo_city
from xinqiao.ops.models import Job, JobStatus, WorkerHeartbeat
from xinqiao.people.models import Person
from xinqiao.risk.models import (
    Alert,
    AlertStatus,
    RiskLevel,
    RiskSignal,
    SignalSource,
)
from xinqiao.test import PASSWORD, build_outside_city, login

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "xinqiao" / "templates"
SAFE_KEY = "pZ4#kQ9wR2@xV7&nM3^bT8!cY1*dG6$hJ0%lF5+sA-eU_iO~Xr7Lq2"  # for the subprocess only
TOKEN = "m" * 40  # a test token, long enough for production's rule


# --- security headers -----------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
def test_every_response_carries_the_security_headers():
    for url in ("/accounts/login/", "/healthz", "/p/", "/no-such-page"):
        response = Client().get(url)
        csp = csp_directives(response["Content-Security-Policy"])
        assert csp["script-src"] == ["'self'"], url  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
        assert csp["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in csp["default-src"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
        assert "camera=()" in response["Permissions-Policy"]
        assert "microphone=()" in response["Permissions-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def template_files() -> list[Path]:
    return sorted(REPO.glob("xinqiao/**/templates/**/*.html"))


def test_no_template_has_inline_script_or_event_handler():
    """The CSP refuses them; this finds one before a browser test (or a user) does."""
    files = template_files()
    assert len(files) > 50  # the glob did find the templates
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL):
            problems += [
                f"{path.relative_to(REPO)}: {m.group(0)[:60]}" for m in pattern.finditer(text)
            ]
    assert problems == []


POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']?post[\"']?[^>]*>(.*?)</form>", re.I | re.S)


def test_every_post_form_carries_the_csrf_token():
    """CSRF on every form (issue #10 item 1); htmx requests send it from base.html."""
    problems, forms = [], 0
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        opened = len(re.findall(r"<form\b[^>]*\bmethod=[\"']?post", text, re.I))
        found = POST_FORM.findall(text)
        forms += len(found)
        if opened != len(found):
            problems.append(f"{path.relative_to(REPO)}: a form that is not closed")
        problems += [f"{path.relative_to(REPO)}" for body in found if "csrf_token" not in body]
    assert forms > 50
    assert problems == []
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in base
    assert POST_FORM.search('<form method="post"><input name="x"></form>') is not None
    assert "csrf_token" not in POST_FORM.findall('<form method="post"><input></form>')[0]


def test_the_template_scan_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script id="d" type="application/json">{}</script>')
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">')
    assert not EVENT_HANDLER.search('<button data-online="1">')
    assert JS_URL.search('<a href="javascript:void(0)">')


# --- check --deploy and production headers, in a process of its own ------------------------


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO", "DATABASE", "DJANGO"))
    }
    env.update(
        {
            "XINQIAO_ENV": "production",
            "XINQIAO_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
            "SECRET_KEY": SAFE_KEY,
            "XINQIAO_DATA_KEY": "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI=",
            "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
            "ALLOWED_HOSTS": "xinqiao.example.org",
            "XINQIAO_PUBLIC_SMS": "http",
            "XINQIAO_SMS_URL": "https://sms.example.org/send",
            "XINQIAO_SMS_TOKEN": "t" * 32,
        }
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION_PROBE = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
# Raises CommandError on any warning that is not silenced (each silenced one has its reason
# next to it in settings.py: security.W021 HSTS preload is the operator's choice, axes.W006).
call_command("check", deploy=True, fail_level="WARNING")
print("silenced", sorted(settings.SILENCED_SYSTEM_CHECKS))
print("cookies", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,
      settings.SESSION_COOKIE_HTTPONLY)
from django.test import Client
client = Client(HTTP_HOST="xinqiao.example.org")
plain = client.get("/healthz")
print("http", plain.status_code, plain["Location"])
secure = client.get("/healthz", secure=True)
for name in ("Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options"):
    print(name, "=", secure[name])
"""


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_python(PRODUCTION_PROBE, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "System check identified no issues" in out
    assert "silenced ['axes.W006', 'security.W021']" in out
    assert "cookies True True True" in out
    assert "http 301 https://xinqiao.example.org/healthz" in out
    assert "Strict-Transport-Security = max-age=31536000; includeSubDomains" in out
    assert "script-src 'self';" in out
    assert "X-Frame-Options = DENY" in out


def test_check_deploy_catches_a_weakened_production(tmp_path):
    """The same probe fails once HSTS is off: the test above can fail."""
    result = run_python(PRODUCTION_PROBE, production_env(tmp_path, SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_production_refuses_a_short_metrics_token(tmp_path):
    env = production_env(tmp_path, XINQIAO_METRICS_TOKEN="short")
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "XINQIAO_METRICS_TOKEN" in result.stderr


# --- sessions and CSRF -------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    return build_demo_city()


def test_signing_in_gives_a_new_session_key(demo):
    """Session fixation (OWASP Session Management Cheat Sheet): a session id planted before
    sign-in must not be the one that is signed in."""
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    response = client.post("/accounts/login/", {"username": "c1_counsellor", "password": PASSWORD})
    assert response.status_code == 302  # signed in, sent on
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key
    assert new_key != planted.session_key
    assert not SessionStore().exists(planted.session_key)  # the planted one is gone
    assert client.get("/").status_code == 200  # and the new one is signed in
    fixed = Client()
    fixed.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert fixed.get("/").status_code == 302  # the planted id leads to the sign-in page

    client.post("/accounts/logout/")
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != new_key
    assert not SessionStore().exists(new_key)


def test_posts_without_a_csrf_token_are_refused(demo):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "c1_counsellor", "password": PASSWORD})
    assert response.status_code == 403
    # With the token from the form the same request signs in: the refusal was the token.
    client.get("/accounts/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/accounts/login/",
        {"username": "c1_counsellor", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    # A signed-in staff form (a new API token) refuses a forged POST too.
    staff = login(Client(enforce_csrf_checks=True), demo.users["c1_counsellor"])
    assert staff.post("/accounts/tokens/", {"name": "forged", "days": 30}).status_code == 403
    assert not demo.users["c1_counsellor"].api_tokens.filter(name="forged").exists()


# --- /metrics -----------------------------------------------------------------------------------


def scrape(client: Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_need_a_token_or_the_audit_permission_over_everything(demo):
    with override_settings(XINQIAO_METRICS_TOKEN=TOKEN):
        anonymous = Client().get("/metrics")
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")
        for header in (f"Bearer {TOKEN}x", "Bearer ", f"Token {TOKEN}", "Basic bWU6bWU="):
            wrong = Client().get("/metrics", headers={"Authorization": header})
            assert wrong.status_code == 401, header
            assert wrong["WWW-Authenticate"].startswith("Bearer")
        scrape(Client(), Authorization=f"Bearer {TOKEN}")
        # Signed in: the auditor (audit permission over the whole city) may; others 404.
        scrape(login(Client(), demo.users["auditor"]))
        for username in ("c1_counsellor", "s1_admin", "hotline1"):
            assert login(Client(), demo.users[username]).get("/metrics").status_code == 404
        # A second city: the first city's auditor no longer sees the whole platform.
        build_outside_city()
        assert login(Client(), demo.users["auditor"]).get("/metrics").status_code == 404
        scrape(Client(), Authorization=f"Bearer {TOKEN}")
    with override_settings(XINQIAO_METRICS_TOKEN=""):  # no token configured: none is accepted
        assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


@pytest.mark.django_db
def test_request_latency_is_counted_per_view_name(demo):
    auditor = login(Client(), demo.users["auditor"])
    before = scrape(auditor)
    client = Client()
    for _n in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/123").status_code == 404
    after = scrape(auditor)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    seconds = "xinqiao_http_request_duration_seconds"
    assert delta(f"{seconds}_count", view="healthz") == 3
    assert delta(f"{seconds}_bucket", view="healthz", le="+Inf") == 3
    assert delta(f"{seconds}_bucket", view="healthz", le="10.0") == 3
    assert delta(f"{seconds}_sum", view="healthz") > 0
    assert delta("xinqiao_http_responses_total", view="healthz", status="2xx") == 3
    assert delta("xinqiao_http_responses_total", view="unresolved", status="4xx") == 1
    # The scrape before this one was counted under its own name; no path is ever a label.
    assert delta(f"{seconds}_count", view="metrics") == 1
    assert not any("no-such-page" in str(labels) for _name, labels in after)


@pytest.mark.django_db
def test_metrics_report_queue_alerts_and_notifications_from_the_database(demo):
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        auditor = login(Client(), demo.users["auditor"])
        Job.objects.all().delete()
        Notification.objects.exclude(channel=Channel.IN_APP).delete()
        WorkerHeartbeat.objects.all().delete()
        for minutes in (1, 7, 3):
            Job.objects.create(kind="t", run_at=now - timedelta(minutes=minutes))
        Job.objects.create(kind="t", run_at=now + timedelta(hours=1))  # not due yet
        for _n in range(2):
            Job.objects.create(kind="t", run_at=now, status=JobStatus.FAILED)
        WorkerHeartbeat.objects.create(name="w1", last_seen=now - timedelta(seconds=42))
        recipient = demo.users["c1_counsellor"]
        for channel, status in (
            (Channel.SMS, NotificationStatus.FAILED),
            (Channel.SMS, NotificationStatus.FAILED),
            (Channel.WEBHOOK, NotificationStatus.FAILED),
            (Channel.EMAIL, NotificationStatus.PENDING),
            (Channel.EMAIL, NotificationStatus.SENT),
        ):
            Notification.objects.create(
                batch=uuid.uuid4(),
                recipient=recipient,
                channel=channel,
                status=status,
                subject="s",
                url="/",
                last_error="gateway down" if status == NotificationStatus.FAILED else "",
                sent_at=now if status == NotificationStatus.SENT else None,
            )
        # Settle any alert of the demo, then open three: raised 2 h, 10 min and 10 min ago.
        Alert.objects.filter(status=AlertStatus.OPEN).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=recipient
        )
        people = [
            Person.objects.create(unit=demo.communities[n], name=f"测试指标{n}", sex="female")
            for n in range(3)
        ]
        for n, person in enumerate(people):
            signal = RiskSignal.objects.create(
                person=person,
                unit=person.unit,
                source=SignalSource.CONCERN_REPORT,
                level=RiskLevel.HIGH,
                object_type="test.metrics",
                object_id=str(n),
            )
            raised = now - (timedelta(hours=2) if n == 0 else timedelta(minutes=10))
            alert = Alert.objects.create(
                person=person,
                unit=person.unit,
                level=RiskLevel.HIGH,
                signal=signal,
                ack_deadline=raised + timedelta(minutes=30),
            )
            Alert.objects.filter(pk=alert.pk).update(created_at=raised)
        open_alerts = Alert.objects.filter(status=AlertStatus.OPEN)
        assert open_alerts.count() == 3
        n_open = 3

        m = scrape(auditor)
        assert value(m, "xinqiao_jobs", status="pending") == 4
        assert value(m, "xinqiao_jobs", status="failed") == 2
        assert value(m, "xinqiao_jobs", status="running") == 0
        assert value(m, "xinqiao_job_queue_depth") == 3
        assert value(m, "xinqiao_job_queue_oldest_seconds") == 7 * 60
        assert value(m, "xinqiao_alerts_open") == n_open
        assert value(m, "xinqiao_alerts_open_overdue") == 1
        assert value(m, "xinqiao_alert_oldest_unacknowledged_seconds") == 2 * 3600
        assert value(m, "xinqiao_notifications_failed", channel="sms") == 2
        assert value(m, "xinqiao_notifications_failed", channel="webhook") == 1
        assert value(m, "xinqiao_notifications_failed", channel="email") == 0
        assert value(m, "xinqiao_notifications_pending", channel="email") == 1
        assert value(m, "xinqiao_worker_heartbeat_age_seconds", worker="w1") == 42

        # Acknowledged alerts and finished jobs leave the figures.
        open_alerts.update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=recipient
        )
        Job.objects.filter(status=JobStatus.PENDING).update(status=JobStatus.DONE, finished_at=now)
        m = scrape(auditor)
        assert value(m, "xinqiao_alerts_open") == 0
        assert value(m, "xinqiao_alert_oldest_unacknowledged_seconds") == 0
        assert value(m, "xinqiao_job_queue_depth") == 0
        assert value(m, "xinqiao_jobs", status="done") == 4


MULTIPROCESS_REQUESTS = """
import django
django.setup()
from django.test import Client
for _n in range(2):
    assert Client(HTTP_HOST="localhost").get("/healthz").status_code == 200
"""

MULTIPROCESS_SCRAPE = """
import django
django.setup()
from django.test import Client
for _n in range(3):
    assert Client(HTTP_HOST="localhost").get("/healthz").status_code == 200
from prometheus_client.exposition import generate_latest
from xinqiao.ops import metrics
metrics.DatabaseCollector.collect = lambda self: iter(())  # this process has no tables
print(generate_latest(metrics._registry()).decode())
"""


def test_several_processes_add_up_under_gunicorn(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (docs/deployment.md "Monitoring") a scrape answered by
    any process reports the requests of all processes of the machine."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO", "DATABASE", "DJANGO"))
    }
    env.update(
        {
            "XINQIAO_DATA_DIR": str(tmp_path / "data"),
            "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
            "PROMETHEUS_MULTIPROC_DIR": str(shared),
        }
    )
    result = run_python(MULTIPROCESS_REQUESTS, env)  # one process serves two requests
    assert result.returncode == 0, result.stderr
    result = run_python(MULTIPROCESS_SCRAPE, env)  # another serves three, then is scraped
    assert result.returncode == 0, result.stderr
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(result.stdout)
        for s in family.samples
    }
    assert value(samples, "xinqiao_http_request_duration_seconds_count", view="healthz") == 5
    assert value(samples, "xinqiao_http_responses_total", view="healthz", status="2xx") == 5
