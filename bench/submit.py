"""Benchmark: end-to-end self-service PHQ-9 submissions against gunicorn + PostgreSQL.

    .venv/bin/python bench/submit.py [--seconds 30] [--clients 8] [--web-workers 3]

Recreates the database (XINQIAO_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/xinqiao_bench_submit), migrates it, loads the demo city and
opens an anonymous PHQ-9 campaign, then starts gunicorn (production-like: DEBUG off, several
sync workers) on 127.0.0.1 and drives it from several client processes. One submission is the
whole flow of a respondent's phone: the link (consent page), agreeing (a new assessment), ten
answers one screen at a time (item 10 skipped) — each answer a POST, a redirect and the next
question — and the result page: 23 HTTP requests, every one through CSRF, the rate limiter,
the database and the templates, and scored on the server at the end.

In the same run, as the baseline, the same clients hammer ``/healthz`` (one database round
trip, no template) on the same server: the request rate the machine gives at all. Prints
submissions per second, latency per submission and per request (p50, p99), and the
baseline; the client processes share the machine's cores with the server, as a phone's
network would not, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PHQ9 = [1, 0, 1, 2, 0, 1, 0, 1, 0]


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Browser:
    """A phone: one keep-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.latencies: list[float] = []

    def request(self, method: str, path: str, body: dict[str, object] | None = None) -> str:
        headers = {"Accept-Language": "zh-CN", "Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = "http://127.0.0.1/"
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        self.latencies.append(time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
        if response.status in (301, 302):
            return self.request("GET", response.headers["Location"])
        return text


def submit_once(port: int, token: str) -> tuple[float, list[float]]:
    phone = Browser(port)
    started = time.perf_counter()
    page = phone.request("GET", f"/s/{token}/")
    csrf = CSRF.search(page)
    if csrf is None:
        raise RuntimeError("no CSRF token on the consent page")
    form = {"csrfmiddlewaretoken": csrf.group(1)}
    page = phone.request("POST", f"/s/{token}/begin", form | {"respondent": "self", "agree": "on"})
    for number, value in enumerate(PHQ9, start=1):
        page = phone.request(
            "POST", f"/s/{token}/answer", form | {"number": number, "answer": value}
        )
    page = phone.request("POST", f"/s/{token}/answer", form | {"number": 10, "skip": "1"})
    if "12356" not in page:
        raise RuntimeError("the result page was not reached")
    elapsed = time.perf_counter() - started
    phone.conn.close()
    return elapsed, phone.latencies


def client_loop(args: tuple[int, str, float, str]) -> dict[str, list[float]]:
    port, token, seconds, mode = args
    deadline = time.perf_counter() + seconds
    flows: list[float] = []
    requests: list[float] = []
    if mode == "healthz":
        phone = Browser(port)
        while time.perf_counter() < deadline:
            phone.request("GET", "/healthz")
        return {"flows": [], "requests": phone.latencies}
    while time.perf_counter() < deadline:
        elapsed, latencies = submit_once(port, token)
        flows.append(elapsed)
        requests.extend(latencies)
    return {"flows": flows, "requests": requests}


def drive(port: int, token: str, clients: int, seconds: float, mode: str) -> dict[str, float]:
    started = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(client_loop, [(port, token, seconds, mode)] * clients)
    wall = time.perf_counter() - started
    flows = [f for r in results for f in r["flows"]]
    requests = sorted(q for r in results for q in r["requests"])

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else 0.0

    return {
        "submissions": len(flows),
        "submissions_per_s": len(flows) / wall,
        "requests": len(requests),
        "requests_per_s": len(requests) / wall,
        "submission_p50_ms": statistics.median(flows) * 1000 if flows else 0.0,
        "submission_p99_ms": pct(sorted(flows), 0.99),
        "request_p50_ms": pct(requests, 0.50),
        "request_p99_ms": pct(requests, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = os.environ.get(
        "XINQIAO_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xinqiao_bench_submit"
    )
    recreate_database(url)
    data_dir = tempfile.mkdtemp(prefix="xinqiao-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "XINQIAO_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
        "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE": "100000000",
        "XINQIAO_SELF_SERVICE_STARTS_PER_HOUR": "100000000",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    setup = (
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "from datetime import timedelta; from django.utils import timezone;"
        "from xinqiao.ops.demo import build_demo_city;"
        "from xinqiao.assessments.actions import create_campaign;"
        "demo = build_demo_city();"
        "c = create_campaign(acting_user=demo.users['c1_counsellor'], unit=demo.communities[0],"
        " title='bench', instrument='phq9', anonymous=True, expected_count=1000000,"
        " closes_on=timezone.localdate() + timedelta(days=30));"
        "print(c.invitations.get().token)"
    )
    token = (
        subprocess.run(  # noqa: S603
            [python, "-c", setup], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(python).with_name("gunicorn")),
            "xinqiao.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "sync",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request(
                    "GET", "/healthz"
                )
                break
            except OSError:
                time.sleep(0.1)
        drive(args.port, token, args.clients, 3, "flow")  # warm-up
        baseline = drive(args.port, token, args.clients, args.seconds, "healthz")
        flow = drive(args.port, token, args.clients, args.seconds, "flow")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    result = {"baseline_healthz": baseline, "self_service": flow, "clients": args.clients}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"gunicorn {args.web_workers} sync workers + PostgreSQL, {args.clients} client processes")
    print(f"{'':34} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    print(
        f"{'baseline: GET /healthz (requests)':34} {baseline['requests_per_s']:>10.1f} "
        f"{baseline['request_p50_ms']:>9.1f} {baseline['request_p99_ms']:>9.1f}"
    )
    print(
        f"{'self-service PHQ-9 (submissions)':34} {flow['submissions_per_s']:>10.2f} "
        f"{flow['submission_p50_ms']:>9.1f} {flow['submission_p99_ms']:>9.1f}"
    )
    print(
        f"{'  its requests (23 per submission)':34} {flow['requests_per_s']:>10.1f} "
        f"{flow['request_p50_ms']:>9.1f} {flow['request_p99_ms']:>9.1f}"
    )
    print(
        f"requests/s of the flow against the baseline: "
        f"{flow['requests_per_s'] / baseline['requests_per_s']:.2f}"
    )


if __name__ == "__main__":
    main()
