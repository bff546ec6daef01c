from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.reports import tally


class Command(BaseCommand):
    help = (
        "Recount the aggregate tables of the dashboards from the records (after a restore or "
        "an import outside the platform); prints the rows written per source."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        written = tally.rebuild()
        for source, rows in written.items():
            self.stdout.write(f"{source}: {rows} rows")
        self.stdout.write(f"rebuilt in {time.perf_counter() - started:.1f} s")
