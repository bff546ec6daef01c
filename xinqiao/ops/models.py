from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """Each background worker stamps this row once a minute, so administrators can see that
    the jobs that keep the platform safe (later: alert escalation) are actually running."""

    name = models.CharField(_("worker"), max_length=100, primary_key=True)
    last_seen = models.DateTimeField(_("last seen"))
    hostname = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
