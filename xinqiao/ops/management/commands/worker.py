from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background worker (periodic jobs; later capabilities add theirs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=None, help="worker threads")
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="do not schedule periodic jobs (run them on exactly one worker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from xinqiao.ops.tasks import beat

        beat()  # visible at once, not only after the first minute
        extra: dict[str, Any] = {"workers": options["workers"]} if options["workers"] else {}
        if options["no_periodic"]:
            extra["periodic"] = False
        call_command("run_huey", **extra)
