"""The aggregate tables behind every dashboard (issue #9 item 5: incremental aggregate tables,
never a full scan per page view).

A ``Tally`` row is one count (and one summed amount, e.g. minutes) of one measure, for one
unit, one local day and one key (the dimension values, joined by "|"). ``own`` rows are what
the unit's own records give; tree rows (``own=False``) are the unit and everything below it,
which is what a dashboard reads. Measures that describe the present (people under service now,
plans overdue now, team sizes) are on the day ``SNAPSHOT_DAY``.

``TallyDirty`` marks an (owning unit, source, day) whose raw records changed since it was last
counted; ``xinqiao.reports.tally.refresh`` recounts those and applies the difference.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

SNAPSHOT_DAY = date(1970, 1, 1)


class Tally(models.Model):
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    own = models.BooleanField()
    measure = models.CharField(max_length=40)
    day = models.DateField()
    key = models.CharField(max_length=120, blank=True, default="")
    count = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("aggregate count")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "own", "measure", "day", "key"], name="tally_one_row_per_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.day} {self.key}: {self.count}"


class TallyDirty(models.Model):
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    day = models.DateField()
    marked_at = models.DateTimeField(auto_now_add=True)

    # No unique constraint on purpose: writers in one community on one day would wait on each
    # other's uncommitted mark; a repeated mark costs nothing (refresh counts each triple once).

    def __str__(self) -> str:
        return f"{self.source} {self.day}"


class TallyRun(models.Model):
    """When the aggregate tables were last brought up to date (shown on the dashboards)."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.at}"


# The work reports (工作报告制度) live in their own module.
from xinqiao.reports.work_models import WorkReport, WorkReportComment  # noqa: E402, F401
