from __future__ import annotations

from django.db import models
from django.utils import timezone
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


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """A unit of background work kept in the main database (``xinqiao.ops.jobs``)."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    # Jobs with a key are unique while unfinished (enqueue() reuses the pending one).
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    run_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    locked_by = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        indexes = [models.Index(fields=["status", "run_at"], name="job_due")]
        constraints = [
            models.CheckConstraint(
                name="job_running_has_a_lease",
                condition=~models.Q(status="running") | models.Q(locked_until__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class JobProbe(models.Model):
    """One row per probe job run: proof, for operators and tests, that workers run jobs and
    that no job runs twice."""

    id = models.BigAutoField(primary_key=True)
    token = models.CharField(max_length=64, db_index=True)
    worker = models.CharField(max_length=100)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.token} by {self.worker}"


class IdempotentRequest(models.Model):
    """A public submission's idempotency key, remembered for 24 hours with the response to
    replay (``xinqiao.lib.idempotency``). Inserted in the transaction of the submission's own
    writes; the unique constraint makes two identical submissions at once create one record.
    Only the key's HMAC digest is kept, and what the replay needs beyond the status is sealed
    under a key derived from the raw key, which only the client holds."""

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64)
    key_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # 0 while the first request runs (never committed so: the row commits with the response).
    status = models.PositiveSmallIntegerField(default=0)
    sealed = models.BinaryField(default=b"", blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("idempotent request")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key_digest"], name="idempotent_request_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_digest[:12]}"
