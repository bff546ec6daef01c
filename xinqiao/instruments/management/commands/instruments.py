"""``xinqiao instruments [--json]``: the codes of the instruments in the library."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinqiao.instruments.library import library


class Command(BaseCommand):
    help = "List the instruments in the library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the codes as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        instruments = library()
        if options["json"]:
            self.stdout.write(json.dumps(sorted(instruments)))
            return
        for code, instrument in sorted(instruments.items()):
            low, high = instrument.total_range()
            self.stdout.write(
                f"{code:<8} {len(instrument.items):>3} items  total {low}–{high}  {instrument.zh}"
            )
