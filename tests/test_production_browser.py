"""The Content-Security-Policy in a real browser (issue #10 item 1): the pages that run scripts
still work under it, none reports a violation, and an injected inline script is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.test_browser import browser, sign_in  # noqa: F401 -- the browser fixture
from xinqiao.hotline.models import HotlineTraining
from xinqiao.ops.demo import build_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]

# Runs before any page script, through the DevTools protocol (not governed by the page's CSP).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def violations(page: Page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__csp"), *console]


@pytest.mark.django_db(transaction=True)
def test_pages_with_scripts_work_under_the_policy(live_server, browser):  # noqa: F811
    demo = build_demo_city()
    HotlineTraining.objects.create(  # the call form is for trained operators
        operator=demo.users["hotline1"],
        centre=demo.hotline,
        course="热线心理援助培训",
        completed_on=timezone.localdate() - timedelta(days=30),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    seen: list[str] = []

    def visit(path: str) -> None:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        seen.append(path)
        assert violations(page, console) == [], path

    # The API viewer starts from a script file of its own (the split view, xinqiao/urls.py).
    visit("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    visit("/p/")
    sign_in(page, live_server.url, "hotline1")
    visit("/")
    # The call form's script (xinqiao/static/xinqiao/call_form.js) runs: its timer ticks.
    visit("/hotline/calls/new/")
    expect(page.locator("#call-timer")).to_have_text("00:01", timeout=3000)
    expect(page.locator("#f-caller_type-1")).to_be_focused()

    # The policy is really there: a script injected into the page does not run.
    ran = page.evaluate(
        """() => { window.__ran = false; const s = document.createElement("script");
        s.textContent = "window.__ran = true"; document.body.append(s); return window.__ran; }"""
    )
    assert ran is False
    page.wait_for_function("window.__csp.length > 0")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
    context.close()
