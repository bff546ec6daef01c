"""Periodic jobs run by ``xinqiao worker`` (Huey)."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.ops.models import WorkerHeartbeat


def beat(name: str = "worker") -> WorkerHeartbeat:
    row, _created = WorkerHeartbeat.objects.update_or_create(
        name=f"{name}@{socket.gethostname()}:{os.getpid()}"[:100],
        defaults={"last_seen": timezone.now(), "hostname": socket.gethostname()[:255]},
    )
    # Rows of workers gone for a day are removed so the list shows who is alive.
    WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - timedelta(days=1)).delete()
    return row


@db_periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    beat()


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@db_periodic_task(crontab(minute="27", hour="3"))
def clear_old_login_failures() -> None:
    """Failed-login records older than 30 days are no longer needed for lockout."""
    from axes.models import AccessAttempt, AccessFailureLog

    cutoff = timezone.now() - timedelta(days=30)
    AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()


@db_periodic_task(crontab(minute="37", hour="3"))
def clear_old_idempotency_keys() -> None:
    """Idempotency keys are replayed for 24 hours only (xinqiao.lib.idempotency)."""
    from xinqiao.lib.idempotency import forget_expired

    forget_expired()
