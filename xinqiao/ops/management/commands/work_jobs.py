"""``xinqiao work_jobs``: run only the jobs kept in the database (no Huey), for a machine that
does nothing else, and for tests that start several real workers."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from xinqiao.ops.jobs import work


class Command(BaseCommand):
    help = "Run the jobs kept in the database until stopped (or until none is left)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--until-empty", action="store_true", help="stop when no job is due or running"
        )
        parser.add_argument("--poll", type=float, default=None, help="seconds between looks")
        parser.add_argument(
            "--threads", type=int, default=None, help="worker threads (XINQIAO_JOB_THREADS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        signal.signal(signal.SIGINT, lambda *_args: stop.set())
        kwargs = {
            "stop": stop,
            "poll_seconds": options["poll"],
            "until_empty": options["until_empty"],
        }
        threads = [
            threading.Thread(target=work, kwargs=kwargs, name=f"jobs-{n}")
            for n in range(options["threads"] or settings.XINQIAO_JOB_THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
