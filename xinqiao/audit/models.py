"""The access log (who looked at what, from where, and why).

The change log (field-level before/after) is django-auditlog's ``LogEntry``; the models it
covers and the fields it masks are registered in ``xinqiao/audit/apps.py``. Both tables are
append-only: the application has no code path that updates or deletes them, the model refuses
it, and on PostgreSQL a trigger refuses it in the database (migration 0002).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessKind(models.TextChoices):
    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    SEARCH = "search", _("Searched")
    EXPORT = "export", _("Exported")
    BREAK_GLASS = "break_glass", _("Emergency access (break-glass)")
    # A signed-in user refused (404 or 403) on a page or API route (issue #10 item 8).
    REFUSED = "refused", _("Refused")


class AppendOnlyError(RuntimeError):
    pass


class AccessLog(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("access"), max_length=16, choices=AccessKind.choices)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Path of the unit that owns the object, for scoping who may read this entry.
    unit_path = models.CharField(max_length=700, blank=True, db_index=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(_("page address"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("access log entries cannot be deleted")
