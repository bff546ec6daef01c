"""Education staff pages in a real browser (issue #8 item 3): an editor uploads an audio lesson
through the form, publishes it, plays it with a range request; axe-core finds no serious or
critical problem on the list, the form, the preview and the statistics pages."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
    sign_in,
)
from tests.test_content import wav_bytes
from xinqiao.content import public
from xinqiao.content.models import Article, Kind, Status
from xinqiao.content.starter import ensure_starter_set
from xinqiao.ops.demo import build_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]


@pytest.mark.django_db(transaction=True)
def test_editor_uploads_publishes_and_plays_a_lesson(live_server, browser):  # noqa: F811
    demo = build_demo_city()
    ensure_starter_set(Article, now=timezone.now())  # a transactional test starts empty
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "c1_worker")
    page.goto(live_server.url + "/content/")
    expect(page.locator("#article-list")).to_be_visible()
    assert serious_accessibility_problems(page) == []

    page.goto(live_server.url + "/content/new/lesson")
    assert serious_accessibility_problems(page) == []
    page.locator("#id_title_zh").fill("睡前五分钟")
    page.locator("#id_transcript_zh").fill("请躺好，慢慢吸气，再慢慢呼气。")
    page.locator("input[name=topics][value=sleep]").check()
    page.locator("#id_media_file").set_input_files(
        {"name": "睡前.wav", "mimeType": "audio/wav", "buffer": wav_bytes()}
    )
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.locator("#article-status")).to_be_visible()
    lesson = Article.objects.get(title_zh="睡前五分钟")
    assert lesson.kind == Kind.LESSON
    assert lesson.media_kind == "audio"
    assert serious_accessibility_problems(page) == []

    page.locator(f"form[action='/content/{lesson.pk}/publish'] button").click()
    expect(page.locator("#article-status")).to_be_visible()
    lesson.refresh_from_db()
    assert lesson.status == Status.PUBLISHED
    assert lesson in public.published_for(demo.communities[0])
    expect(page.locator("audio")).to_have_attribute("src", f"/content/media/{lesson.pk}")

    # Anyone may fetch a published lesson's media, in ranges.
    anonymous = browser.new_context().request
    partial = anonymous.get(
        live_server.url + f"/content/media/{lesson.pk}", headers={"Range": "bytes=0-3"}
    )
    assert partial.status == 206
    assert partial.body() == b"RIFF"
    assert partial.headers["content-range"] == f"bytes 0-3/{len(wav_bytes())}"

    public.record_view(article=lesson, unit=demo.communities[0])
    for url in (f"/content/{lesson.pk}/stats", "/content/stats"):
        page.goto(live_server.url + url)
        assert serious_accessibility_problems(page) == [], url
