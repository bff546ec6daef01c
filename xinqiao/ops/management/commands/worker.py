from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run the background worker: the jobs kept in the database (alerts, notifications, "
        "imports) and the Huey queue (periodic jobs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=None, help="Huey worker threads")
        parser.add_argument(
            "--job-threads",
            type=int,
            default=None,
            help="threads running database jobs (default XINQIAO_JOB_THREADS)",
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="do not schedule periodic jobs (run them on exactly one worker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from xinqiao.ops.jobs import start_threads
        from xinqiao.ops.tasks import beat

        beat()  # visible at once, not only after the first minute
        start_threads(options["job_threads"] or settings.XINQIAO_JOB_THREADS)
        extra: dict[str, Any] = {"workers": options["workers"]} if options["workers"] else {}
        if options["no_periodic"]:
            extra["periodic"] = False
        call_command("run_huey", **extra)
