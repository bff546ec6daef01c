"""The platform's one call into text triage: the pure core with jieba's dictionary cached
under the data directory (DESIGN.md: "cache under the data dir")."""

from __future__ import annotations

from django.conf import settings

from xinqiao.hotline.triage import Triage, triage


def triage_text(text: str) -> Triage:
    return triage(text, cache_dir=str(settings.DATA_DIR / "jieba"))
