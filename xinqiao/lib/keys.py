"""Key files for the embedded default.

In the embedded default the Django secret key and the data-encryption key are generated on
first run into ``<data dir>/keys/`` with mode 0600 (DESIGN.md "Data and privacy"). In
production they must come from the environment; ``settings.py`` refuses to start otherwise.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def read_or_create_key_file(path: Path, *, nbytes: int = 32) -> str:
    """Return the key stored in ``path``, creating it (0600, url-safe base64) if absent.

    The file is created with ``O_EXCL`` so two processes starting at once cannot each write a
    different key: the loser reads the winner's file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode("ascii")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise ValueError(f"key file {path} is empty")
    return value


def file_mode(path: Path) -> int:
    """Permission bits of ``path`` (for checks and tests)."""
    return path.stat().st_mode & 0o777
