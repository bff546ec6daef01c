"""The public portal (issue #8): daily visit counts per unit and page.

A visitor is never identified: the portal knows only which unit's QR code or link brought them
(the unit in the URL), so visits are counted per unit, day and page, without an address,
a cookie id or any other trace of the person.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PortalPage(models.TextChoices):
    HOME = "home", _("Home")
    HELP = "help", _("I need help now")
    LEARN = "learn", _("Lessons and articles")
    ASSESS = "assess", _("Self-assessment")
    BOOK = "book", _("Booking")
    MAILBOX = "mailbox", _("Mailbox")
    ME = "me", _("My page")


class PortalVisit(models.Model):
    """How many pages of one kind a unit's portal served on one day (Beijing time)."""

    scope_path_lookup = "unit__path"

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    page = models.CharField(_("page"), max_length=12, choices=PortalPage.choices)
    count = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("portal visits")
        constraints = [
            models.UniqueConstraint(fields=["unit", "day", "page"], name="portal_visit_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} {self.page} {self.count}"
