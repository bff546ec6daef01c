"""``xinqiao score CODE --answers 0,1,2,… [--json]`` (DESIGN.md "Stable interfaces").

Exit code 0 with the scoring result; exit code 2 with a message naming the item for bad
input (unknown code, wrong number of answers, a value that is not an option)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinqiao.instruments.engine import AnswerError, score
from xinqiao.instruments.library import get


def parse_answers(text: str) -> list[int | None]:
    answers: list[int | None] = []
    for part in text.split(","):
        part = part.strip()
        if part in ("", "-", "null"):
            answers.append(None)
            continue
        try:
            answers.append(int(part))
        except ValueError:
            raise AnswerError(
                f"item {len(answers) + 1}: {part!r} is not a number", len(answers) + 1
            ) from None
    return answers


class Command(BaseCommand):
    help = "Score answers to an instrument (published option values, in item order)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="instrument code, e.g. phq9")
        parser.add_argument("--answers", required=True, help="comma-separated option values")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--language", default="zh", choices=["zh", "en"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            instrument = get(options["code"])
            result = score(instrument, parse_answers(options["answers"]))
        except AnswerError as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        contract = result.as_contract(options["language"])
        if options["json"]:
            self.stdout.write(json.dumps(contract, ensure_ascii=False))
            return
        severity = contract["severity"]
        self.stdout.write(f"{instrument.zh if options['language'] == 'zh' else instrument.en}")
        self.stdout.write(f"raw {result.raw}, total {result.total}: {severity['label']}")
        if result.critical_items:
            self.stdout.write(f"critical items: {', '.join(map(str, result.critical_items))}")
        if result.flags:
            self.stdout.write(f"flags: {', '.join(result.flags)}")
