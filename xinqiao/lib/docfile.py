"""Documents generated from code (so they cannot drift): write them, or check them in CI."""

from __future__ import annotations

from pathlib import Path


class StaleDocument(Exception):
    pass


def sync(path: Path, text: str, *, check: bool, command: str) -> str:
    """Write ``text`` to ``path``, or with ``check`` raise StaleDocument if it differs."""
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise StaleDocument(f"{path.name} is out of date: run `xinqiao {command}`")
        return f"{path.name} is up to date"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return f"wrote {path}"
