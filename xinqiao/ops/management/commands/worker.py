from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background worker (periodic jobs; later capabilities add theirs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from xinqiao.ops.tasks import beat

        beat()  # visible at once, not only after the first minute
        extra = {"workers": options["workers"]} if options["workers"] else {}
        call_command("run_huey", **extra)
