"""``xinqiao triage [--json]``: triage the text on stdin (DESIGN.md "Text triage").

``--json`` prints the stable contract ``{"risk": …, "signals": [{"kind": …, "span": [start,
end]}]}`` with spans into the text as read; without it, one line for a person. jieba keeps its
dictionary cache under the data directory (settings.DATA_DIR / "jieba") and stays quiet.
Input that is not UTF-8 text exits with code 2 and a message."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from xinqiao.hotline.triage import triage


class Command(BaseCommand):
    help = "Triage text on stdin for suicide, self-harm, harm-to-others and distress signals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.stderr.write(f"error: stdin: not UTF-8 text (byte {exc.start})")
                sys.exit(2)
        else:
            text = raw
        result = triage(text, cache_dir=str(settings.DATA_DIR / "jieba"))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
            return
        if not result.signals:
            self.stdout.write(f"risk: {result.risk}")
            return
        shown = [
            f"{s.kind} {text[s.span[0] : s.span[1]]!r} at {s.span[0]}-{s.span[1]}"
            f" ({s.temporal}, {s.subject}, {s.level})"
            for s in result.signals[:10]
        ]
        more = f"; and {len(result.signals) - 10} more" if len(result.signals) > 10 else ""
        self.stdout.write(f"risk: {result.risk}: " + "; ".join(shown) + more)
