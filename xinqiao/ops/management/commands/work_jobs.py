"""``xinqiao work_jobs``: run only the jobs kept in the database (no Huey), for a machine that
does nothing else, and for tests that start several real workers."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinqiao.ops.jobs import work


class Command(BaseCommand):
    help = "Run the jobs kept in the database until stopped (or until none is left)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--until-empty", action="store_true", help="stop when no job is left")
        parser.add_argument("--poll", type=float, default=None, help="seconds between looks")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        signal.signal(signal.SIGINT, lambda *_args: stop.set())
        work(stop=stop, poll_seconds=options["poll"], until_empty=options["until_empty"])
