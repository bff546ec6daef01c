"""Bulk import (issue #3 item 8): every row's problems reported exactly, all-or-nothing or
valid rows only, GBK CSV, wrong headers, formulas, oversized files."""

from __future__ import annotations

import csv
import io
from datetime import date
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.people_data import random_people, resident_id
from xinqiao.ops import jobs
from xinqiao.people import actions, importing, tasks
from xinqiao.people.models import ImportJob, ImportMode, ImportStatus, Person
from xinqiao.test import PersonaTestCase


def csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> bytes:
    headers = [h for h, _k, _r in importing.COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers)
    writer.writeheader()
    for row in rows:
        writer.writerow({h: row.get(h, "") for h in headers})
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], headers: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(headers or [h for h, _k, _r in importing.COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ImportCheckTests(PersonaTestCase):
    def job(self, data: bytes, name: str = "people.csv", mode=ImportMode.ALL_OR_NOTHING):
        job = ImportJob.objects.create(
            unit=self.c1, created_by=self.c1_counsellor, file_name=name, mode=mode
        )
        importing.store_upload(job, data)
        return job

    def test_ten_thousand_rows_with_fifty_planted_errors_reported_exactly(self):
        rows = random_people(10_000, seed=3)
        for row in rows:
            row["所属单位"] = "春晖社区"
            row["人群类别"] = "普通公众"
        expected: set[tuple[int, str]] = set()

        def plant(index: int, column: str, **changes: str) -> None:
            rows[index].update(changes)
            expected.add((index + 2, column))  # spreadsheet rows: header is row 1

        for i in range(0, 1000, 100):  # 10 bad check digits
            number = rows[i]["证件号码"]
            plant(i, "证件号码", 证件号码=number[:17] + ("0" if number[17] != "0" else "1"))
        for i in range(1001, 2000, 100):  # 10 missing names
            plant(i, "姓名", 姓名="")
        for i in range(2002, 3000, 100):  # 10 unknown units
            plant(i, "所属单位", 所属单位="不存在的社区")
        for i in range(3003, 4000, 100):  # 10 duplicates of an earlier row (same person)
            earlier = rows[i - 1]
            plant(
                i,
                "证件号码",
                证件号码=earlier["证件号码"],
                出生日期=earlier["出生日期"],
                性别=earlier["性别"],
            )
        for i in range(4004, 4500, 100):  # 5 bad phones
            plant(i, "联系电话", 联系电话="12345")
        for i in range(5005, 5500, 100):  # 5 already in the system
            existing = rows[i]
            actions.register_person(
                acting_user=self.c1_counsellor,
                unit=self.c1,
                name="已建档",
                id_number=existing["证件号码"],
            )
            expected.add((i + 2, "证件号码"))
        job = importing.run_check(self.job(csv_bytes(rows)))
        self.assertEqual(job.status, ImportStatus.CHECKED)
        self.assertEqual(job.total_rows, 10_000)
        self.assertEqual(job.error_count, 50)
        self.assertEqual(job.valid_rows, 9_950)
        self.assertEqual({(e["row"], e["column"]) for e in job.errors}, expected)
        duplicate = next(e for e in job.errors if e["row"] == 3003 + 2)
        self.assertIn(str(3003 + 1), duplicate["reason"])

        # All or nothing (the default): nothing is written.
        failed = importing.run_import(job)
        self.assertEqual(failed.status, ImportStatus.FAILED)
        self.assertEqual(Person.objects.count(), 5)
        # The valid rows only: 9,950 files, encrypted, with their groups and timeline.
        second = self.job(csv_bytes(rows), mode=ImportMode.VALID_ROWS)
        importing.run_check(second)
        second.refresh_from_db()
        with self.captureOnCommitCallbacks(execute=True):  # the file goes once committed
            done = importing.run_import(second)
        self.assertEqual(done.status, ImportStatus.DONE)
        self.assertEqual(done.imported_rows, 9_950)
        self.assertEqual(Person.objects.count(), 9_955)
        sample = Person.objects.get(
            id_number_index=actions.id_index("resident_id", rows[7]["证件号码"])
        )
        self.assertEqual(sample.phone, rows[7]["联系电话"])
        self.assertEqual(sample.events.get().kind, "imported")
        self.assertEqual(sample.groups.get().group, "general_public")
        self.assertFalse(importing.upload_path(done).exists())

    def finished_elsewhere_during_the_check(self, job: ImportJob):
        """``check`` as a run racing another: once it has read the file, the other run's
        import commits (status DONE, its rows in)."""
        real = importing.check

        def check(*args, **kwargs):
            result = real(*args, **kwargs)
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, imported_rows=2)
            return result

        return mock.patch.object(importing, "check", side_effect=check)

    def two_rows(self, **changes: str) -> list[dict[str, str]]:
        rows = random_people(2, seed=9)
        for row in rows:
            row["所属单位"] = "春晖社区"
        rows[1].update(changes)
        return rows

    def test_a_second_run_after_a_committed_import_writes_nothing(self):
        job = importing.run_check(self.job(csv_bytes(self.two_rows())))
        with (
            self.finished_elsewhere_during_the_check(job),
            self.captureOnCommitCallbacks(execute=True),
        ):
            outcome = importing.run_import(job)
        self.assertEqual((outcome.status, outcome.imported_rows), (ImportStatus.DONE, 2))
        self.assertFalse(Person.objects.exists())  # not inserted a second time
        self.assertFalse(importing.upload_path(job).exists())  # the left-over file goes

    def test_a_failing_second_run_never_marks_a_done_import_failed(self):
        job = importing.run_check(self.job(csv_bytes(self.two_rows())))
        # A file with the second row's number is registered after the check: this run's
        # all-or-nothing import would fail, but the other run's import already committed.
        number = self.two_rows()[1]["证件号码"]
        actions.register_person(
            acting_user=self.c1_counsellor, unit=self.c1, name="已建档", id_number=number
        )
        with self.finished_elsewhere_during_the_check(job):
            outcome = importing.run_import(job)
        self.assertEqual((outcome.status, outcome.message), (ImportStatus.DONE, ""))
        self.assertEqual(Person.objects.count(), 1)

    def test_a_check_resumed_after_its_worker_died_starts_over(self):
        job = self.job(csv_bytes(self.two_rows(姓名="")))
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.CHECKING, processed_rows=2000
        )
        tasks.check_import({"job": str(job.pk)})
        job.refresh_from_db()
        self.assertEqual(
            (job.status, job.total_rows, job.processed_rows, job.valid_rows, job.error_count),
            (ImportStatus.CHECKED, 2, 2, 1, 1),
        )
        # Checked already: a late run of the check changes nothing.
        ImportJob.objects.filter(pk=job.pk).update(valid_rows=7)
        tasks.check_import({"job": str(job.pk)})
        job.refresh_from_db()
        self.assertEqual((job.status, job.valid_rows), (ImportStatus.CHECKED, 7))

    def test_a_job_that_gave_up_shows_the_import_failed(self):
        job = self.job(csv_bytes(self.two_rows()))
        importing.discard_upload(job)  # the sealed file was lost: every attempt fails
        outbox = jobs.enqueue(tasks.CHECK_JOB, {"job": str(job.pk)}, max_attempts=1)
        jobs.work_once(worker="w1")
        outbox.refresh_from_db()
        self.assertEqual(outbox.status, "failed")
        job.refresh_from_db()
        self.assertEqual(job.status, ImportStatus.FAILED)
        self.assertIn("内部错误", job.message)

    def test_gbk_csv_is_accepted(self):
        rows = [
            {
                "姓名": "张测试",
                "证件号码": resident_id(date(1990, 1, 2), 1),
                "所属单位": "春晖社区",
                "网格": "第一网格",
                "人群类别": "学生、教师",
            }
        ]
        job = importing.run_check(self.job(csv_bytes(rows, "gbk")))
        self.assertEqual(
            (job.status, job.valid_rows, job.error_count), (ImportStatus.CHECKED, 1, 0), job.errors
        )
        importing.run_import(job)
        person = Person.objects.get()
        self.assertEqual(person.name, "张测试")
        self.assertEqual(person.unit, self.demo.grids[1][0])
        self.assertEqual(set(person.groups.values_list("group", flat=True)), {"student", "teacher"})

    def test_wrong_headers_fail_the_whole_file_with_the_column_named(self):
        data = "名字,身份证\n张三,123\n".encode()
        job = importing.run_check(self.job(data))
        self.assertEqual(job.status, ImportStatus.FAILED)
        self.assertIn("姓名", job.message)
        self.assertIn("名字", job.message)

    def test_formulas_are_reported_not_evaluated(self):
        row = ['=HYPERLINK("http://x")', "", "", "", "", "", "", "春晖社区", "", "", "", ""]
        job = importing.run_check(self.job(xlsx_bytes([row]), name="people.xlsx"))
        self.assertEqual(job.error_count, 1)
        self.assertEqual(job.errors[0]["column"], "姓名")

    def test_not_a_spreadsheet(self):
        job = importing.run_check(self.job(b"PK\x03\x04 broken", name="people.xlsx"))
        self.assertEqual(job.status, ImportStatus.FAILED)
        job = importing.run_check(self.job(b"\xff\xfe\x00garbage\x81", name="people.csv"))
        self.assertEqual(job.status, ImportStatus.FAILED)

    def test_template_has_the_chinese_headers(self):
        from openpyxl import load_workbook

        response = self.client_for(self.c1_counsellor).get("/people/import/template.xlsx")
        book = load_workbook(io.BytesIO(response.content))
        headers = [c.value for c in book.worksheets[0][1]]
        self.assertEqual(headers[0], "姓名*")
        self.assertIn("证件号码", headers)


class ImportPageTests(PersonaTestCase):
    def test_upload_check_and_import_through_the_pages(self):
        client = self.client_for(self.c1_counsellor)
        rows = random_people(30, seed=5)
        for row in rows:
            row["所属单位"] = "春晖社区"
        rows[4]["证件号码"] = "123"
        upload = SimpleUploadedFile("people.csv", csv_bytes(rows), content_type="text/csv")
        response = client.post("/people/import/", {"file": upload, "mode": "valid_rows"})
        job = ImportJob.objects.get()
        self.assertEqual(job.status, ImportStatus.UPLOADED)  # its check is a job in the outbox
        jobs.wait_until_done()
        self.assertRedirects(response, f"/people/import/{job.pk}/", fetch_redirect_response=False)
        page = client.get(f"/people/import/{job.pk}/")
        self.assertContains(page, "证件号码")
        self.assertEqual(page.context["job"].valid_rows, 29)
        status = client.get(f"/people/import/{job.pk}/status/")
        self.assertEqual(status.status_code, 200)
        client.post(f"/people/import/{job.pk}/start/", {"mode": "valid_rows"})
        with self.captureOnCommitCallbacks(execute=True):
            jobs.wait_until_done()
        job.refresh_from_db()
        self.assertEqual(job.status, ImportStatus.DONE)
        self.assertEqual(Person.objects.count(), 29)
        # Someone else's import is not yours to see.
        other = self.client_for(self.c1_worker)
        self.assertEqual(other.get(f"/people/import/{job.pk}/").status_code, 404)

    @override_settings()
    def test_oversized_and_wrong_type_files_are_refused(self):
        client = self.client_for(self.c1_counsellor)
        original = importing.MAX_UPLOAD_BYTES
        importing.MAX_UPLOAD_BYTES = 100
        try:
            upload = SimpleUploadedFile("big.csv", b"x" * 200, content_type="text/csv")
            response = client.post("/people/import/", {"file": upload, "mode": "all_or_nothing"})
        finally:
            importing.MAX_UPLOAD_BYTES = original
        self.assertContains(response, 'id="id_file-error"')
        upload = SimpleUploadedFile("people.pdf", b"%PDF", content_type="application/pdf")
        response = client.post("/people/import/", {"file": upload, "mode": "all_or_nothing"})
        self.assertContains(response, 'id="id_file-error"')
        self.assertFalse(ImportJob.objects.exists())
