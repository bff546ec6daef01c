from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from xinqiao.lib.docfile import StaleDocument, sync
from xinqiao.orgs.permissions import render_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"


def rendered() -> str:
    with translation.override("en"):
        return render_markdown()


class Command(BaseCommand):
    help = "Write docs/permissions.md from the role × action table (or --check it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="fail if the file differs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            message = sync(DOC, rendered(), check=options["check"], command="permissions_doc")
        except StaleDocument as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(message)
