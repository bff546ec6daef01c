"""Background jobs of person files: checking and importing uploaded spreadsheets."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from xinqiao.people.importing import run_check, run_import
from xinqiao.people.models import ImportJob, ImportStatus


@db_task()
def check_import(job_id: str) -> None:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ImportStatus.UPLOADED:
        run_check(job)


@db_task()
def perform_import(job_id: str) -> None:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ImportStatus.CHECKED:
        run_import(job)
