"""The daily follow-up job (R-FOLLOW: a daily worker job sends reminders)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.followups.actions import reschedule
from xinqiao.followups.models import FollowUpPlan, ReminderSent
from xinqiao.people.models import FileStatus, Person


def ensure_plans() -> int:
    """Every person under service (active file, living) has a plan; returns how many new."""
    missing = Person.objects.filter(
        status=FileStatus.ACTIVE, is_deceased=False, followup_plan__isnull=True
    ).select_related("unit")
    n = 0
    for person in missing.iterator():
        with transaction.atomic():
            if reschedule(person=person, reason=_("Daily check")) is not None:
                n += 1
    return n


def send_reminders(today: date) -> int:
    """One notification per responsible worker: how many follow-ups are due today and how
    many overdue. No names or personal data in the text; the link opens their list."""
    from xinqiao.notify.actions import notify

    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    users: dict[Any, Any] = {}
    plans = FollowUpPlan.objects.filter(
        person__status=FileStatus.ACTIVE,
        person__is_deceased=False,
        responsible__isnull=False,
        responsible__is_active=True,
        next_due__lte=today,
    ).select_related("responsible")
    for plan in plans:
        users[plan.responsible_id] = plan.responsible
        counts[plan.responsible_id][0 if plan.next_due == today else 1] += 1
    url = reverse("followups:list") + "?mine=1"
    sent = 0
    for user_id, (due, overdue) in counts.items():
        user = users[user_id]
        with translation.override(user.language or "zh-hans"):
            subject = _("Follow-ups: %(due)d due today, %(overdue)d overdue") % {
                "due": due,
                "overdue": overdue,
            }
            body = ngettext(
                "You have %(n)d follow-up due or overdue. Open your list.",
                "You have %(n)d follow-ups due or overdue. Open your list.",
                due + overdue,
            ) % {"n": due + overdue}
        with transaction.atomic():
            _sent, first = ReminderSent.objects.get_or_create(user=user, on=today)
            if not first:
                continue
            notify(recipients=[user], subject=str(subject), body=str(body), url=url)
            sent += 1
    return sent


def daily(today: date | None = None) -> tuple[int, int]:
    """The job's body: (plans created, reminders sent)."""
    today = today or timezone.localdate()
    return ensure_plans(), send_reminders(today)


# 07:05 in Asia/Shanghai: Huey reads crontabs in UTC (23:05 the day before).
@db_periodic_task(crontab(minute="5", hour="23"))  # type: ignore[untyped-decorator]
def followups_daily() -> None:
    daily()
