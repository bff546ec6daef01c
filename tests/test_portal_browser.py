"""The portal's own pages in a real browser at phone size (issue #8 "Done when": 390 × 844;
axe-core finds no serious or critical problem; the crisis path works with JavaScript off)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
)
from xinqiao.content import actions as content
from xinqiao.content.actions import ArticleText
from xinqiao.content.demo import silent_wav
from xinqiao.content.models import Kind
from xinqiao.hotline.models import CallbackRequest
from xinqiao.ops.demo import build_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]
PHONE = {"width": 390, "height": 844}


@pytest.mark.django_db(transaction=True)
def test_portal_pages_pass_axe_and_the_crisis_path_works_without_javascript(
    live_server,
    browser,  # noqa: F811
):
    demo = build_demo_city()
    unit = demo.communities[0]
    unit.service_phone = "0000-5550101"
    unit.save(update_fields=["service_phone"])
    counsellor = demo.users["c1_counsellor"]
    lesson = content.create_article(
        acting_user=counsellor,
        unit=unit,
        kind=Kind.LESSON,
        text=ArticleText(title_zh="呼吸放松", transcript_zh="慢慢吸气，慢慢呼气。"),
        media=SimpleUploadedFile("calm.wav", silent_wav(seconds=1), content_type="audio/wav"),
    )
    content.publish_article(acting_user=counsellor, article=lesson)
    base = f"{live_server.url}/p/{unit.pk}/"

    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    for path in ("", "help/", "help/sent/", "learn/", f"learn/{lesson.pk}/"):
        page.goto(base + path)
        assert serious_accessibility_problems(page) == [], path
        # Nothing wider than the phone (no horizontal scrolling at 390 px).
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    context.close()

    no_js = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = no_js.new_page()
    page.goto(base)
    page.click("a.help-now, a.button.danger.big")
    assert page.url == base + "help/"
    page.fill("#id_phone", "13800000000")
    page.fill("#id_note", "睡不着，很害怕")
    page.click("form[aria-labelledby=callback-title] button[type=submit]")
    assert page.url == base + "help/sent/"
    assert page.locator('a[href="tel:110"]').count() >= 1
    assert CallbackRequest.objects.filter(unit=unit).count() == 1
    no_js.close()
