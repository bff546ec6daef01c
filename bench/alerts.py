"""Benchmark: from a high-risk self-assessment to the crisis alert, at 50 submissions a second.

    .venv/bin/python bench/alerts.py [--rate 50] [--seconds 20] [--web-workers 3]

Recreates the PostgreSQL database (XINQIAO_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/xinqiao_bench_alerts), loads the demo city, registers one
person per submission to come with a personal PHQ-9 link, and answers questions 1–9 of each
in advance (item 9 "nearly every day": a crisis). Then gunicorn (production-like, several
sync workers) and one `xinqiao work_jobs` process run on 127.0.0.1, with the webhook channel
pointed at a local fake group-chat robot started by this script.

The load: at ``--rate`` a second, a phone sends the last answer of its questionnaire (the
POST that finishes it; the page before it was fetched beforehand, untimed). That request
scores the assessment on the server and, in the same transaction, writes the risk signal,
the level, the crisis alert, its notifications and its delivery jobs. Measured per
submission, from the moment the POST is sent:
  * visible: the alert is committed (readable by the counsellor's workbench) — the alert's
    creation time in the database;
  * handed over: the notification reached the fake robot (its delivery job claimed and run by
    the worker).
Baseline in the same run: the same clients' `GET /healthz` round trip. Goal: p99 under 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
Connection = http.client.HTTPConnection
ANSWERS = [1, 1, 1, 1, 1, 1, 1, 1, 3]  # item 9 = 3: a crisis (risk rule phq9_item9_…)


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Robot(BaseHTTPRequestHandler):
    """The fake group-chat robot: records when each message arrived, by idempotency key."""

    received: dict[str, float] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        key = self.headers.get("Idempotency-Key", "")
        with self.lock:
            self.received.setdefault(key, time.time())
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


SETUP = """
import django, json, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.utils import timezone
from xinqiao.ops.demo import build_demo_city
from xinqiao.people import actions as people
from xinqiao.assessments import actions
demo = build_demo_city()
counsellor = demo.users["c1_counsellor"]
tokens = []
for k in range(int(sys.argv[1])):
    person = people.register_person(
        acting_user=counsellor, unit=demo.communities[0], name=f"压测{k}", id_type="none"
    )
    invitation = actions.invite_person(acting_user=counsellor, person=person, instrument="phq9")
    assessment = actions.begin_self_assessment(
        invitation=invitation, respondent="self", resume_key=f"bench-{k}"
    )
    for number, value in enumerate(ANSWERS, start=1):
        assessment = actions.save_answer(assessment=assessment, number=number, value=value)
    tokens.append(invitation.token)
print(json.dumps(tokens))
"""


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    cookies: dict[str, str],
    body: str = "",
) -> tuple[int, str]:
    headers = {"Host": "127.0.0.1", "Accept-Language": "zh-CN"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        cookies.update({k: m.value for k, m in cookie.items()})
    return response.status, text


def prepare(port: int, token: str) -> tuple[Connection, dict[str, str], str]:
    """The phone opens question 10 (untimed): connection, cookies and CSRF token ready."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cookies: dict[str, str] = {}
    status, page = request(conn, "GET", f"/s/{token}/", cookies)
    match = CSRF.search(page)
    if status != 200 or match is None:
        raise RuntimeError(f"question 10 not shown: HTTP {status}")
    return conn, cookies, match.group(1)


def submit(
    conn: http.client.HTTPConnection, cookies: dict[str, str], csrf: str, token: str
) -> float:
    started = time.time()
    body = urlencode({"csrfmiddlewaretoken": csrf, "number": 10, "skip": "1"})
    status, _page = request(conn, "POST", f"/s/{token}/answer", cookies, body)
    if status != 302:
        raise RuntimeError(f"the last answer was refused: HTTP {status}")
    conn.close()
    return started


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU of each of these processes still running (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return seconds


def process_groups(server: int, worker: int) -> dict[str, set[int]]:
    """The processes whose CPU the run reports: gunicorn's workers, the job worker, the
    PostgreSQL server processes, and this script (clients and fake robot)."""
    groups: dict[str, set[int]] = {"web": set(), "jobs": {worker}, "postgresql": set()}
    groups["bench"] = {os.getpid()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server or int(entry.name) == server:
            groups["web"].add(int(entry.name))
        elif comm.startswith("postgres"):
            groups["postgresql"].add(int(entry.name))
    return groups


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    url = os.environ.get(
        "XINQIAO_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xinqiao_bench_alerts"
    )
    recreate_database(url)
    robot = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=robot.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "XINQIAO_DATA_DIR": tempfile.mkdtemp(prefix="xinqiao-bench-"),
        "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
        "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE": "100000000",
        "XINQIAO_NOTIFY_CHANNELS": "webhook",
        "XINQIAO_WEBHOOK_URL": f"http://127.0.0.1:{robot.server_port}/robot",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    print(f"preparing {count} people with PHQ-9 answered up to question 9 …", flush=True)
    tokens = json.loads(
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", SETUP.replace("ANSWERS", repr(ANSWERS)), str(count)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(  # noqa: S603
        [
            str(bin_dir / "gunicorn"),
            "xinqiao.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.web_workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinqiao.cli", "work_jobs", "--poll", "0.05"], env=env, cwd=ROOT
    )
    try:
        for _ in range(100):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", args.port, timeout=1)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        # Baseline: /healthz round trips from one client, in the same run.
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
        baseline = []
        for _ in range(200):
            started = time.time()
            request(conn, "GET", "/healthz", {})
            baseline.append(time.time() - started)
        conn.close()
        with ThreadPoolExecutor(max_workers=16) as pool:
            prepared = list(pool.map(lambda t: prepare(args.port, t), tokens))
        sent: dict[str, float] = {}
        groups = process_groups(server.pid, worker.pid)
        cpu_before = {pid: s for pids in groups.values() for pid, s in cpu_seconds(pids).items()}
        interval = 1.0 / args.rate
        start = time.time() + 0.5
        with ThreadPoolExecutor(max_workers=64) as pool:
            futures = {}
            for k, (token, (conn, cookies, csrf)) in enumerate(zip(tokens, prepared, strict=True)):
                delay = start + k * interval - time.time()
                if delay > 0:
                    time.sleep(delay)
                futures[token] = pool.submit(submit, conn, cookies, csrf, token)
            for token, future in futures.items():
                sent[token] = future.result()
        wall = time.time() - start
        deadline = time.time() + 60
        while len(Robot.received) < count and time.time() < deadline:
            time.sleep(0.2)
        groups = process_groups(server.pid, worker.pid)  # PostgreSQL backends opened meanwhile
        cpu = {
            name: sum(s - cpu_before.get(pid, 0.0) for pid, s in cpu_seconds(pids).items())
            / count
            * 1000
            for name, pids in groups.items()
        }
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            process.wait(timeout=30)
    visible, handed = measure(env, sent)
    base50, base99 = percentiles(baseline)
    vis50, vis99 = percentiles(visible)
    hand50, hand99 = percentiles(handed)
    result = {
        "submissions": count,
        "rate_achieved": count / wall,
        "baseline_healthz_ms": [base50, base99],
        "visible_ms": [vis50, vis99],
        "handed_to_channel_ms": [hand50, hand99],
        "alerts_handed_over": len(handed),
        "cpu_ms_per_submission": cpu,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{count} high-risk submissions at {count / wall:.1f}/s "
        f"(gunicorn ×{args.web_workers} + one job worker, PostgreSQL)"
    )
    print(f"{'':38} {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'baseline: GET /healthz round trip':38} {base50:>9.1f} {base99:>9.1f}")
    print(f"{'alert visible to the counsellor':38} {vis50:>9.1f} {vis99:>9.1f}")
    print(f"{'alert handed to the channel (robot)':38} {hand50:>9.1f} {hand99:>9.1f}")
    print(
        "CPU per submission (ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())
        + f"; {os.cpu_count()} cores"
    )
    print(
        f"alerts handed over: {len(handed)} of {count}; goal p99 < 1000 ms: "
        f"{'met' if hand99 < 1000 else 'NOT met'}"
    )


def measure(env: dict[str, str], sent: dict[str, float]) -> tuple[list[float], list[float]]:
    """Per submission: alert creation (visible) and first robot message (handed over)."""
    script = """
import django, json
django.setup()
from xinqiao.assessments.models import Invitation
from xinqiao.notify.models import Notification
rows = {}
for invitation in Invitation.objects.select_related("person"):
    alert = invitation.person.alerts.first()
    if alert is None:
        continue
    batches = sorted({str(n.batch) for n in Notification.objects.filter(
        object_type="risk.alert", object_id=str(alert.pk), channel="webhook")})
    rows[invitation.token] = {"created": alert.created_at.timestamp(), "batches": batches}
print(json.dumps(rows))
"""
    rows = json.loads(
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    visible, handed = [], []
    for token, started in sent.items():
        row = rows.get(token)
        if row is None:
            continue
        visible.append(row["created"] - started)
        arrivals = [Robot.received[b] for b in row["batches"] if b in Robot.received]
        if arrivals:
            handed.append(min(arrivals) - started)
    return visible, handed


if __name__ == "__main__":
    main()
