"""Jobs kept in the main database (transactional outbox), run by ``xinqiao worker``.

Work that must never be lost — delivering a crisis notification, escalating an alert nobody
acknowledged — is a ``Job`` row written in the same transaction as the change that caused
it: a committed alert always has its jobs, a rolled-back one never does (DESIGN.md
"Where code goes": transactional outbox). Workers claim due jobs with
``SELECT … FOR UPDATE SKIP LOCKED`` and a lease: two workers never take the same job, and a
worker killed in the middle of one (even by SIGKILL) leaves it to be taken again when its
lease runs out. A failing job is retried with exponential back-off, then marked failed; a
kind may register an ``on_failure`` callback that records that final failure on its own rows
(e.g. a notification shown as "not delivered"), in the same transaction.

So a job may run more than once (at least once, never lost): every handler must be
idempotent, and anything it sends outside carries an idempotency key.

A handler runs inside the transaction that marks its job done, unless it is registered with
``transactional=False``: such a handler (a long import that commits progress as it goes)
manages its own transactions, the job is marked done after it returns, and a run killed half
way must be safe to run again from the start. A long step calls ``extend_lease`` first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from xinqiao.ops.models import Job, JobStatus

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}
# Kinds whose handler manages its own transactions (``handler(..., transactional=False)``).
SELF_COMMITTING: set[str] = set()
# Called as ``on_failure(payload, error)`` when a job of the kind has failed its last attempt.
FailureHook = Callable[[dict[str, Any], str], None]
FAILURE_HOOKS: dict[str, FailureHook] = {}

# Retry back-off: 2, 4, 8 … seconds after each failed attempt, at most ten minutes.
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 600


class LeaseLost(Exception):
    """The job was taken over by another worker while this one ran it."""


# The job this thread is running and the worker it runs it as (for ``extend_lease``).
_running = threading.local()


def handler(
    kind: str, *, on_failure: FailureHook | None = None, transactional: bool = True
) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind`` (called with the job's payload).

    ``on_failure(payload, error)``, if given, runs once when a job of this kind has failed its
    last attempt, in the transaction that marks the job failed (``error`` is the job's
    ``last_error``). A hook that raises is logged and its writes are rolled back; the job is
    marked failed all the same.

    ``transactional=False``: the handler is called outside any transaction and commits its own
    writes; the job is marked done once it returns. Run again after a crash at any point, it
    must end in the same state as one run that went through (idempotent)."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        if on_failure is not None:
            FAILURE_HOOKS[kind] = on_failure
        else:
            FAILURE_HOOKS.pop(kind, None)
        if transactional:
            SELF_COMMITTING.discard(kind)
        else:
            SELF_COMMITTING.add(kind)
        return function

    return register


def extend_lease(seconds: int | None = None) -> None:
    """Keep the running job this worker's for ``seconds`` more (default
    ``XINQIAO_JOB_LEASE_SECONDS``), before a long step of a handler; does nothing outside a
    worker (a handler called directly). Raises ``LeaseLost`` if another worker has taken the
    job over: the handler stops, and that worker's run counts.

    Outside a transaction the new lease is committed at once. Inside one (a long insert) the
    update also keeps the job's row locked until that transaction ends, and claims skip locked
    rows: no other worker takes the job over while the transaction lives, however long it
    takes; if the worker dies, its transaction ends with it and the lease committed before runs
    out as usual."""
    current = getattr(_running, "job", None)
    if current is None:
        return
    job_id, worker = current
    until = timezone.now() + timedelta(seconds=seconds or settings.XINQIAO_JOB_LEASE_SECONDS)
    if not Job.objects.filter(pk=job_id, locked_by=worker, status=JobStatus.RUNNING).update(
        locked_until=until
    ):
        raise LeaseLost(job_id)


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    """Add a job in the current transaction. With ``key``, a job of that key that has not
    finished yet is reused instead of adding a second one (e.g. one escalation per alert)."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    run_at = run_at or timezone.now()
    if key is not None:
        existing = Job.objects.filter(key=key).first()
        if existing is not None:
            if existing.status == JobStatus.PENDING and run_at < existing.run_at:
                existing.run_at = run_at
                existing.save(update_fields=["run_at"])
            if existing.status in (JobStatus.PENDING, JobStatus.RUNNING):
                return existing
            existing.delete()  # finished: the key may be used again
    return Job.objects.create(
        kind=kind, payload=payload, run_at=run_at, key=key, max_attempts=max_attempts
    )


def enqueue_many(
    kind: str,
    jobs: list[tuple[dict[str, Any], str]],
    *,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> list[Job]:
    """Add several new jobs of one kind at once (one INSERT), in the current transaction.
    Each is ``(payload, key)``; the keys must be new (e.g. made from a new row's id)."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    when = run_at or timezone.now()
    return Job.objects.bulk_create(
        [
            Job(kind=kind, payload=payload, key=key, run_at=when, max_attempts=max_attempts)
            for payload, key in jobs
        ]
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def claim(*, worker: str, limit: int = 10, lease_seconds: int | None = None) -> list[Job]:
    """Take up to ``limit`` due jobs for ``worker``: pending ones whose time has come, and
    running ones whose worker's lease ran out (it died). Committed before they run."""
    lease = lease_seconds or settings.XINQIAO_JOB_LEASE_SECONDS
    now = timezone.now()
    until = now + timedelta(seconds=lease)
    if connection.vendor == "postgresql":
        return _claim_in_one_statement(worker=worker, limit=limit, now=now, until=until)
    with transaction.atomic():
        jobs = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=JobStatus.PENDING, run_at__lte=now)
                | Q(status=JobStatus.RUNNING, locked_until__lt=now)
            )
            .order_by("run_at", "id")[:limit]
        )
        for job in jobs:
            job.status = JobStatus.RUNNING
            job.locked_by = worker
            job.locked_until = until
            job.attempts += 1
        if jobs:
            Job.objects.filter(pk__in=[job.pk for job in jobs]).update(
                status=JobStatus.RUNNING,
                locked_by=worker,
                locked_until=until,
                attempts=F("attempts") + 1,
            )
    return jobs


def _claim_in_one_statement(
    *, worker: str, limit: int, now: datetime, until: datetime
) -> list[Job]:
    """The same claim on PostgreSQL as one statement that commits itself (a worker polls
    often: one round trip instead of four). The same rows, the same row locks: the inner
    ``SELECT … FOR UPDATE SKIP LOCKED`` passes over jobs another worker is claiming."""
    table = connection.ops.quote_name(Job._meta.db_table)
    sql = f"""
        UPDATE {table}
        SET status = %s, locked_by = %s, locked_until = %s, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM {table}
            WHERE (status = %s AND run_at <= %s) OR (status = %s AND locked_until < %s)
            ORDER BY run_at, id
            LIMIT %s
            FOR UPDATE SKIP LOCKED
        )
        RETURNING *
    """  # noqa: S608 (the table name is the model's own; every value is a parameter)
    params = [
        JobStatus.RUNNING.value,
        worker,
        until,
        JobStatus.PENDING.value,
        now,
        JobStatus.RUNNING.value,
        now,
        limit,
    ]
    return sorted(Job.objects.raw(sql, params), key=lambda job: (job.run_at, job.pk))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS**attempts))


def run(job: Job, *, worker: str) -> bool:
    """Run one claimed job; True if it succeeded. The outcome is written only while the job
    is still this worker's (a lease taken over by another worker is left to that one)."""
    mine = Job.objects.filter(pk=job.pk, locked_by=worker, status=JobStatus.RUNNING)
    function = HANDLERS.get(job.kind)
    _running.job = (job.pk, worker)
    try:
        if function is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        if job.kind in SELF_COMMITTING:
            # The handler commits its own writes; killed before "done", it runs again.
            function(dict(job.payload))
            if not mine.update(status=JobStatus.DONE, finished_at=timezone.now()):
                raise LeaseLost(job.pk)
        else:
            # The handler's writes and "done" commit together: killed before the commit,
            # neither happened and the job runs again; if another worker took the job over
            # meanwhile, this run's writes are rolled back.
            with transaction.atomic():
                function(dict(job.payload))
                if not mine.update(status=JobStatus.DONE, finished_at=timezone.now()):
                    raise LeaseLost(job.pk)
    except LeaseLost:
        log.warning("job %s (%s): lease lost to another worker", job.pk, job.kind)
        return False
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("job %s (%s) failed on attempt %d: %s", job.pk, job.kind, job.attempts, error)
        if job.attempts >= job.max_attempts:
            _fail(job, mine, error)
        else:
            mine.update(
                status=JobStatus.PENDING,
                run_at=timezone.now() + backoff(job.attempts),
                last_error=error,
                locked_by="",
                locked_until=None,
            )
        return False
    finally:
        _running.job = None
    return True


def _fail(job: Job, mine: QuerySet[Job], error: str) -> None:
    """Mark the job failed for good and let its kind record the failure, in one transaction."""
    with transaction.atomic():
        if not mine.update(status=JobStatus.FAILED, last_error=error, finished_at=timezone.now()):
            return  # taken over by another worker meanwhile: its outcome counts
        hook = FAILURE_HOOKS.get(job.kind)
        if hook is None:
            return
        try:
            with transaction.atomic():
                hook(dict(job.payload), error)
        except Exception:
            log.exception("job %s (%s): its failure hook failed", job.pk, job.kind)


def work_once(*, worker: str, limit: int = 10) -> int:
    """Claim and run what is due now; the number of jobs run."""
    jobs = claim(worker=worker, limit=limit)
    for job in jobs:
        # A long job before it (an import) may have outlasted this one's lease: it is due
        # again, for whichever worker claims it next, rather than run here a second time.
        if job.locked_until is not None and job.locked_until < timezone.now():
            continue
        run(job, worker=worker)
    return len(jobs)


def work(
    *,
    stop: threading.Event,
    poll_seconds: float | None = None,
    until_empty: bool = False,
) -> None:
    """The worker loop: run due jobs, sleep a moment when there are none."""
    poll = poll_seconds if poll_seconds is not None else settings.XINQIAO_JOB_POLL_SECONDS
    name = worker_name()
    while not stop.is_set():
        try:
            done = work_once(worker=name)
        except Exception:  # a database hiccup must not end the loop
            log.exception("job worker %s: claiming failed", name)
            done = 0
        if done:
            continue
        # Idle (or after a failure): drop a broken or expired connection before the next
        # round — not between busy rounds, where its health check would cost a query each.
        close_old_connections()
        # "Until empty": nothing due and nothing running (a job of a dead worker is taken
        # over when its lease runs out); jobs due later (the next escalation) do not count.
        if (
            until_empty
            and not Job.objects.filter(
                Q(status=JobStatus.PENDING, run_at__lte=timezone.now())
                | Q(status=JobStatus.RUNNING)
            ).exists()
        ):
            return
        stop.wait(poll)


def start_threads(count: int) -> tuple[threading.Event, list[threading.Thread]]:
    """Worker threads inside ``xinqiao worker`` (daemons: they end with the process)."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=work, kwargs={"stop": stop}, name=f"jobs-{n}", daemon=True)
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    return stop, threads


def wait_until_done(*, timeout: float = 10.0) -> None:
    """For tests and commands: run due jobs in this thread until none is pending."""
    deadline = time.monotonic() + timeout
    name = worker_name()
    while time.monotonic() < deadline:
        if (
            not work_once(worker=name)
            and not Job.objects.filter(
                status=JobStatus.PENDING, run_at__lte=timezone.now()
            ).exists()
        ):
            return
    raise TimeoutError("jobs still pending")


@handler("ops.probe")
def probe(payload: dict[str, Any]) -> None:
    """Proof that a worker runs jobs: writes one row (``xinqiao check_workers``, tests).
    ``sleep`` holds the job for a while, as a slow delivery would."""
    from xinqiao.ops.models import JobProbe

    time.sleep(float(payload.get("sleep", 0)))
    JobProbe.objects.create(token=str(payload["token"]), worker=worker_name())
