"""Lesson media: what an upload really is, how big it may be, and serving it in ranges.

Issue #8 bad input: "uploading a 2 GB video or a file that is not media (refused with a
message)". A request whose ``Content-Length`` says it is over the limit is refused before its
body is read (``too_large_request``); the real size is checked while the body streams in
(``MediaSizeLimitHandler``), so a lying header cannot get more than the limit onto the disk.
What the file is comes from its first bytes (magic numbers), never from its name or the
browser's content type. Media is served by ``content:media`` with HTTP range requests
(RFC 9110 §14) so a cheap phone can seek in a lesson without downloading it all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

MB = 1024 * 1024
# Room for the other form fields (title, transcript…) around the file in one request.
FORM_OVERHEAD = 2 * MB
SNIFF_BYTES = 64
CHUNK = 64 * 1024


def max_media_bytes() -> int:
    return int(settings.XINQIAO_MEDIA_MAX_MB) * MB


def too_large_request(request: HttpRequest) -> bool:
    """True when the declared body is bigger than a lesson upload may be (nothing read yet)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > max_media_bytes() + FORM_OVERHEAD


class MediaSizeLimitHandler(FileUploadHandler):
    """Stops the upload as soon as more than the limit has arrived (a lying Content-Length)."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > max_media_bytes():
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        self.received = 0
        return None


@dataclass(frozen=True)
class MediaType:
    kind: str  # "video" | "audio"
    content_type: str
    extension: str


def sniff(head: bytes) -> MediaType | None:
    """The media type of a file from its first bytes, or None if it is not media we serve."""
    if len(head) >= 12 and head[4:8] == b"ftyp":  # ISO base media: mp4, m4a, mov
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return MediaType("audio", "audio/mp4", "m4a")
        return MediaType("video", "video/mp4", "mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: webm or matroska
        if b"webm" in head[:SNIFF_BYTES]:
            return MediaType("video", "video/webm", "webm")
        return MediaType("video", "video/x-matroska", "mkv")
    if head[:4] == b"OggS":
        return MediaType("audio", "audio/ogg", "ogg")
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaType("audio", "audio/wav", "wav")
    if head[:3] == b"ID3":
        return MediaType("audio", "audio/mpeg", "mp3")
    if len(head) >= 2 and head[0] == 0xFF:
        second = head[1]
        if second & 0xF6 == 0xF0:  # ADTS AAC: 12-bit sync, layer 00
            return MediaType("audio", "audio/aac", "aac")
        # MPEG audio frame sync: 11 bits set, a valid version and a valid layer.
        if second & 0xE0 == 0xE0 and (second >> 3) & 0x3 != 1 and (second >> 1) & 0x3 != 0:
            return MediaType("audio", "audio/mpeg", "mp3")
    return None


def sniff_file(upload: Any) -> MediaType | None:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return sniff(head)


# --- serving ----------------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions for a single range ``bytes=a-b``, ``a-`` or ``-n``; None to
    send the whole file (no header, several ranges or a malformed one, which RFC 9110 lets a
    server ignore); ``Unsatisfiable`` when the range lies outside the file."""
    match = _RANGE.match((header or "").strip().replace(" ", ""))
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last n bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # invalid: ignore the header
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)


class BoundedFile:
    """Reads at most ``length`` bytes of ``handle`` from ``start`` (no seek/tell, so
    FileResponse does not measure it: the caller sets Content-Length)."""

    def __init__(self, handle: IO[bytes], start: int, length: int) -> None:
        self._handle = handle
        self._left = length
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk

    def close(self) -> None:
        self._handle.close()


def serve_media(request: HttpRequest, field_file: Any, content_type: str) -> HttpResponseBase:
    """The file, whole (200) or the requested range (206), streamed; 416 when unsatisfiable."""
    size = int(field_file.size)
    try:
        wanted = parse_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    handle = field_file.storage.open(field_file.name, "rb")
    first, last = wanted if wanted is not None else (0, size - 1)
    length = last - first + 1 if size else 0
    response = FileResponse(
        BoundedFile(handle, first, length),
        content_type=content_type,
        status=206 if wanted is not None else 200,
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    if wanted is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
