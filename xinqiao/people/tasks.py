"""Background jobs of person files: checking and importing uploaded spreadsheets.

Both are jobs in the database outbox (``xinqiao.ops.jobs``), enqueued in the transaction of
the request that asked for them: a worker killed in the middle leaves the job to be taken over
when its lease runs out, and the ImportJob is never left "checking" or "importing" for good.
They manage their own transactions (a check reports its progress as it goes; an import writes
every row in one transaction of its own) and are safe to run again: a resumed check checks
the file again; a resumed import after a committed one does nothing (``run_import``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.ops.jobs import enqueue, handler
from xinqiao.ops.models import Job
from xinqiao.people.importing import discard_upload, run_check, run_import
from xinqiao.people.models import ImportJob, ImportStatus

CHECK_JOB = "people.check_import"
IMPORT_JOB = "people.perform_import"
FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)


def enqueue_check(import_job: ImportJob) -> Job:
    """Check the uploaded file, in the caller's transaction."""
    return enqueue(CHECK_JOB, {"job": str(import_job.pk)}, key=f"{CHECK_JOB}:{import_job.pk}")


def enqueue_import(import_job: ImportJob) -> Job:
    """Import the checked file, in the caller's transaction. One job of each kind per import
    (not one key for both: "start" may come in the moment the check has committed but its
    job is not yet marked done)."""
    return enqueue(IMPORT_JOB, {"job": str(import_job.pk)}, key=f"{IMPORT_JOB}:{import_job.pk}")


def _gave_up(payload: dict[str, Any], error: str) -> None:
    """The job failed its last attempt (e.g. the sealed file was lost): the import is shown
    as failed instead of running for ever. The error itself is in the job's row only."""
    job = ImportJob.objects.select_for_update().filter(pk=payload["job"]).first()
    if job is None or job.status in FINISHED:
        return
    job.status = ImportStatus.FAILED
    job.message = _("The import stopped because of an internal error. Upload the file again.")
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    transaction.on_commit(lambda: discard_upload(job))


@handler(CHECK_JOB, on_failure=_gave_up, transactional=False)
def check_import(payload: dict[str, Any]) -> None:
    job = ImportJob.objects.select_related("created_by").filter(pk=payload["job"]).first()
    if job is None:
        return
    if job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKING):  # CHECKING: resumed
        run_check(job)
    elif job.status in FINISHED:
        discard_upload(job)  # left over by a run killed after its last commit


@handler(IMPORT_JOB, on_failure=_gave_up, transactional=False)
def perform_import(payload: dict[str, Any]) -> None:
    job = ImportJob.objects.select_related("created_by").filter(pk=payload["job"]).first()
    if job is None:
        return
    if job.status in (ImportStatus.CHECKED, ImportStatus.IMPORTING):  # IMPORTING: resumed
        run_import(job)
    elif job.status in FINISHED:
        discard_upload(job)
