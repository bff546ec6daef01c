from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.ops.demo import DEFAULT_SEED, build_demo_city
from xinqiao.orgs.models import Unit


class Command(BaseCommand):
    help = "Load the generated demo city (refused in production and on a non-empty database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--people", type=int, default=40, help="person files per community")

    def handle(self, *args: Any, **options: Any) -> None:
        if Unit.objects.exists():
            raise CommandError(
                "the database already has units; demo data goes only into an empty one"
            )
        demo = build_demo_city(seed=options["seed"], people_per_community=options["people"])
        self.stdout.write(
            f"demo city loaded: {Unit.objects.count()} units, {len(demo.users)} staff"
        )
