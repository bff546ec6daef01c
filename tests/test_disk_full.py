"""A full disk during uploads and backups (issue #10 item 3): a clear message in the user's
language on the file's field, never a 500; no record and no partial file left; a warning in the
log without the user's file name; the next upload, with room, works.

The disk is made full without filling the shared machine's disk:

* in this process, ``RLIMIT_FSIZE`` (setrlimit(2)): the kernel lets a file grow to the limit and
  answers the write beyond it with EFBIG — a disk that fills in the middle of a file, a partial
  file really written. Python ignores SIGXFSZ, so the write fails instead of the process;
* for the console (``xinqiao backup`` / ``restore``, run as subprocesses on an instance of their
  own: a SQLite data directory migrated once for this module, on either test database), also a
  16 KiB tmpfs mounted in a private mount namespace of the subprocess (``unshare -Urm``): a real
  ENOSPC, seen by nothing outside it. Skipped where user namespaces are not allowed.
"""

from __future__ import annotations

import base64
import csv
import errno
import io
import os
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.people_data import random_people
from xinqiao.content import actions as content_actions
from xinqiao.content.actions import ArticleText
from xinqiao.content.models import Article, Kind
from xinqiao.lib.storage import is_disk_full
from xinqiao.people import importing
from xinqiao.people.models import ImportJob
from xinqiao.test import PersonaTestCase

REPO = Path(__file__).resolve().parent.parent
LIMIT = 64 * 1024  # bytes a file may grow to while the disk is "full"
ZH = "服务器存储空间已满，文件未保存，请联系管理员。"
EN = "The server's storage is full: the file was not saved. Please tell your administrator."


@contextmanager
def disk_full_at(limit: int) -> Iterator[None]:
    """Files this process writes cannot grow past ``limit`` bytes (EFBIG beyond it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip("the hard file-size limit is below the test's limit")
    assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def stored_files() -> set[Path]:
    """Every file (hidden ones too) where uploads are spooled and kept."""
    roots = [
        Path(settings.MEDIA_ROOT),
        Path(settings.FILE_UPLOAD_TEMP_DIR),
        Path(settings.DATA_DIR) / "imports",
    ]
    return {p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file()}


def wav(size: int) -> bytes:
    """A WAV file of about ``size`` bytes (8 kHz, 8-bit mono)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * (size // 256))
    return buffer.getvalue()


def people_csv(rows: int) -> bytes:
    headers = [h for h, _k, _r in importing.COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers)
    writer.writeheader()
    for row in random_people(rows, seed=7):
        writer.writerow({h: row.get(h, "") for h in headers})
    return buffer.getvalue().encode("utf-8-sig")


def test_which_errors_mean_a_full_disk() -> None:
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        assert is_disk_full(OSError(number, os.strerror(number)))
    for number in (errno.EACCES, errno.EIO, errno.ENOENT, errno.EXDEV):
        assert not is_disk_full(OSError(number, os.strerror(number)))
    assert not is_disk_full(ValueError("no room"))


# --- uploads through the pages -------------------------------------------------------------


class DiskFullTestCase(PersonaTestCase):
    # A name only the uploader knows: it must not reach the log.
    FILE_NAME = "张小明的放松课.wav"

    def assert_logged_without_the_file_name(self, logs: object, folder: Path | str) -> None:
        output = "\n".join(logs.output)  # type: ignore[attr-defined]
        self.assertIn("storage full (EFBIG)", output)
        self.assertIn(str(folder), output)
        self.assertNotIn("张小明", output)


class LessonUploadTests(DiskFullTestCase):
    TITLE = "睡前放松（磁盘测试）"

    def post_lesson(self, client, data: bytes, url: str = "/content/new/lesson", **extra):
        form = {
            "unit": str(self.c1.pk),
            "title_zh": self.TITLE,
            "transcript_zh": "请跟着声音慢慢呼吸。",
            "media_file": SimpleUploadedFile(self.FILE_NAME, data, content_type="audio/wav"),
        }
        return client.post(url, form, **extra)

    def lessons(self):
        return Article.objects.filter(kind=Kind.LESSON, title_zh=self.TITLE)

    def test_no_room_for_the_media_is_said_on_its_field_and_nothing_is_kept(self):
        client = self.client_for(self.c1_worker)
        data = wav(4 * LIMIT)  # small enough to stay in memory: the storage's own write fails
        before = stored_files()
        with self.assertLogs("xinqiao.lib.storage", "WARNING") as logs, disk_full_at(LIMIT):
            response = self.post_lesson(client, data)
        self.assertEqual(response.status_code, 400)  # the form page, as for any refused input
        self.assertEqual(response.context["form"].errors["media_file"], [ZH])
        self.assertContains(response, ZH, status_code=400)
        self.assertContains(response, self.TITLE, status_code=400)  # what was typed is kept
        self.assertFalse(self.lessons().exists())
        self.assertEqual(stored_files(), before)
        self.assert_logged_without_the_file_name(logs, Path(settings.MEDIA_ROOT) / "content")

        # With room again, the same upload is saved whole.
        response = self.post_lesson(client, data)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        lesson = self.lessons().get()
        with lesson.media.open("rb") as stored:
            self.assertEqual(stored.read(), data)

    @override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=LIMIT // 4)
    def test_no_room_while_a_large_upload_streams_in_is_said_in_english_too(self):
        client = self.client_for(self.c1_worker)
        data = wav(4 * LIMIT)  # spooled to FILE_UPLOAD_TEMP_DIR while the request is read
        before = stored_files()
        with self.assertLogs("xinqiao.lib.storage", "WARNING") as logs, disk_full_at(LIMIT):
            response = self.post_lesson(client, data, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.context["form"].errors["media_file"], [EN])
        self.assertContains(response, EN.replace("'", "&#x27;"), status_code=400)
        self.assertFalse(self.lessons().exists())
        self.assertEqual(stored_files(), before)  # the partial spool file is gone too
        self.assert_logged_without_the_file_name(logs, settings.FILE_UPLOAD_TEMP_DIR)

        response = self.post_lesson(client, data, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        with self.lessons().get().media.open("rb") as stored:
            self.assertEqual(stored.read(), data)
        self.assertEqual(
            [p for p in stored_files() - before if p.parent == settings.FILE_UPLOAD_TEMP_DIR], []
        )

    def test_no_room_for_a_new_file_keeps_the_lesson_and_its_old_file(self):
        old = wav(LIMIT // 2)
        lesson = content_actions.create_article(
            acting_user=self.c1_worker,
            unit=self.c1,
            kind=Kind.LESSON,
            text=ArticleText(title_zh=self.TITLE, transcript_zh="旧的文字稿"),
            media=SimpleUploadedFile("old.wav", old, content_type="audio/wav"),
        )
        old_name = lesson.media.name
        client = self.client_for(self.c1_worker)
        before = stored_files()
        form = {
            "title_zh": self.TITLE,
            "transcript_zh": "新的文字稿",
            "media_file": SimpleUploadedFile(self.FILE_NAME, wav(4 * LIMIT), "audio/wav"),
        }
        with self.assertLogs("xinqiao.lib.storage", "WARNING"), disk_full_at(LIMIT):
            response = client.post(f"/content/{lesson.pk}/edit", form)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.context["form"].errors["media_file"], [ZH])
        lesson.refresh_from_db()
        self.assertEqual((lesson.media.name, lesson.transcript_zh), (old_name, "旧的文字稿"))
        with lesson.media.open("rb") as stored:
            self.assertEqual(stored.read(), old)
        self.assertEqual(stored_files(), before)


class ImportUploadTests(DiskFullTestCase):
    FILE_NAME = "张小明社区名单.csv"

    def post_import(self, client, data: bytes, **extra):
        upload = SimpleUploadedFile(self.FILE_NAME, data, content_type="text/csv")
        return client.post("/people/import/", {"file": upload, "mode": "all_or_nothing"}, **extra)

    def test_no_room_for_the_sealed_spreadsheet_leaves_no_job_and_no_file(self):
        client = self.client_for(self.c1_counsellor)
        data = people_csv(2000)
        self.assertGreater(len(data), 2 * LIMIT)
        before = stored_files()
        with self.assertLogs("xinqiao.lib.storage", "WARNING") as logs, disk_full_at(LIMIT):
            response = self.post_import(client, data)
        self.assertEqual(response.status_code, 200)  # the import page, as for any refused file
        self.assertEqual(response.context["form"].errors["file"], [ZH])
        self.assertContains(response, 'id="id_file-error"')
        self.assertContains(response, ZH)
        self.assertFalse(ImportJob.objects.exists())
        self.assertEqual(stored_files(), before)
        self.assert_logged_without_the_file_name(logs, Path(settings.DATA_DIR) / "imports")

        response = self.post_import(client, data)
        job = ImportJob.objects.get()
        self.assertRedirects(response, f"/people/import/{job.pk}/", fetch_redirect_response=False)
        self.assertEqual(importing.load_upload(job), data)

    @override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=LIMIT // 4)
    def test_no_room_while_the_spreadsheet_streams_in_is_not_called_a_missing_file(self):
        client = self.client_for(self.c1_counsellor)
        before = stored_files()
        with self.assertLogs("xinqiao.lib.storage", "WARNING"), disk_full_at(LIMIT):
            response = self.post_import(client, people_csv(2000), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        # Only the storage message: not "This field is required." (the file did come).
        self.assertEqual(response.context["form"].errors["file"], [EN])
        self.assertFalse(ImportJob.objects.exists())
        self.assertEqual(stored_files(), before)


# --- the console: backup and restore -------------------------------------------------------


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


KEYS = {"XINQIAO_DATA_KEY": _key(), "SECRET_KEY": secrets.token_urlsafe(60)}
BACKUP_KEY = _key()
SIZE = "16k"  # the tmpfs of the ENOSPC runs


@cache
def private_mounts() -> bool:
    """True where this user may mount a tmpfs in a mount namespace of its own."""
    if not shutil.which("unshare"):
        return False
    probe = ["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=16k xq-probe /mnt"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0  # noqa: S603


@dataclass
class Instance:
    data_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        drop = {"DATABASE_URL", "XINQIAO_EXPECT_DB", "XINQIAO_DATA_KEYS", "XINQIAO_MEDIA_DIR"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env |= {"XINQIAO_DATA_DIR": str(self.data_dir), "DB_CONN_MAX_AGE": "0", **KEYS}
        return env | {"XINQIAO_BACKUP_KEY": BACKUP_KEY} | extra

    def run(
        self, *args: str, limit: int | None = None, full: Path | None = None, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """``xinqiao *args``; with ``limit`` files may not grow past it (EFBIG); with ``full``
        that folder is a 16 KiB tmpfs (ENOSPC), whose leftovers are printed as ``left: …``."""
        command = [sys.executable, "-m", "xinqiao.cli", *args]
        if full is not None:
            script = (
                f'mount -t tmpfs -o size={SIZE} xq-full "$0" || exit 99; "$@"; rc=$?; '
                'echo "left: $(ls -A "$0" | tr "\\n" " ")"; exit $rc'
            )
            command = ["unshare", "-Urm", "sh", "-c", script, str(full), *command]

        def lower_limit() -> None:
            if limit is not None:
                hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

        return subprocess.run(  # noqa: S603
            command,
            cwd=REPO,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            preexec_fn=lower_limit,  # the tests start no threads
        )

    def dump(self) -> list[str]:
        conn = sqlite3.connect(self.data_dir / "xinqiao.sqlite3")
        try:
            return list(conn.iterdump())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """A migrated instance of its own (SQLite, whatever the test database)."""
    source = Instance(tmp_path_factory.mktemp("diskfull") / "source")
    source.data_dir.mkdir()
    done = source.run("migrate", "--verbosity", "0")
    assert done.returncode == 0, done.stderr
    return source


def _assert_refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_backup_beyond_the_file_size_limit_is_one_clear_line_and_no_file(
    instance: Instance, tmp_path: Path
) -> None:
    out = tmp_path / "city.xqb"
    # 40 KiB: above SQLite's 32 KiB shared-memory file, below the archive (about 60 KiB).
    done = instance.run("backup", str(out), limit=40 * 1024)
    _assert_refused(done, "no room for the archive", "EFBIG", "nothing was written")
    assert list(tmp_path.iterdir()) == []
    # With room, the same backup is written.
    done = instance.run("backup", str(out))
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 40 * 1024
    assert [p.name for p in tmp_path.iterdir()] == ["city.xqb"]


@pytest.mark.skipif(not private_mounts(), reason="no user namespaces to mount a small tmpfs")
def test_backup_onto_a_full_device_is_one_clear_line_and_no_file(
    instance: Instance, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    done = instance.run("backup", str(full / "city.xqb"), full=full)
    _assert_refused(done, "no room for the archive", "ENOSPC", "nothing was written")
    assert done.stdout.strip().splitlines()[-1] == "left:", done.stdout


@pytest.mark.skipif(not private_mounts(), reason="no user namespaces to mount a small tmpfs")
def test_restore_without_room_for_the_media_restores_nothing(
    instance: Instance, tmp_path: Path
) -> None:
    target = Instance(tmp_path / "target")
    target.data_dir.mkdir()
    shutil.copyfile(instance.data_dir / "xinqiao.sqlite3", target.data_dir / "xinqiao.sqlite3")
    empty = target.dump()
    lesson = instance.data_dir / "media" / "content" / "lesson.mp4"
    lesson.parent.mkdir(parents=True, exist_ok=True)
    lesson.write_bytes(secrets.token_bytes(64 * 1024))
    try:
        archive = tmp_path / "city.xqb"
        assert instance.run("backup", str(archive)).returncode == 0
    finally:
        lesson.unlink()
    full = tmp_path / "full"
    full.mkdir()
    done = target.run(
        "restore", str(archive), "--no-migrate", full=full, XINQIAO_MEDIA_DIR=str(full / "media")
    )
    _assert_refused(done, "no room for the media files", "ENOSPC", "nothing was restored")
    assert done.stdout.strip().splitlines()[-1] == "left:", done.stdout
    assert target.dump() == empty
