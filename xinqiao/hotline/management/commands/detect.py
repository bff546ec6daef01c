"""``xinqiao detect FILE.csv [--json] [--method NAME]`` (DESIGN.md "Stable interfaces").

Reads ``date,count`` rows (header optional, ISO dates, one row for every day) and prints the
days flagged by the aberration detector (xinqiao.hotline.detect; docs/early-warning.md):
with ``--json`` ``{"alarms": ["YYYY-MM-DD", …], "method": NAME}``. Exit code 2 with a message
naming the line for a file that cannot be read as consecutive daily counts."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinqiao.hotline.detect import DEFAULT_METHOD, METHODS, SeriesError, detect, read_csv


class Command(BaseCommand):
    help = "Flag the days whose count is unexpectedly high (aberration detection)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV of date,count rows, one for every day")
        parser.add_argument("--json", action="store_true", help="print the alarms as JSON")
        parser.add_argument(
            "--method",
            default=DEFAULT_METHOD,
            choices=sorted(METHODS),
            help=f"detection method (default {DEFAULT_METHOD})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        method = options["method"]
        try:
            series = read_csv(options["file"])
            alarms = detect(series, method)
        except SeriesError as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        if options["json"]:
            self.stdout.write(
                json.dumps({"alarms": [a.day.isoformat() for a in alarms], "method": method})
            )
            return
        first, last = series[0][0], series[-1][0]
        self.stdout.write(
            f"{method}: {len(alarms)} alarm(s) in {len(series)} days ({first} to {last})"
        )
        for alarm in alarms:
            self.stdout.write(
                f"{alarm.day}  observed {alarm.observed}  expected {alarm.expected:.1f}  "
                f"score {alarm.score:.2f}"
            )
