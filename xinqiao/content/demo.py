"""Demo education content (generated data, issue #8): the starter set, a few local articles and
lessons — one lesson with a link only, one with a tiny generated silent WAV — and some view
and completion counts over the last weeks. The lead wires ``add_demo_content`` into the demo.
"""

from __future__ import annotations

import io
import random
import wave
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xinqiao.content import actions
from xinqiao.content.actions import ArticleText
from xinqiao.content.models import Article, ArticleStat, Kind, Topic
from xinqiao.content.starter import ensure_starter_set
from xinqiao.orgs.models import Unit


def silent_wav(seconds: int = 3, rate: int = 8000) -> bytes:
    """A short silent mono WAV made here (no recording of anyone)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * rate * seconds)  # 8-bit PCM silence
    return buffer.getvalue()


def add_demo_content(city: Unit, units: Sequence[Unit], author: Any) -> list[Article]:
    """Local demo articles for ``units`` (communities) written by ``author`` (an editor whose
    scope covers them, e.g. the city administrator), published; plus demo counters."""
    ensure_starter_set(Article, now=timezone.now())
    rng = random.Random(8)  # noqa: S311 -- reproducible demo data, not security
    made: list[Article] = []
    for unit in units[:2]:
        article = actions.create_article(
            acting_user=author,
            unit=unit,
            kind=Kind.ARTICLE,
            text=ArticleText(
                title_zh=f"{unit.name}心理服务指南",
                title_en=f"Psychological services in {unit.name}",
                summary_zh="社区心理咨询室在哪里、什么时候开放、怎样预约。（演示数据）",
                summary_en=(
                    "Where the community counselling room is, when it opens, how to book. "
                    "(Demo data)"
                ),
                body_zh=(
                    "<p>社区心理咨询室每周一、三、五开放，可以在本页面预约，也可以直接打电话。"
                    "（演示数据）</p>"
                ),
                body_en=(
                    "<p>The community counselling room opens on Mondays, Wednesdays and Fridays. "
                    "Book on this page or call. (Demo data)</p>"
                ),
                topics=[Topic.ANXIETY],
                groups=["general_public"],
            ),
        )
        made.append(article)
    lesson_unit = units[0] if units else city
    made.append(
        actions.create_article(
            acting_user=author,
            unit=city,
            kind=Kind.LESSON,
            text=ArticleText(
                title_zh="五分钟放松练习（外部视频，演示）",
                title_en="Five-minute relaxation (external video, demo)",
                summary_zh="跟着视频一起做呼吸放松。",
                summary_en="Follow the video for a breathing exercise.",
                transcript_zh="请坐好，慢慢吸气，数到四；停一下；再慢慢呼气，数到六。重复五次。",
                transcript_en=(
                    "Sit comfortably. Breathe in slowly to four, pause, breathe out to six. "
                    "Repeat five times."
                ),
                link_url="https://example.org/xinqiao-demo/relaxation",
                duration_minutes=5,
                topics=[Topic.RELAXATION],
                groups=["general_public"],
            ),
        )
    )
    made.append(
        actions.create_article(
            acting_user=author,
            unit=lesson_unit,
            kind=Kind.LESSON,
            text=ArticleText(
                title_zh="安静一分钟（音频，演示）",
                title_en="One quiet minute (audio, demo)",
                summary_zh="一段很短的安静音频，用来试听播放器。",
                summary_en="A very short quiet recording to try the player.",
                transcript_zh="（这段音频是安静的，没有讲话。）",
                transcript_en="(This recording is silent; nobody speaks.)",
                duration_minutes=1,
                topics=[Topic.RELAXATION, Topic.SLEEP],
                groups=["general_public"],
            ),
            media=SimpleUploadedFile("quiet.wav", silent_wav(), content_type="audio/wav"),
        )
    )
    now = timezone.now()
    for article in made:
        actions.publish_article(acting_user=author, article=article, now=now - timedelta(days=20))
    shown = [*made, *Article.objects.exclude(builtin="")]
    today = timezone.localdate()
    stats = []
    for article in shown:
        for unit in units:
            for back in range(0, 20, 3):
                views = rng.randint(0, 12)
                stats.append(
                    ArticleStat(
                        article=article,
                        unit=unit,
                        day=today - timedelta(days=back),
                        views=views,
                        completions=rng.randint(0, views),
                    )
                )
    ArticleStat.objects.bulk_create(stats, ignore_conflicts=True)
    return made
