"""Benchmark (issue #10 item 6): a realistic mix of requests against gunicorn + PostgreSQL, driven
by locust (headless).

    .venv/bin/python bench/load.py [--seconds 30] [--users 16] [--web-workers 4]
        [--database postgres://postgres@127.0.0.1:5432/xq_bench_load]

Recreates the database (only names starting with ``xq_bench``), migrates it, loads the demo city
with person files (``--people`` per community) and opens an anonymous PHQ-9 campaign, starts
gunicorn (production-like: DEBUG off, several sync workers) on 127.0.0.1, signs staff in (once,
before the clock starts: a community worker per simulated user, and a hotline operator), then
runs locust (after a 5-second warm-up) three times against the same server, ``--seconds`` each,
``--users`` concurrent users, no think time (closed loop: each user sends its next request when
its last one is answered):

1. the baseline: ``GET /healthz`` only (one database round trip, no template) — what the
   machine gives at all;
2. the mix, by share of HTTP requests: 70 % portal reads (the public pages /p/<unit>/…: home,
   lessons, an article, help, the questionnaires, booking), 15 % self-assessment submissions (the
   whole PHQ-9 flow a phone goes through, on the portal and on a campaign link in turn: consent,
   agree, nine answers and item 10 skipped — each a POST, a redirect and the next page — and the
   result: 23 requests, each new respondent without cookies),
   10 % staff views (a signed-in community worker: /people/, a person file, /followups/), 5 %
   hotline logging (a signed-in operator opens the call form, POSTs a call and sees its page);
3. the pure submission path: only the self-assessment flow.

Every request is one HTTP request (redirects are followed as separate requests), checked for
its status; a 4xx/5xx or a missing page element counts as an error. Printed: requests per second,
p50/p95/p99 per request type and per request, error rate, each one's share of the requests
sent; and the CPU each request cost — gunicorn's workers and the PostgreSQL backends of the
bench database read from /proc, the locust process (its start-up included) from its rusage —
with the rate the machine's cores would give at that cost if nothing else ran (an estimate,
labelled as such: on a shared machine the measured rate is what the bench got, not what the
platform can do). ``--reuse-database`` keeps a database loaded by an
earlier run (and its data directory with the keys, under the temporary directory).

The rate limits per client address (``xinqiao.lib.ratelimit``) would throttle a load test from
one address; the bench's gunicorn gets ``XINQIAO_SELF_SERVICE_RATE_PER_MINUTE``,
``XINQIAO_SELF_SERVICE_STARTS_PER_HOUR`` and ``XINQIAO_LOGIN_RATE_PER_MINUTE`` raised to
100,000,000 (printed with the results). The locust process shares the machine's cores with
gunicorn and PostgreSQL, as phones on a network would not: the figures are a floor.

locust is a bench-only dependency (dev extras). The locustfile (bench/load_locustfile.py) imports
nothing of the platform, so locust may also live in a separate virtual environment:

    python3 -m venv /tmp/xq-locust && /tmp/xq-locust/bin/pip install locust==2.47.0
    .venv/bin/python bench/load.py --locust /tmp/xq-locust/bin/locust
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from submit import CSRF, Browser, recreate_database  # noqa: E402 -- bench/ is not a package

LOCUSTFILE = BENCH / "load_locustfile.py"
UNLIMITED = "100000000"
CAMPAIGN = "bench: load"
# The per-address limits the bench lifts (xinqiao/settings.py), so one client address can load.
RATE_LIMITS = {
    "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE": UNLIMITED,
    "XINQIAO_SELF_SERVICE_STARTS_PER_HOUR": UNLIMITED,
    "XINQIAO_LOGIN_RATE_PER_MINUTE": UNLIMITED,
}
TYPES = [
    ("portal", "portal reads"),
    ("submit", "self-assessment submissions"),
    ("staff", "staff list and file views"),
    ("hotline", "hotline logging"),
]
LOCUST_SETUP = (
    "python3 -m venv /tmp/xq-locust && /tmp/xq-locust/bin/pip install locust==2.47.0\n"
    "then: .venv/bin/python bench/load.py --locust /tmp/xq-locust/bin/locust"
)


def build_world(people: int, reuse: bool) -> dict[str, Any]:
    """Run inside a child process with the bench's settings: migrate, load the demo city and a
    campaign (unless ``reuse`` and they are there), and return what the locust users need (ids
    and demo user names only, no personal data)."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from xinqiao.accounts.models import User
    from xinqiao.assessments.actions import create_campaign
    from xinqiao.assessments.models import Campaign
    from xinqiao.content.public import published_for
    from xinqiao.ops.demo import DEMO_PASSWORD, build_demo_city
    from xinqiao.orgs.models import Unit, UnitKind
    from xinqiao.people.access import people_in_scope

    call_command("migrate", verbosity=0)
    if not (reuse and Campaign.objects.filter(title=CAMPAIGN).exists()):
        demo = build_demo_city(people_per_community=people)
        create_campaign(
            acting_user=demo.users["c1_counsellor"],
            unit=demo.communities[0],
            title=CAMPAIGN,
            instrument="phq9",
            anonymous=True,
            expected_count=1_000_000,
            closes_on=timezone.localdate() + timedelta(days=30),
        )
    campaign = Campaign.objects.get(title=CAMPAIGN)
    communities = list(Unit.objects.filter(kind=UnitKind.COMMUNITY).order_by("created_at"))
    workers = []
    for user in User.objects.filter(username__regex=r"^c[0-9]+_worker$").order_by("username"):
        persons = people_in_scope(user).order_by("pk").values_list("pk", flat=True)[:30]
        if persons:
            workers.append({"username": user.username, "persons": [str(p) for p in persons]})
    return {
        "password": DEMO_PASSWORD,
        "token": campaign.invitations.get().token,
        "units": [
            {"id": str(unit.pk), "lessons": [str(a.pk) for a in published_for(unit)[:8]]}
            for unit in communities
        ],
        "workers": workers,
        "operators": ["hotline1", "hotline2"],
    }


def sign_in(port: int, username: str, password: str) -> dict[str, str]:
    """Sign in over HTTP as a browser would; the session's cookies."""
    browser = Browser(port)
    page = browser.request("GET", "/accounts/login/")
    csrf = CSRF.search(page)
    if csrf is None:
        raise SystemExit("no CSRF token on the sign-in page")
    browser.request(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": csrf.group(1), "username": username, "password": password},
    )
    browser.conn.close()
    if "sessionid" not in browser.cookies:
        raise SystemExit(f"signing in as {username} failed")
    return {k: v for k, v in browser.cookies.items() if k in ("sessionid", "csrftoken")}


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (ms)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(len(values) * p + 0.5) - 1))]


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    records = raw["records"]
    wall = float(raw["stopped"]) - float(raw["started"])
    groups: dict[str, list[list[Any]]] = {}
    for record in records:
        groups.setdefault(str(record[0]).split(":", 1)[0], []).append(record)
    total = len(records)
    errors = [r for r in records if r[2]]

    def figures(rows: list[list[Any]]) -> dict[str, Any]:
        times = sorted(float(r[1]) for r in rows)
        failed = sum(1 for r in rows if r[2])
        return {
            "requests": len(rows),
            "share": len(rows) / total if total else 0.0,
            "per_s": len(rows) / wall if wall else 0.0,
            "p50_ms": pct(times, 0.50),
            "p95_ms": pct(times, 0.95),
            "p99_ms": pct(times, 0.99),
            "errors": failed,
            "error_rate": failed / len(rows) if rows else 0.0,
        }

    by_name: dict[str, list[list[Any]]] = {}
    for record in records:
        by_name.setdefault(str(record[0]), []).append(record)
    samples: dict[str, int] = {}
    for record in errors:
        message = f"{record[0]}: {record[3]}"
        samples[message] = samples.get(message, 0) + 1
    return {
        "seconds": wall,
        "all": figures(records),
        "types": {key: figures(rows) for key, rows in sorted(groups.items())},
        "names": {key: figures(rows) for key, rows in sorted(by_name.items())},
        "flows": raw.get("flows", 0),
        "error_samples": dict(sorted(samples.items(), key=lambda kv: -kv[1])[:10]),
    }


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(gunicorn: int, database: str) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of gunicorn's workers and of the PostgreSQL backends serving the
    bench database, by process (Linux /proc)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[1]) == gunicorn or int(entry.name) == gunicorn:
            found[int(entry.name)] = ("web", _proc_cpu(int(entry.name)))
        elif command.startswith("postgres:") and f" {database} " in command:
            found[int(entry.name)] = ("db", _proc_cpu(int(entry.name)))
    return found


def cpu_used(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    used = {"web": 0.0, "db": 0.0}
    for pid, (kind, seconds) in after.items():
        used[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    return used


def run_locust(
    locust: str,
    mode: str,
    port: int,
    users: int,
    seconds: float,
    config: Path,
    workdir: Path,
    server: tuple[int, str],
) -> dict[str, Any]:
    out = workdir / f"{mode}.json"
    env = {
        **os.environ,
        "XQ_LOAD_CONFIG": str(config),
        "XQ_LOAD_MODE": mode,
        "XQ_LOAD_OUT": str(out),
    }
    command = [
        locust,
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{int(seconds)}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
        # At the end each user finishes the action it is in (a submission is 23 requests): no
        # flow is cut off half-way, so the mix's shares hold; the clock runs until they finish.
        "--stop-timeout",
        "60",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server_cpu(*server)
    done = subprocess.run(  # noqa: S603
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = cpu_used(server_before, server_cpu(*server))
    if done.returncode != 0 or not out.exists():
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"locust ({mode}) failed with exit code {done.returncode}")
    result = summarise(json.loads(out.read_text()))
    # The client's own CPU (locust's start-up included): cores taken from the server.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["client_cpu_cores"] = cpu / max(result["seconds"], 1e-9)
    # CPU per request of gunicorn's workers and of PostgreSQL (its backends for this database):
    # what a request costs, whatever else the machine was doing meanwhile.
    requests = max(int(result["all"]["requests"]), 1)
    result["web_cpu_ms"] = used["web"] * 1000 / requests
    result["db_cpu_ms"] = used["db"] * 1000 / requests
    result["client_cpu_ms"] = cpu * 1000 / requests
    result["server_cores"] = (used["web"] + used["db"]) / max(result["seconds"], 1e-9)
    return result


def _row(label: str, f: dict[str, Any], share: bool = True) -> str:
    return (
        f"| {label} |"
        + (f" {f['share'] * 100:.1f} % |" if share else "")
        + f" {f['per_s']:.1f} | {f['p50_ms']:.0f} | {f['p95_ms']:.0f} | {f['p99_ms']:.0f} |"
        f" {int(f['errors'])} of {int(f['requests'])} ({f['error_rate'] * 100:.2f} %) |"
    )


def table(result: dict[str, Any], label: str, key: str) -> list[str]:
    """Per request type (``key="types"``) or per request (``"names"``), then the total."""
    lines = [
        f"| {label} | share | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = result[key]
    names = dict(TYPES)
    order = [k for k, _ in TYPES] if key == "types" else []
    for name in order + sorted(set(rows) - set(order)):
        if name in rows:
            lines.append(_row(names.get(name, name) if key == "types" else name, rows[name]))
    lines.append(_row("**all**", result["all"]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of each of the 3 runs")
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--database",
        default="postgres://postgres@127.0.0.1:5432/xq_bench_load",
        help="recreated: the name must start with xq_bench",
    )
    parser.add_argument("--people", type=int, default=40, help="person files per community")
    parser.add_argument(
        "--redis",
        default="",
        help="REDIS_URL for the server's cache and rate limits, as in production (e.g. "
        "redis://127.0.0.1:6379/15); default: none, each web process its own memory cache",
    )
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--locust", default="", help="the locust executable (default: beside python)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database if a previous run loaded it (skips the minute of set-up)",
    )
    parser.add_argument("--build-world", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_world:  # the child process of the set-up, with the bench's environment
        print(json.dumps(build_world(args.people, args.reuse_database)))
        return

    name = urlsplit(args.database).path.lstrip("/")
    if not name.startswith("xq_bench"):
        raise SystemExit(
            "--database: the bench drops and recreates it; its name must start with xq_bench"
        )
    locust = args.locust or str(Path(sys.executable).with_name("locust"))
    if not (Path(locust).exists() or shutil.which(locust)):
        raise SystemExit(
            f"locust not found at {locust}. Install the dev extras, or:\n{LOCUST_SETUP}"
        )

    # The data directory (keys among it) belongs with the database: kept for --reuse-database.
    data = Path(tempfile.gettempdir()) / f"{name}-data"
    if not args.reuse_database:
        recreate_database(args.database)
        shutil.rmtree(data, ignore_errors=True)
    workdir = Path(tempfile.mkdtemp(prefix="xq-bench-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "XINQIAO_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": args.redis,
        **RATE_LIMITS,
    }
    load_before = os.getloadavg()
    started = time.perf_counter()
    built = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--build-world", "--people", str(args.people)]
        + (["--reuse-database"] if args.reuse_database else []),
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        sys.stderr.write(built.stderr[-5000:])
        raise SystemExit("setting up the bench database failed")
    world = json.loads(built.stdout.strip().splitlines()[-1])
    setup_seconds = time.perf_counter() - started
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
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
        wait_for(args.port)
        password = world.pop("password")
        workers = world.pop("workers")
        operators = world.pop("operators")
        world["staff"] = [
            {
                "cookies": sign_in(args.port, w["username"], password),
                "persons": w["persons"],
            }
            for w in (workers[i % len(workers)] for i in range(args.users))
        ]
        world["operators"] = [
            sign_in(args.port, operators[i % len(operators)], password)
            for i in range(max(2, args.users // 4))
        ]
        config = workdir / "world.json"
        config.write_text(json.dumps(world))
        config.chmod(0o600)

        def run(mode: str, seconds: float) -> dict[str, Any]:
            return run_locust(
                locust,
                mode,
                args.port,
                args.users,
                seconds,
                config,
                workdir,
                (server.pid, name),
            )

        run("mix", 5)  # warm-up: every worker has imported, compiled and connected
        results = {
            "healthz": run("healthz", args.seconds),
            "mix": run("mix", args.seconds),
            "submit": run("submit", args.seconds),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    meta = {
        "web_workers": args.web_workers,
        "users": args.users,
        "seconds": args.seconds,
        "people_per_community": args.people,
        "setup_seconds": round(setup_seconds, 1),
        "rate_limits_lifted": RATE_LIMITS,
        "cache": "Redis" if args.redis else "each web process's memory",
        "cpus": os.cpu_count(),
        "locust": subprocess.run(  # noqa: S603
            [locust, "--version"], capture_output=True, text=True, check=False
        )
        .stdout.split(" from ")[0]
        .strip(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    if args.json:
        print(json.dumps({"meta": meta, **results}, indent=2))
        return
    report(meta, results)


def report(meta: dict[str, Any], results: dict[str, Any]) -> None:
    print(
        f"gunicorn {meta['web_workers']} sync workers + PostgreSQL, {meta['cpus']} CPUs shared "
        f"with the client ({meta['locust']}, {meta['users']} users, closed loop, no think time), "
        f"{meta['seconds']:.0f} s per run; load average before "
        f"{meta['load_average_before'][0]:.1f}, after {meta['load_average_after'][0]:.1f}; "
        f"cache (portal pages, rate limits): {meta['cache']}"
    )
    print(
        "rate limits lifted for the bench: "
        + ", ".join(f"{k}={v}" for k, v in meta["rate_limits_lifted"].items())
    )
    print()
    runs = (
        ("baseline: GET /healthz", "healthz"),
        ("the mix (70/15/10/5)", "mix"),
        ("submissions only", "submit"),
    )
    print("| run | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, key in runs:
        print(_row(label, results[key]["all"], share=False))
    print()
    cpus = int(meta["cpus"] or 1)
    print(
        "CPU per request (measured: gunicorn workers, PostgreSQL backends of the bench "
        "database, the locust process), cores the run got, and the rate all "
        f"{cpus} cores would give at that cost (an estimate for an otherwise idle machine):"
    )
    print()
    print(
        "| run | web CPU ms | PostgreSQL CPU ms | client CPU ms | server cores used | "
        f"client cores used | req/s at {cpus} cores (estimate) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, key in runs:
        r = results[key]
        cost = r["web_cpu_ms"] + r["db_cpu_ms"] + r["client_cpu_ms"]
        print(
            f"| {label} | {r['web_cpu_ms']:.1f} | {r['db_cpu_ms']:.1f} | "
            f"{r['client_cpu_ms']:.1f} | {r['server_cores']:.2f} | "
            f"{r['client_cpu_cores']:.2f} | {cpus * 1000 / cost if cost else 0:.0f} |"
        )
    print()
    print("\n".join(table(results["mix"], "the mix, per request type", "types")))
    print()
    print("\n".join(table(results["mix"], "the mix, per request", "names")))
    print()
    submit = results["submit"]
    print(
        f"submissions only: {submit['flows']} whole PHQ-9 submissions (23 requests each) in "
        f"{submit['seconds']:.0f} s, {submit['flows'] / submit['seconds']:.2f} per s"
    )
    print("\n".join(table(submit, "submissions only, per request", "names")))
    mix = results["mix"]["all"]
    goal = mix["per_s"] >= 300 and mix["p99_ms"] < 500 and mix["errors"] == 0
    print()
    print(
        "goal (issue #10 item 6: >= 300 req/s for the mix at p99 < 500 ms, no errors): "
        + ("met" if goal else "NOT met")
    )
    for label, result in results.items():
        for message, count in result["error_samples"].items():
            print(f"  error ({label}) x{count}: {message}")


if __name__ == "__main__":
    main()
