"""Jobs kept in the database (issue #5 item 5): the outbox, claiming with row locks and leases,
retries with back-off, and — on PostgreSQL, with real worker processes — no job run twice by
two workers, and nothing lost when a worker is killed with SIGKILL in the middle of a job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from xinqiao.ops import jobs
from xinqiao.ops.models import Job, JobProbe, JobStatus

REPO = Path(__file__).resolve().parent.parent


def probe(sleep: float = 0, **kwargs) -> Job:
    return jobs.enqueue("ops.probe", {"token": uuid.uuid4().hex, "sleep": sleep}, **kwargs)


@jobs.handler("tests.fail")
def _fail(payload):
    raise RuntimeError(payload.get("why", "broken"))


def _record_failure(payload, error):
    JobProbe.objects.create(token=payload["token"], worker=error[:100])
    if payload.get("hook_breaks"):
        raise RuntimeError("the hook itself is broken")


@jobs.handler("tests.fail_with_hook", on_failure=_record_failure)
def _fail_with_hook(payload):
    raise RuntimeError("gateway down")


@jobs.handler("tests.commits_itself", transactional=False)
def _commits_itself(payload):
    JobProbe.objects.create(token=payload["token"], worker="first step")
    if payload.get("breaks"):
        raise RuntimeError("broken after its first step")


@jobs.handler("tests.extends", transactional=False)
def _extends(payload):
    jobs.extend_lease(int(payload["seconds"]))
    until = Job.objects.get(key=payload["token"]).locked_until
    JobProbe.objects.create(token=payload["token"], worker=until.isoformat())


# A clock the "tests.outlasts" handler moves on, as a job that takes longer than a lease would.
_clock: list[time_machine.Traveller] = []


@jobs.handler("tests.outlasts")
def _outlasts(payload):
    _clock[0].shift(timedelta(seconds=int(payload["seconds"])))


class JobQueueTests(TestCase):
    def test_only_known_kinds_are_enqueued(self):
        with pytest.raises(ValueError, match="no handler"):
            jobs.enqueue("nobody.handles.this", {})

    def test_a_job_runs_once_and_its_work_commits_with_it(self):
        job = probe()
        self.assertEqual(jobs.work_once(worker="w1"), 1)
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts), (JobStatus.DONE, 1))
        self.assertEqual(JobProbe.objects.filter(token=job.payload["token"]).count(), 1)
        self.assertEqual(jobs.work_once(worker="w1"), 0)

    def test_a_keyed_job_is_not_added_twice_while_unfinished(self):
        first = probe(key="escalate:1")
        second = probe(key="escalate:1", run_at=timezone.now() - timedelta(minutes=1))
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(Job.objects.count(), 1)
        jobs.wait_until_done()
        third = probe(key="escalate:1")  # finished: the key may be used again
        self.assertNotEqual(third.pk, first.pk)

    def test_a_job_in_the_future_waits(self):
        later = timezone.now() + timedelta(minutes=5)
        probe(run_at=later)
        self.assertEqual(jobs.work_once(worker="w1"), 0)
        with time_machine.travel(later + timedelta(seconds=1)):
            self.assertEqual(jobs.work_once(worker="w1"), 1)

    def test_failures_retry_with_back_off_then_stop(self):
        job = jobs.enqueue("tests.fail", {"why": "SMTP down"}, max_attempts=3)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts), (JobStatus.PENDING, 1))
        self.assertEqual(job.run_at, start + timedelta(seconds=2))
        self.assertIn("SMTP down", job.last_error)
        with time_machine.travel(start + timedelta(seconds=3), tick=False):
            jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual(job.run_at, start + timedelta(seconds=3 + 4))
        with time_machine.travel(start + timedelta(seconds=8), tick=False):
            jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts), (JobStatus.FAILED, 3))

    def test_the_failure_hook_runs_once_after_the_last_attempt(self):
        job = jobs.enqueue("tests.fail_with_hook", {"token": "t1"}, max_attempts=2)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            jobs.work_once(worker="w1")
        self.assertFalse(JobProbe.objects.exists())  # not on an attempt that will be retried
        with time_machine.travel(start + timedelta(seconds=3), tick=False):
            jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.FAILED)
        [probe_row] = JobProbe.objects.all()
        self.assertEqual((probe_row.token, probe_row.worker), ("t1", "RuntimeError: gateway down"))
        with time_machine.travel(start + timedelta(minutes=30), tick=False):
            self.assertEqual(jobs.work_once(worker="w1"), 0)
        self.assertEqual(JobProbe.objects.count(), 1)

    def test_a_broken_failure_hook_still_leaves_the_job_failed(self):
        job = jobs.enqueue(
            "tests.fail_with_hook", {"token": "t2", "hook_breaks": True}, max_attempts=1
        )
        with self.assertLogs("xinqiao.ops.jobs", "ERROR"):
            jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.FAILED)
        self.assertFalse(JobProbe.objects.exists())  # the hook's writes were rolled back

    def test_a_dead_workers_job_is_taken_over_after_its_lease(self):
        job = probe()
        [claimed] = jobs.claim(worker="dead", lease_seconds=60)
        self.assertEqual(claimed.pk, job.pk)
        self.assertEqual(jobs.claim(worker="alive"), [])  # still leased
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            [again] = jobs.claim(worker="alive")
            self.assertEqual(again.attempts, 2)
            self.assertTrue(jobs.run(again, worker="alive"))
        # The dead worker, back to life, may not record an outcome over the new owner's.
        self.assertFalse(jobs.run(claimed, worker="dead"))
        self.assertEqual(JobProbe.objects.filter(token=job.payload["token"]).count(), 1)

    def test_a_self_committing_handlers_writes_stay_when_it_fails_and_it_runs_again(self):
        job = jobs.enqueue("tests.commits_itself", {"token": "t3", "breaks": True})
        jobs.work_once(worker="w1")
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts), (JobStatus.PENDING, 1))
        # Not rolled back with the failure (a transactional handler's would be): the
        # handler's own transactions decide, so it must be safe to run again.
        self.assertEqual(JobProbe.objects.filter(token="t3").count(), 1)
        ok = jobs.enqueue("tests.commits_itself", {"token": "t4"})
        jobs.work_once(worker="w1")
        ok.refresh_from_db()
        self.assertEqual(ok.status, JobStatus.DONE)

    def test_a_handler_extends_its_own_lease_and_stops_once_it_lost_it(self):
        job = jobs.enqueue("tests.extends", {"token": "t5", "seconds": 600}, key="t5")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            jobs.work_once(worker="w1")
        [probe_row] = JobProbe.objects.filter(token="t5")
        self.assertEqual(probe_row.worker, (start + timedelta(seconds=600)).isoformat())
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.DONE)
        jobs.extend_lease(600)  # outside a worker: nothing to extend, nothing happens
        # Taken over by another worker meanwhile: the handler stops at its next extension.
        late = jobs.enqueue("tests.extends", {"token": "t6", "seconds": 60}, key="t6")
        [claimed] = jobs.claim(worker="slow", lease_seconds=60)
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            [again] = jobs.claim(worker="other")
            self.assertFalse(jobs.run(claimed, worker="slow"))
            self.assertFalse(JobProbe.objects.filter(token="t6").exists())
            self.assertTrue(jobs.run(again, worker="other"))
        late.refresh_from_db()
        self.assertEqual((late.status, late.locked_by), (JobStatus.DONE, "other"))

    def test_a_claimed_job_whose_lease_ran_out_behind_a_long_one_is_not_run_late(self):
        start = timezone.now()
        jobs.enqueue("tests.outlasts", {"seconds": 121}, run_at=start - timedelta(seconds=1))
        job = probe(run_at=start)
        with (
            override_settings(XINQIAO_JOB_LEASE_SECONDS=120),
            time_machine.travel(start, tick=False) as traveller,
        ):
            _clock[:] = [traveller]
            self.assertEqual(jobs.work_once(worker="w1"), 2)  # both claimed, one run
            job.refresh_from_db()
            self.assertEqual((job.status, job.attempts), (JobStatus.RUNNING, 1))
            self.assertFalse(JobProbe.objects.exists())
            jobs.work_once(worker="w2")  # due again, for whoever comes next
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts, job.locked_by), (JobStatus.DONE, 2, "w2"))

    def test_an_enqueued_job_rolls_back_with_its_transaction(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            probe()
            raise RuntimeError
        self.assertFalse(Job.objects.exists())


def _worker(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A real worker process on the test database."""
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    url = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, **(env_extra or {})}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", "work_jobs", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.enable_socket
class WorkerProcessTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("several worker processes are tested on PostgreSQL")

    def test_two_workers_never_run_the_same_job(self):
        tokens = [probe().payload["token"] for _ in range(300)]
        workers = [_worker("--until-empty", "--poll", "0.05") for _ in range(2)]
        outputs = [w.communicate(timeout=120)[0] for w in workers]
        for worker, output in zip(workers, outputs, strict=True):
            self.assertEqual(worker.returncode, 0, output)
        self.assertEqual(Job.objects.filter(status=JobStatus.DONE).count(), 300)
        runs = list(JobProbe.objects.values_list("token", flat=True))
        self.assertEqual(sorted(runs), sorted(tokens))  # each job exactly once
        self.assertEqual(set(Job.objects.values_list("attempts", flat=True)), {1})

    def test_a_worker_killed_mid_job_loses_nothing(self):
        job = probe(sleep=3)
        first = _worker("--poll", "0.05", env_extra={"XINQIAO_JOB_LEASE_SECONDS": "2"})
        deadline = time.monotonic() + 30
        while not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists():
            self.assertLess(time.monotonic(), deadline, "the first worker never claimed the job")
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # in the middle of the job
        first.communicate(timeout=30)
        self.assertFalse(JobProbe.objects.exists())  # its work was never committed
        second = _worker(
            "--until-empty", "--poll", "0.1", env_extra={"XINQIAO_JOB_LEASE_SECONDS": "10"}
        )
        output = second.communicate(timeout=60)[0]
        self.assertEqual(second.returncode, 0, output)
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempts), (JobStatus.DONE, 2))
        self.assertEqual(JobProbe.objects.filter(token=job.payload["token"]).count(), 1)
