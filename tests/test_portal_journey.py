"""The portal end to end at phone size, as the public uses it (issue #8 "Done when").

A visitor scans a community's QR code (the entry URL it encodes), reads a lesson, takes a
self-assessment, gets a severe result, asks for a call-back — and the hotline operator sees the
request on the queue. A writer sends a message to the worry mailbox, a counsellor answers, and
the writer reads it with the reference code. axe-core checks every page on the way (no serious
or critical violation). Booking and the crisis path without JavaScript have their own browser
tests (tests/test_portal_booking.py, tests/test_portal_browser.py).
"""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
    sign_in,
)
from xinqiao.content.models import Article
from xinqiao.content.starter import ensure_starter_set
from xinqiao.hotline import mailbox_actions
from xinqiao.hotline.models import CallbackRequest, CallbackSource, MailboxMessage
from xinqiao.ops.demo import build_demo_city
from xinqiao.portal.qr import portal_url

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]
PHONE = {"width": 390, "height": 844}


def checked(page: Page, seen: list[str]) -> None:
    """axe-core on the page now shown, and nothing wider than the phone."""
    assert serious_accessibility_problems(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    seen.append(page.url)


@pytest.mark.django_db(transaction=True)
def test_scan_read_assess_severe_and_the_call_back_reaches_the_hotline_queue(
    live_server,
    browser,  # noqa: F811
):
    demo = build_demo_city()
    ensure_starter_set(Article, now=timezone.now())  # a transactional test starts empty
    unit = demo.communities[0]
    unit.service_phone = "0000-5550101"
    unit.save(update_fields=["service_phone"])
    seen: list[str] = []

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    # The URL the unit's QR code encodes (as the QR code page computes it for this host).
    host = live_server.url.split("//", 1)[1]
    entry = portal_url(RequestFactory().get("/", HTTP_HOST=host), unit)
    assert entry == f"{live_server.url}/p/{unit.pk}/"
    page.goto(entry)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_text(unit.name).first).to_be_visible()
    expect(page.locator('a[href="tel:12356"]').first).to_be_visible()
    expect(page.locator('a[href="tel:0000-5550101"]').first).to_be_visible()
    checked(page, seen)

    # A lesson: the built-in slow-breathing article, read to the end.
    page.locator(f'main a[href="/p/{unit.pk}/learn/"]').first.click()
    checked(page, seen)
    breathing = Article.objects.get(builtin="slow-breathing")
    page.locator(f'main a[href="/p/{unit.pk}/learn/{breathing.pk}/"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(breathing.title_zh)
    checked(page, seen)
    page.locator(f'form[action="/p/{unit.pk}/learn/{breathing.pk}/done"] button').click()
    checked(page, seen)

    # The self-assessment, from the home page: PHQ-9, every answer the most severe.
    page.goto(entry)
    page.locator(f'main a[href="/p/{unit.pk}/assess/"]').first.click()
    checked(page, seen)
    page.locator(f'main a[href="/p/{unit.pk}/assess/phq9/"]').first.click()
    checked(page, seen)
    page.locator('input[name="under_14"][value="no"]').check()
    page.locator('input[name="agree"]').check()
    page.locator('main form button[type="submit"]').click()
    # Nine symptom items and the (optional) difficulty item, one per screen.
    for number in range(1, 11):
        expect(page.locator('input[name="number"]')).to_have_value(str(number))
        if number == 1:
            checked(page, seen)
        page.locator('input[name="answer"]').last.check()
        page.locator('main form button.primary[type="submit"]').click()

    # The severe result: a call-back offered first and the hotline, never just a score.
    expect(page).to_have_url(re.compile(r"/assess/phq9/result/$"))
    callback_form = page.locator(f'form[action="/p/{unit.pk}/assess/phq9/callback/"]')
    expect(callback_form).to_be_visible()
    expect(page.locator('main a[href="tel:12356"]').first).to_be_visible()
    assert not re.search(r"\b27\b", page.locator("main").inner_text())  # no raw score shown
    checked(page, seen)
    callback_form.locator("#id_phone").fill("13800000000")
    callback_form.locator('button[type="submit"]').click()
    checked(page, seen)
    request = CallbackRequest.objects.get()
    assert request.source == CallbackSource.SELF_ASSESSMENT
    assert request.assessment is not None
    assert request.assessment.critical_items == [9]
    assert request.centre == demo.hotline
    phone.close()

    # The hotline operator on duty sees it on the call-back queue, and opens it.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff = desk.new_page()
    sign_in(staff, live_server.url, "hotline1")
    staff.goto(live_server.url + "/hotline/callbacks/")
    row = staff.locator(f'a[href="/hotline/callbacks/{request.pk}/"]')
    expect(row).to_be_visible()
    expect(staff.locator("main")).to_contain_text(unit.name)
    expect(staff.locator("main")).to_contain_text("自评结果之后")
    row.click()
    expect(staff.locator("main")).to_contain_text("13800000000")
    desk.close()
    assert len(seen) == 9


@pytest.mark.django_db(transaction=True)
def test_mailbox_round_trip_with_the_reference_code_at_phone_size(
    live_server,
    browser,  # noqa: F811
):
    demo = build_demo_city()
    unit = demo.communities[0]
    seen: list[str] = []
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/p/{unit.pk}/")
    page.locator('main a[href^="/mailbox/"]').first.click()
    checked(page, seen)
    page.locator('textarea[name="body"]').fill("最近总是睡不好，担心家里老人的身体。")
    page.locator('main form button[type="submit"]').click()
    code = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code), code
    checked(page, seen)
    message = MailboxMessage.objects.get()
    assert message.unit == unit

    # The community's counsellor answers.
    mailbox_actions.answer(
        acting_user=demo.users["c1_counsellor"],
        message=message,
        body="谢谢你写信来。睡不好的时候，可以先试试慢呼吸；也欢迎预约我们面谈。",
    )

    # Back on the phone: the code opens the thread with the answer.
    page.goto(f"{live_server.url}/p/{unit.pk}/")
    page.locator('main a[href^="/mailbox/"]').first.click()
    page.locator('main a[href="/mailbox/reply/"]').click()
    checked(page, seen)
    page.locator('input[name="code"]').fill(code.lower())
    page.locator('main form button[type="submit"]').click()
    expect(page.locator("main")).to_contain_text("可以先试试慢呼吸")
    expect(page.locator("main")).to_contain_text("最近总是睡不好")
    checked(page, seen)
    phone.close()


@pytest.mark.django_db(transaction=True)
def test_every_other_portal_page_passes_axe_at_phone_size(
    live_server,
    browser,  # noqa: F811
):
    """The pages the journeys above do not pass through: the city portal, the fallback of a
    deactivated unit, an unknown code, senior mode, lessons by topic, my page's sign-in and
    code pages, booking's list, the mailbox's code page."""
    demo = build_demo_city()
    ensure_starter_set(Article, now=timezone.now())
    unit, closed = demo.communities[0], demo.communities[1]
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    base = live_server.url
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = phone.new_page()
    seen: list[str] = []

    page.goto(f"{base}/p/")
    expect(page).to_have_url(f"{base}/p/{demo.city.pk}/")
    checked(page, seen)
    page.goto(f"{base}/p/{closed.pk}/")
    expect(page).to_have_url(f"{base}/p/{demo.city.pk}/?moved=1")
    expect(page.locator(".notice").first).to_be_visible()
    checked(page, seen)
    response = page.goto(f"{base}/p/no-such-unit/")
    assert response is not None
    assert response.status == 404
    expect(page.locator('a[href="tel:12356"]').first).to_be_visible()
    checked(page, seen)

    page.goto(f"{base}/p/{unit.pk}/learn/?topic=sleep")
    checked(page, seen)
    # Senior mode: larger text, still no horizontal scrolling.
    page.locator(f'form[action="/p/{unit.pk}/text-size"] button').first.click()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    checked(page, seen)

    page.goto(f"{base}/p/{unit.pk}/book/")
    checked(page, seen)
    page.goto(f"{base}/p/{unit.pk}/me/")
    checked(page, seen)
    page.locator('input[name="phone"]').fill("13900000002")
    page.locator('input[name="phone"]').press("Enter")
    expect(page).to_have_url(re.compile(r"/me/code/"))
    checked(page, seen)
    page.goto(f"{base}/mailbox/reply/")
    checked(page, seen)
    phone.close()


@pytest.mark.django_db(transaction=True)
def test_focus_order_and_text_at_200_percent_on_a_phone(
    live_server,
    browser,  # noqa: F811
):
    """Keyboard focus follows the page (skip link, the phones, the switches, "I need help
    now" before everything else), is visible, and text enlarged to 200 % still fits the
    phone's width with nothing cut off (WCAG 2.2 SC 2.4.3, 2.4.7, 1.4.4)."""
    demo = build_demo_city()
    ensure_starter_set(Article, now=timezone.now())
    unit = demo.communities[0]
    unit.service_phone = "0000-5550101"
    unit.save(update_fields=["service_phone"])
    phone = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = phone.new_page()
    home = f"{live_server.url}/p/{unit.pk}/"
    page.goto(home)
    order = []
    for _n in range(12):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.getAttribute('href') || e.tagName.toLowerCase(); }"
            )
        )
        outline = page.evaluate(
            "() => getComputedStyle(document.activeElement).outlineStyle"
            " + getComputedStyle(document.activeElement).boxShadow"
        )
        assert outline not in ("nonenone", "none"), order[-1]  # a visible focus indicator
    assert order[:5] == ["#main", "tel:0000-5550101", "tel:12356", "tel:110", "tel:120"]
    help_at = order.index(f"/p/{unit.pk}/help/")
    assert all(not str(o).startswith(f"/p/{unit.pk}/assess") for o in order[:help_at])

    # Text at 200 % (the browser's font-size setting scales rem-based sizes).
    for path in ("", "help/", "learn/", "assess/", "assess/phq9/", "me/"):
        page.goto(home + path)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        big = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert big >= 30, (path, big)  # 16 px × 2, give or take the page's own scale
    phone.close()
