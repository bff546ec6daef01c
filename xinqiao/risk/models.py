"""Risk signals: results and reports that the risk part of the system must see (R-RISK).

A signal is stored in the same transaction as the result that raised it, so a committed
result never lacks its signal. Until alerts and escalation land (issue #5), signals are shown
on the person's file and on the workbench; subscribers (``xinqiao.risk.actions.subscribe``)
are called for each signal once it is committed.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignalSource(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment")


class SignalLevel(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")


class RiskSignal(models.Model):
    # A signal follows its person's file (a transfer takes it along); a signal from an
    # anonymous assessment has no file and is seen only in its campaign's aggregates.
    scope_path_lookup = "person__unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_signals",
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=SignalSource.choices)
    level = models.CharField(_("level"), max_length=8, choices=SignalLevel.choices)
    # [{"code": "critical_item", "item": 9}, {"code": "severe_band", "band": "severe", …}]
    reasons = models.JSONField(default=list)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("risk signal")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id"], name="risk_signal_one_per_object"
            )
        ]
        indexes = [models.Index(fields=["dispatched_at"], name="risk_signal_undispatched")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.level}"

    @property
    def critical_items(self) -> list[int]:
        return [r["item"] for r in self.reasons if r.get("code") == "critical_item"]

    @property
    def flags(self) -> list[str]:
        return [f for r in self.reasons if r.get("code") == "flags" for f in r["flags"]]
