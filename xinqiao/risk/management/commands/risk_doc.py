from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.lib.docfile import StaleDocument, sync
from xinqiao.risk.docs import render_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "risk.md"


class Command(BaseCommand):
    help = "Write docs/risk.md from the rule table and the response matrix (or --check it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="fail if the file differs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            message = sync(DOC, render_markdown(), check=options["check"], command="risk_doc")
        except StaleDocument as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(message)
