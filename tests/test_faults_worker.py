"""Faults (issue #10 item 3): a job worker killed with SIGKILL in the middle of an escalation,
of an import's insert, or of an import's check loses nothing and does nothing twice. Each test
stops a real worker process inside the job (another connection holds a lock on a table the job
writes or reads, until the worker is seen waiting on it), kills it, and lets a second worker
take the job over when its lease runs out: the escalation happens exactly once (one step, one
set of notifications, one group-chat message), the import writes exactly its N files and ends
"done" with its sealed upload removed, the check starts over and reports exactly once.
PostgreSQL only: real worker processes on the test database.

(A worker killed while delivering a notification: tests/test_notify.py; a web process killed
in the middle of a submission: tests/test_faults.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from tests.notify_fakes import Behaviour, start_http, stop
from tests.people_data import random_people, resident_id
from tests.test_people_import import csv_bytes
from xinqiao.assessments import actions as assessment_actions
from xinqiao.notify.models import Channel, Notification, NotificationStatus
from xinqiao.ops import jobs
from xinqiao.ops.demo import DemoCity, build_demo_city
from xinqiao.ops.models import Job, JobStatus
from xinqiao.people import actions as people_actions
from xinqiao.people import importing, tasks
from xinqiao.people.models import EventKind, ImportJob, ImportStatus, Person, PersonEvent
from xinqiao.risk.models import Alert, AlertEvent, AlertEventKind, AlertStatus

REPO = Path(__file__).resolve().parent.parent
# PHQ-9 with item 9 "nearly every day": a level-1 crisis alert (xinqiao/risk/rules.py
# "phq9_item9_nearly_every_day").
PHQ9_ITEM9_NEARLY_EVERY_DAY = [1, 1, 1, 1, 1, 1, 1, 1, 3]
ROWS = 3_000  # two insert batches (importing.BATCH) and a check that reports progress
FIRST_LEASE = "2"  # seconds: how soon the second worker may take over the killed one's job


@pytest.mark.enable_socket
class WorkerKilledTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("real worker processes on the test database are tested on PostgreSQL")
        db = connection.settings_dict
        user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        self.url = f"postgres://{user}@{host}:{port}/{db['NAME']}"
        self.demo: DemoCity = build_demo_city()
        self.counsellor = self.demo.users["c1_counsellor"]
        self.unit = self.demo.communities[0]

    # --- helpers ---------------------------------------------------------------------------

    def worker(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """A real ``xinqiao work_jobs`` process on the test database."""
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "xinqiao.cli", "work_jobs", *args],
            cwd=REPO,
            env={
                **os.environ,
                "DATABASE_URL": self.url,
                "DB_CONN_MAX_AGE": "0",
                "LOG_LEVEL": "WARNING",
                **(env or {}),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def kill_while_blocked(self, lock: str, table: str, env: dict[str, str] | None = None) -> None:
        """Start a worker while another connection holds ``lock``; once the worker waits on
        ``table`` (inside the job), kill it with SIGKILL, then let the lock go."""
        with psycopg.connect(self.url, autocommit=False) as blocker:
            blocker.execute(lock)
            first = self.worker(
                "--poll", "0.05", env={**(env or {}), "XINQIAO_JOB_LEASE_SECONDS": FIRST_LEASE}
            )
            deadline = time.monotonic() + 60
            with psycopg.connect(self.url, autocommit=True) as watcher:
                while not watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE %s",
                    [f"%{table}%"],
                ).fetchone()[0]:  # type: ignore[index]
                    if first.poll() is not None:
                        self.fail(f"the first worker ended: {first.communicate()[0]}")
                    self.assertLess(time.monotonic(), deadline, "the worker never blocked")
                    time.sleep(0.05)
            first.send_signal(signal.SIGKILL)  # in the middle of the job
            first.communicate(timeout=30)
            self.assertEqual(first.returncode, -signal.SIGKILL)
            blocker.rollback()

    def resume(self, env: dict[str, str] | None = None) -> None:
        """A second worker: takes the killed one's job over and runs until nothing is due."""
        second = self.worker(
            "--until-empty",
            "--poll",
            "0.1",
            env={**(env or {}), "XINQIAO_JOB_LEASE_SECONDS": "60"},
        )
        output = second.communicate(timeout=180)[0]
        self.assertEqual(second.returncode, 0, output)

    def upload(self, rows: list[dict[str, str]]) -> ImportJob:
        job = ImportJob.objects.create(
            unit=self.unit, created_by=self.counsellor, file_name="people.csv"
        )
        importing.store_upload(job, csv_bytes(rows))
        return job

    def rows(self) -> list[dict[str, str]]:
        rows = random_people(ROWS, seed=17)
        for row in rows:
            row["所属单位"] = self.unit.name
            row["人群类别"] = "普通公众"
        return rows

    # --- escalation ------------------------------------------------------------------------

    def test_a_worker_killed_mid_escalation_escalates_once_when_resumed(self):
        person = people_actions.register_person(
            acting_user=self.counsellor,
            unit=self.unit,
            name="故障测试",
            id_number=resident_id(date(1979, 8, 9), 3),
        )
        people_actions.give_consent(
            acting_user=self.counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=timezone.localdate(),
        )
        assessment_actions.record_assessment(
            acting_user=self.counsellor,
            person=person,
            instrument="phq9",
            answers=PHQ9_ITEM9_NEARLY_EVERY_DAY,
        )
        jobs.wait_until_done()  # what is due at once (the signal's hand-over), not the deadline
        alert = Alert.objects.get(person=person)
        self.assertEqual((alert.status, alert.escalation_step), (AlertStatus.OPEN, 0))
        raised = set(Notification.objects.filter(object_id=str(alert.pk)).values_list("pk"))
        self.assertTrue(raised)
        events = AlertEvent.objects.filter(alert=alert).count()
        # Nobody acknowledged it: its deadline has passed.
        past = timezone.now() - timedelta(seconds=1)
        Alert.objects.filter(pk=alert.pk).update(ack_deadline=past)
        escalation = Job.objects.get(key=f"escalate:{alert.pk}:0")
        Job.objects.filter(pk=escalation.pk).update(run_at=past)

        # The escalated alert's copy for the group chat goes to a local robot.
        robot = Behaviour()
        server = start_http(robot)
        self.addCleanup(stop, server)
        env = {
            "XINQIAO_NOTIFY_CHANNELS": "webhook",
            "XINQIAO_WEBHOOK_URL": f"{server.url}/robot/send?key=k",
        }
        # Stop the escalation inside its transaction (the alert moved a step up, its event
        # written, its notifications being written), then kill -9 the worker.
        self.kill_while_blocked(
            f'LOCK TABLE "{Notification._meta.db_table}" IN EXCLUSIVE MODE',
            Notification._meta.db_table,
            env,
        )
        alert.refresh_from_db()
        self.assertEqual(alert.escalation_step, 0)  # nothing of it was committed
        self.assertFalse(alert.events.filter(kind=AlertEventKind.ESCALATED).exists())
        self.assertEqual(
            set(Notification.objects.filter(object_id=str(alert.pk)).values_list("pk")), raised
        )
        self.assertEqual(robot.requests, [])

        self.resume(env)
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.escalation_step), (AlertStatus.OPEN, 1))
        self.assertEqual(alert.escalated_to, self.demo.streets[0])
        self.assertEqual(alert.events.filter(kind=AlertEventKind.ESCALATED).count(), 1)
        self.assertEqual(alert.events.filter(kind=AlertEventKind.NOTIFIED).count(), 2)
        escalation.refresh_from_db()
        self.assertEqual((escalation.status, escalation.attempts), (JobStatus.DONE, 2))
        # One set of notifications: each recipient once in the app and once in the group chat.
        told = Notification.objects.filter(object_id=str(alert.pk)).exclude(
            pk__in=[pk for (pk,) in raised]
        )
        in_app = list(told.filter(channel=Channel.IN_APP).values_list("recipient", flat=True))
        by_robot = list(told.filter(channel=Channel.WEBHOOK).values_list("recipient", flat=True))
        self.assertTrue(in_app)
        self.assertEqual(sorted(in_app), sorted(set(in_app)))
        self.assertEqual(sorted(by_robot), sorted(in_app))
        self.assertEqual(
            set(told.filter(channel=Channel.WEBHOOK).values_list("status", flat=True)),
            {NotificationStatus.SENT},
        )
        # One group-chat message per notify() call (one per language), none repeated.
        batches = {str(batch) for batch in told.values_list("batch", flat=True)}
        self.assertEqual(sorted(robot.keys), sorted(batches))
        deliveries = Job.objects.filter(kind="notify.deliver")
        self.assertEqual(deliveries.count(), len(batches))  # the group chat's: one per batch
        self.assertEqual(set(deliveries.values_list("status", flat=True)), {JobStatus.DONE})
        # The next step's clock, once.
        [following] = Job.objects.filter(kind="risk.escalate", status=JobStatus.PENDING)
        self.assertEqual(following.key, f"escalate:{alert.pk}:1")
        self.assertEqual(following.run_at, alert.ack_deadline)
        self.assertEqual(AlertEvent.objects.filter(alert=alert).count(), events + 2)

    # --- import ----------------------------------------------------------------------------

    def test_a_worker_killed_inside_the_import_transaction_imports_once_when_resumed(self):
        rows = self.rows()
        job = importing.run_check(self.upload(rows))
        self.assertEqual((job.status, job.valid_rows), (ImportStatus.CHECKED, ROWS), job.errors)
        outbox = tasks.enqueue_import(job)
        # Writing the files' timelines waits: the worker stops inside its one insert
        # transaction, the first batch of files already written in it.
        self.kill_while_blocked(
            f'LOCK TABLE "{PersonEvent._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE',
            PersonEvent._meta.db_table,
        )
        job.refresh_from_db()
        self.assertEqual((job.status, job.imported_rows), (ImportStatus.IMPORTING, 0))
        self.assertFalse(Person.objects.exists())  # nothing of the insert was committed
        self.assertTrue(importing.upload_path(job).exists())
        late = ImportJob.objects.get(pk=job.pk)  # as a slow second run saw it

        self.resume()
        job.refresh_from_db()
        self.assertEqual((job.status, job.imported_rows), (ImportStatus.DONE, ROWS), job.message)
        self.assertEqual(Person.objects.count(), ROWS)
        indexes = Person.objects.values_list("id_number_index", flat=True)
        self.assertEqual(len(set(indexes)), ROWS)  # no one twice
        self.assertEqual(
            set(indexes),
            {people_actions.id_index("resident_id", row["证件号码"]) for row in rows},
        )
        self.assertEqual(PersonEvent.objects.filter(kind=EventKind.IMPORTED).count(), ROWS)
        self.assertFalse(importing.upload_path(job).exists())
        outbox.refresh_from_db()
        self.assertEqual((outbox.status, outbox.attempts), (JobStatus.DONE, 2))

        # A late second run, with a left-over file: nothing changes, the file goes.
        importing.upload_path(job).write_bytes(b"left over")
        self.assertEqual(importing.run_import(late).status, ImportStatus.DONE)
        job.refresh_from_db()
        self.assertEqual((job.imported_rows, Person.objects.count()), (ROWS, ROWS))
        self.assertFalse(importing.upload_path(job).exists())

    def test_a_worker_killed_during_the_check_checks_again_when_resumed(self):
        rows = self.rows()
        rows[10]["证件号码"] = "123"  # two planted problems, reported once each
        rows[2500]["姓名"] = ""
        job = self.upload(rows)
        outbox = tasks.enqueue_check(job)
        # Looking up the file's numbers among the existing files waits: the check stops.
        self.kill_while_blocked(
            f'LOCK TABLE "{Person._meta.db_table}" IN ACCESS EXCLUSIVE MODE',
            Person._meta.db_table,
        )
        job.refresh_from_db()
        self.assertEqual(job.status, ImportStatus.CHECKING)  # stopped half way

        self.resume()
        job.refresh_from_db()
        self.assertEqual(job.status, ImportStatus.CHECKED)
        self.assertEqual((job.total_rows, job.processed_rows), (ROWS, ROWS))
        self.assertEqual((job.valid_rows, job.error_count), (ROWS - 2, 2))
        self.assertEqual(
            sorted((e["row"], e["column"]) for e in job.errors),
            [(12, "证件号码"), (2502, "姓名")],
        )
        outbox.refresh_from_db()
        self.assertEqual((outbox.status, outbox.attempts), (JobStatus.DONE, 2))
        self.assertTrue(importing.upload_path(job).exists())  # kept for the import
        self.assertFalse(Person.objects.exists())
