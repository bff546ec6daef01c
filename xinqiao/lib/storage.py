"""Uploaded files on a full disk: a clear message, never a 500 (issue #10 item 3).

Every uploaded file the platform keeps passes through here:

* while the request body streams in, Django spools a large upload (over
  ``FILE_UPLOAD_MAX_MEMORY_SIZE``) to ``FILE_UPLOAD_TEMP_DIR`` — ``SpoolingUploadHandler``
  (``FILE_UPLOAD_HANDLERS``);
* a lesson's media is saved by the default storage — ``UploadStorage`` (``STORAGES``);
* an import's sealed spreadsheet is written with ``write_file``.

"Full" is a write that fails with ENOSPC (no space, or no inodes, left on the device), EDQUOT
(the service account's disk quota is used up) or EFBIG (over the process's file-size limit,
RLIMIT_FSIZE). It becomes ``StorageFull`` and one warning in the log naming the folder and the
errno — never a file name a user gave. The form answers with ``storage_full_message()`` on
the file's field (``add_storage_full_errors``), in the user's language; nothing else is saved.

No partial file is left: a file is written under a hidden temporary name in its own folder,
flushed to the device (fsync), and only then renamed to its real name (rename within one file
system is atomic, POSIX ``rename(2)``); on any failure the temporary file is removed. A spooled
upload that fails is removed too.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeGuard

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.utils._os import safe_makedirs
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# errno values that mean "no room for this file" (POSIX write(2), open(2)).
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# Where the request remembers the file fields whose upload was dropped (SpoolingUploadHandler).
_REFUSED_ATTR = "_xinqiao_storage_full_fields"


class StorageFull(Exception):
    """There was no room for a file; nothing of it was kept."""


def is_disk_full(exc: BaseException) -> TypeGuard[OSError]:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def errno_name(exc: OSError) -> str:
    """``ENOSPC``, ``EDQUOT``, … for the log and the console."""
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def storage_full_message() -> str:
    return _(
        "The server's storage is full: the file was not saved. Please tell your administrator."
    )


def _warn(exc: OSError, folder: Path | str) -> None:
    # The folder and the errno only: file names may come from the user (never logged).
    log.warning("storage full (%s): a file in %s was not saved", errno_name(exc), folder)


@contextmanager
def _full_as_storage_full(folder: Path | str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        _warn(exc, folder)
        raise StorageFull(str(folder)) from exc


def _stage(folder: Path, chunks: Iterable[bytes]) -> Path:
    """``chunks`` in a new hidden file in ``folder`` (mode 0600), flushed to the device; on any
    failure the file is removed and the error raised."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) all or nothing, replacing a file already there.
    Raises ``StorageFull`` when there is no room; then ``path`` is as it was."""
    with _full_as_storage_full(path.parent):
        staged = _stage(path.parent, [data])
        try:
            os.replace(staged, path)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise


class UploadStorage(FileSystemStorage):
    """Django's file-system storage, but every file is written all or nothing and a full disk
    raises ``StorageFull`` (see above). Never overwrites: a taken name gets another one, as in
    Django's own."""

    def _save(self, name: str, content: File[Any]) -> str:
        folder = Path(self.path(name)).parent
        with _full_as_storage_full(folder):
            if self.directory_permissions_mode is not None:
                safe_makedirs(folder, self.directory_permissions_mode, exist_ok=True)
            else:
                folder.mkdir(parents=True, exist_ok=True)
            staged = self._staged(folder, content)
            try:
                target = self._reserve(name)
                try:
                    os.replace(staged, target)
                except BaseException:
                    target.unlink(missing_ok=True)
                    raise
            finally:
                staged.unlink(missing_ok=True)
        if self.file_permissions_mode is not None:
            target.chmod(self.file_permissions_mode)
        self._ensure_location_group_id(str(target))  # type: ignore[attr-defined]  # Django's step
        return target.relative_to(self.location).as_posix()

    def _staged(self, folder: Path, content: File[Any]) -> Path:
        """The content as a complete hidden file in ``folder``: a spooled upload is moved there
        (no copy on the same device, like Django's ``file_move_safe``), anything else copied."""
        if hasattr(content, "temporary_file_path"):
            staged = folder / f".{secrets.token_hex(8)}.part"
            try:
                os.rename(content.temporary_file_path(), staged)
                return staged
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        return _stage(folder, content.chunks())

    def _reserve(self, name: str) -> Path:
        """A free name, taken by creating it empty (O_EXCL): another process saving at the same
        moment gets another name, as in Django's own ``_save``."""
        while True:
            target = Path(self.path(name))
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                name = self.get_available_name(name)
                continue
            return target


class SpoolingUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for large uploads, but when the disk is full while one is spooled the
    partial spool file is removed, the field is remembered on the request (see
    ``add_storage_full_errors``) and the rest of the form is still read."""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        # A previous field's file belongs to request.FILES now: never close it here.
        vars(self).pop("file", None)
        try:
            super().new_file(
                field_name, file_name, content_type, content_length, charset, content_type_extra
            )
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._drop(exc)
            raise SkipFile() from exc

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        try:
            super().receive_data_chunk(raw_data, start)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._drop(exc)
            raise SkipFile() from exc
        return None

    def file_complete(self, file_size: int) -> UploadedFile[Any] | None:
        # Called between fields, where SkipFile is not caught: returning no file skips it.
        try:
            return super().file_complete(file_size)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._drop(exc)
            return None

    def _drop(self, exc: OSError) -> None:
        _warn(exc, settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
        spool = vars(self).pop("file", None)
        if spool is not None:
            with suppress(OSError):  # closing a NamedTemporaryFile removes it
                spool.close()
        if self.request is not None:
            refused: set[str] = getattr(self.request, _REFUSED_ATTR, set())
            refused.add(self.field_name)
            setattr(self.request, _REFUSED_ATTR, refused)


def refused_uploads(request: HttpRequest) -> set[str]:
    """The file fields of this request whose upload was dropped because the disk was full."""
    return set(getattr(request, _REFUSED_ATTR, set()))


def add_storage_full_errors(request: HttpRequest, form: Any) -> bool:
    """Put the storage-full message on every file field of ``form`` whose upload was dropped
    (the other fields are checked too, so the answer lists everything); True if any was."""
    refused = refused_uploads(request)
    if not refused:
        return False
    form.is_valid()
    if not hasattr(form, "cleaned_data"):  # an unbound form: nothing but the file was sent
        form.cleaned_data = {}
    for name in sorted(refused):
        target = name if name in form.fields else None
        # "This field is required" would mislead: the file came, there was no room for it.
        form.errors.pop(target, None)
        form.add_error(target, storage_full_message())
    return True
