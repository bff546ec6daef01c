from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

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
        text = rendered()
        if options["check"]:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise CommandError(
                    "docs/permissions.md is out of date: run `xinqiao permissions_doc`"
                )
            self.stdout.write("docs/permissions.md is up to date")
            return
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {DOC}")
