"""Logging a hotline call with the keyboard alone, in a real browser (issue #7 "Done when":
the form is driven without the mouse; timed steps are not asserted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
    sign_in,
)
from xinqiao.hotline.models import Call, HotlineTraining
from xinqiao.ops.demo import build_demo_city
from xinqiao.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]


def tab_to(page, element_id: str, limit: int = 40) -> None:
    for _n in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


@pytest.mark.django_db(transaction=True)
def test_operator_logs_a_high_risk_call_with_the_keyboard_alone(live_server, browser):  # noqa: F811
    demo = build_demo_city()
    operator = demo.users["hotline1"]
    HotlineTraining.objects.create(
        operator=operator,
        centre=demo.hotline,
        course="新冠肺炎疫情应对心理援助培训",
        completed_on=timezone.localdate() - timedelta(days=30),
    )
    caller = Person.objects.create(unit=demo.hotline, name="测试来电丙", sex="female")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "hotline1")
    page.goto(live_server.url + "/hotline/calls/new/")
    assert serious_accessibility_problems(page) == []
    page.goto(live_server.url + "/hotline/calls/new/")
    timer = page.locator("#call-timer")
    expect(timer).to_have_text("00:00")
    keys = page.keyboard

    # Autofocus on the first field: who is calling; number keys choose in a group.
    expect(page.locator("#f-caller_type-1")).to_be_focused()
    keys.press("1")  # the person themself
    keys.press("Tab")
    keys.press("2")  # sex: female
    keys.press("Tab")
    keys.press("4")  # age band 18–24
    tab_to(page, "problem-filter")
    # Type to filter the taxonomy; Enter ticks the first match.
    keys.type("sleep")
    expect(page.locator("#problem-list label:not([hidden])")).to_have_count(1)
    keys.press("Enter")
    keys.type("crisis")
    keys.press("Enter")
    # ↓ walks the list; Space ticks.
    keys.type("fear_of")
    keys.press("ArrowDown")
    keys.press("Space")
    keys.press("Escape")
    expect(page.locator("#problem-filter")).to_be_focused()
    # The suicide-risk questions: Space ticks the focused one, a digit ticks the n-th.
    keys.press("Tab")
    expect(page.locator("#f-risk_wish_dead")).to_be_focused()
    keys.press("Space")
    keys.press("2")  # thoughts of killing themself
    keys.press("4")  # intends to act
    expect(page.locator("#answers-level")).not_to_have_text("")
    tab_to(page, "f-notes")
    keys.type("来电者情绪低落，已进行危机干预。")
    # Link the call to a file: search, Enter picks the first result.
    tab_to(page, "person-search")
    keys.type("来电丙")
    keys.press("Enter")
    first = page.locator("#person-results input[type=radio]").first
    expect(first).to_be_checked()
    expect(first).to_be_focused()
    # Ctrl+Enter saves from anywhere in the form.
    keys.press("Control+Enter")
    page.wait_for_url("**/hotline/calls/*/?logged=1")

    call = Call.objects.get()
    assert call.operator == operator
    assert (call.caller_type, call.caller_sex, call.age_band) == ("self", "female", "18_24")
    assert set(call.problems.values_list("code", flat=True)) == {
        "body.sleep",
        "crisis",
        "fear_of_infection",
    }
    assert (call.risk_wish_dead, call.risk_ideation, call.risk_method, call.risk_intent) == (
        True,
        True,
        False,
        True,
    )
    assert call.risk == "high"
    assert call.notes == "来电者情绪低落，已进行危机干预。"
    assert call.person == caller
    assert call.alert is not None
    assert call.alert.person == caller
    expect(page.locator(f"a[href='/risk/alerts/{call.alert.pk}/']")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(call.reference)
    assert serious_accessibility_problems(page) == []
    for path in ("/hotline/calls/", "/hotline/roster/"):
        page.goto(live_server.url + path)
        assert serious_accessibility_problems(page) == [], path
    context.close()
