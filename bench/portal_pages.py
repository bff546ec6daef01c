"""Benchmark: what a phone downloads from the portal, and how long the server takes per page.

    .venv/bin/python bench/portal_pages.py [--rounds 30]

Issue #8 item 6: "fast on a cheap phone … pages under 100 KB before media". Loads the demo city
into a fresh SQLite database under a temporary data directory, then, in this one process with
Django's test client (no network, no browser), fetches each portal page of the first community
``--rounds`` times and reports the page's weight — the HTML plus every stylesheet and script it
links (the portal links one stylesheet and no script) — and the server time per request (p50,
p90). The baseline, measured in the same run and the same way, is ``/healthz`` (one database
round trip, no template): the floor of any request on this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="xq-bench-portal-")
    os.environ.update(
        {
            "XINQIAO_DATA_DIR": data,
            "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
            "XINQIAO_SELF_SERVICE_RATE_PER_MINUTE": "1000000",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from xinqiao.ops.demo import build_demo_city

    call_command("migrate", verbosity=0)
    demo = build_demo_city(people_per_community=20)
    unit = demo.communities[0]
    from xinqiao.content.public import published_for

    lesson = published_for(unit).first()
    base = f"/p/{unit.pk}/"
    pages = {
        "home": base,
        "I need help now": base + "help/",
        "lessons": base + "learn/",
        "an article": f"{base}learn/{lesson.pk}/" if lesson else base + "learn/",
        "self-assessments": base + "assess/",
        "PHQ-9 consent": base + "assess/phq9/",
        "booking (free slots)": base + "book/",
        "my page (sign-in)": base + "me/",
        "mailbox (write)": f"/mailbox/{unit.pk}/",
    }
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", HTTP_HOST="127.0.0.1")

    def timed(url: str) -> tuple[list[float], bytes]:
        times, body = [], b""
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            body = response.content
        return times, body

    def asset_bytes(html: bytes) -> int:
        total = 0
        for href in set(ASSET.findall(html.decode())):
            response = client.get(href)
            total += (
                len(b"".join(response.streaming_content))
                if response.streaming
                else len(response.content)
            )
        return total

    base_times, _ = timed("/healthz")
    print(f"baseline /healthz: p50 {statistics.median(base_times):.1f} ms")
    print("| page | HTML KB | + CSS/JS KB | total KB | server p50 ms | p90 ms | p50 / baseline |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    base50 = statistics.median(base_times)
    for name, url in pages.items():
        times, html = timed(url)
        assets = asset_bytes(html)
        p50 = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(
            f"| {name} | {len(html) / 1024:.1f} | {assets / 1024:.1f} | "
            f"{(len(html) + assets) / 1024:.1f} | {p50:.1f} | {p90:.1f} | {p50 / base50:.1f} |"
        )


if __name__ == "__main__":
    main()
