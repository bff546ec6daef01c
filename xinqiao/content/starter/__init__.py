"""The built-in starter set (issue #8 item 3): six self-help articles written for the platform
in Simplified Chinese and English — slow breathing, progressive muscle relaxation, sleep
habits, coping with isolation, grief and loss, talking to children about the epidemic.

One TOML file per article (``<slug>.toml``); the comment at the top of each names the practice
it is based on. Loaded by the data migration ``content/0002_starter_set`` (and by the demo),
idempotent by the ``builtin`` slug: an article already there — perhaps edited or withdrawn by
the city — is left as it is.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from xinqiao.content.models import join_codes
from xinqiao.content.sanitise import clean_html

STARTER_DIR = Path(__file__).resolve().parent
SLUGS = (
    "slow-breathing",
    "progressive-muscle-relaxation",
    "sleep-hygiene",
    "coping-with-isolation",
    "grief-and-loss",
    "talking-to-children",
)
TEXT_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en")


def read_starter() -> list[dict[str, Any]]:
    """The six articles as dictionaries, in the order of ``SLUGS``."""
    articles = []
    for slug in SLUGS:
        data = tomllib.loads((STARTER_DIR / f"{slug}.toml").read_text(encoding="utf-8"))
        if data["slug"] != slug:
            raise ValueError(f"{slug}.toml names itself {data['slug']}")
        articles.append(data)
    return articles


def ensure_starter_set(article_model: Any, *, now: datetime) -> int:
    """Create the missing built-in articles (published at ``now``); returns how many.
    ``article_model`` is the Article model (the historical one in the migration)."""
    existing = set(article_model.objects.exclude(builtin="").values_list("builtin", flat=True))
    created = 0
    for data in read_starter():
        if data["slug"] in existing:
            continue
        fields = {name: data[name].strip() for name in TEXT_FIELDS}
        fields["body_zh"] = clean_html(fields["body_zh"])
        fields["body_en"] = clean_html(fields["body_en"])
        article_model.objects.create(
            kind="article",
            unit=None,
            builtin=data["slug"],
            topics=join_codes(data["topics"]),
            groups=join_codes(data["groups"]),
            status="published",
            publish_at=now,
            **fields,
        )
        created += 1
    return created
