"""The UI shell in a real browser: Debian's Chromium driven by Playwright (issue #2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from xinqiao.ops.demo import DEMO_PASSWORD, build_demo_city

CHROMIUM = "/usr/bin/chromium"
# axe-core (MPL-2.0, vendored from the npm registry) checks the pages for WCAG problems.
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def serious_accessibility_problems(page: Page) -> list[str]:
    """Violations of impact "serious" or "critical" found by axe-core on the current page."""
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does
    # not govern; an added <script> tag would be an inline script and refused (settings.py).
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}×)"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_community_worker_in_chinese_sees_only_their_community(live_server, browser):
    demo = build_demo_city()
    own, other = demo.communities[0], demo.communities[1]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server.url, "c1_worker")

    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作台")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="组织架构").click()
    tree = page.get_by_role("tree")
    expect(tree).to_contain_text(own.name)
    expect(tree).to_contain_text("第一网格")
    expect(tree).not_to_contain_text(other.name)
    expect(tree).not_to_contain_text(demo.city.name)

    # A unit of another community is "not found", exactly like one that does not exist.
    response = page.goto(f"{live_server.url}/org/units/{other.pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main")).not_to_contain_text(other.name)

    # Phone width: the page reflows instead of scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/org/units/{own.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(own.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # No serious accessibility problems on the pages of the shell, at either width.
    for path in (
        "/",
        "/org/units/",
        f"/org/units/{own.pk}/",
        "/org/staff/",
        "/org/teams/",
        "/accounts/me/",
    ):
        page.goto(live_server.url + path)
        assert serious_accessibility_problems(page) == [], path

    # English is one switch away and stays for the session.
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Workbench")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_sign_in_and_second_factor_pages_are_accessible(live_server, browser):
    build_demo_city()
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page.goto(live_server.url + "/accounts/login/")
    assert serious_accessibility_problems(page) == []
    sign_in(page, live_server.url, "city_admin")
    # An administrator lands on the TOTP enrolment page and nowhere else.
    expect(page).to_have_url(live_server.url + "/accounts/2fa/setup/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("双因素验证")
    assert serious_accessibility_problems(page) == []
    page.goto(live_server.url + "/org/units/")
    expect(page).to_have_url(live_server.url + "/accounts/2fa/setup/")


@pytest.mark.django_db(transaction=True)
def test_register_a_person_in_chinese_find_by_id_and_see_the_timeline(live_server, browser):
    from datetime import date

    from tests.people_data import resident_id

    build_demo_city()
    number = resident_id(date(1985, 3, 9), 42)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sign_in(page, live_server.url, "c1_counsellor")
    page.goto(live_server.url + "/people/")
    page.locator('a[href="/people/new/"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("登记")
    page.locator("#id_unit").select_option(label="春晖社区 · 社区（村）")
    page.locator("#id_name").fill("浏览器测试")
    page.locator("#id_id_number").fill(number)
    page.locator("#id_phone").fill("170 0000 0042")
    page.locator('input[name="groups"][value="close_contact"]').check()
    page.locator("button.primary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("浏览器测试")
    expect(page.locator("main")).to_contain_text("1985-03-09")  # taken from the ID number
    expect(page.locator("main")).to_contain_text("第2级")

    # Find the file again by its ID number (exact, through the blind index).
    page.goto(live_server.url + "/people/")
    page.locator("#id_lookup").fill(number.lower())
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**/people/?s=*")  # the search is posted: the number is in no URL
    assert number.lower() not in page.url
    page.get_by_role("link", name="浏览器测试").click()
    timeline = page.locator("#timeline + ol.timeline li")
    expect(timeline).to_have_count(2)  # registered, then the target group
    expect(timeline.first).to_contain_text("密切接触者")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("link", name="完整时间线").click()
    expect(page.locator("ol.timeline li")).to_have_count(2)


@pytest.mark.django_db(transaction=True)
def test_phq9_on_a_phone_through_a_qr_link_resumes_and_reaches_the_staff_file(live_server, browser):
    from datetime import date

    from tests.people_data import resident_id
    from xinqiao.assessments.printing import qr_svg
    from xinqiao.people import actions

    demo = build_demo_city()
    counsellor = demo.users["c1_counsellor"]
    person = actions.register_person(
        acting_user=counsellor,
        unit=demo.communities[0],
        name="扫码测评",
        id_number=resident_id(date(1990, 6, 1), 77),
    )

    # Staff: send a link from the file; the page shows its QR code and the link itself.
    staff = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sign_in(staff, live_server.url, "c1_counsellor")
    staff.goto(f"{live_server.url}/people/{person.pk}/")
    staff.get_by_role("link", name="发送自评链接").click()
    staff.get_by_label("量表").select_option("phq9")
    staff.locator("button.primary").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("自评链接")
    link = staff.locator("#link").input_value()
    assert link.startswith(live_server.url + "/s/")
    # The QR code on the page (as the server sent it) encodes this very link.
    assert qr_svg(link) in staff.request.get(staff.url).text()
    assert serious_accessibility_problems(staff) == []

    # The person, on a phone, in Chinese.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    expect(page.locator("main")).to_contain_text("自愿")
    assert serious_accessibility_problems(page) == []
    page.get_by_label("我已阅读以上内容，同意参加。").check()
    page.get_by_role("button", name="开始").click()

    answers = ["好几天", "一半以上的天数", "好几天", "一半以上的天数", "好几天", "好几天"]
    for number, answer in enumerate(answers, start=1):
        expect(page.locator("#progress-label")).to_have_text(f"第 {number} 题，共 10 题")
        if number == 1:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert serious_accessibility_problems(page) == []
        page.get_by_label(answer).check()
        page.get_by_role("button", name="下一题").click()
        if number == 4:
            # The fifth question is on screen (the fourth answer is saved) before the page is
            # closed and opened again; it resumes where it was.
            expect(page.locator("#progress-label")).to_have_text("第 5 题，共 10 题")
            page.goto(page.url)
            expect(page.locator("#progress-label")).to_have_text("第 5 题，共 10 题")
    for answer in ("一半以上的天数", "好几天", "好几天"):
        page.get_by_label(answer).check()
        page.get_by_role("button", name="下一题").click()
    expect(page.locator("#progress-label")).to_have_text("第 10 题，共 10 题")
    page.get_by_role("button", name="跳过此题").click()

    # The result page: kind, no clinical label after a critical item, the hotline number.
    expect(page.get_by_role("heading", level=1)).to_contain_text("谢谢")
    expect(page.locator("main")).to_contain_text("12356")
    expect(page.locator("main")).not_to_contain_text("中度")
    assert serious_accessibility_problems(page) == []
    phone.close()

    # Staff: the result is on the file, and its page shows the score and the critical item.
    staff.goto(f"{live_server.url}/people/{person.pk}/")
    row = staff.locator("#assessments + table tbody tr").first
    expect(row).to_contain_text("PHQ9")
    expect(row).to_contain_text("12")
    row.get_by_role("link").click()
    expect(staff.locator("main")).to_contain_text("中度")
    expect(staff.locator("tr.critical")).to_contain_text("有不如死掉")
    assert serious_accessibility_problems(staff) == []


@pytest.mark.django_db(transaction=True)
def test_crisis_path_from_a_self_assessment_to_the_hospital_and_back(live_server, browser):
    """PHQ-9 item 9 = 3 on a phone → the counsellor's workbench shows the alert → acknowledge
    → refer to the hospital → the hospital accepts → the community sees it (issue #5)."""
    from datetime import date

    from django.utils import timezone

    from tests.people_data import resident_id
    from xinqiao.assessments.actions import invite_person
    from xinqiao.people import actions

    demo = build_demo_city()
    counsellor = demo.users["c1_counsellor"]
    person = actions.register_person(
        acting_user=counsellor,
        unit=demo.communities[0],
        name="危机路径",
        id_number=resident_id(date(1991, 2, 3), 88),
    )
    actions.give_consent(
        acting_user=counsellor,
        person=person,
        purpose="data_sharing_hospital",
        given_by="self",
        method="signed_paper",
        given_on=timezone.localdate(),
    )
    link = invite_person(acting_user=counsellor, person=person, instrument="phq9")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    page.goto(f"{live_server.url}/s/{link.token}/")
    page.get_by_label("我已阅读以上内容，同意参加。").check()
    page.get_by_role("button", name="开始").click()
    for number in range(1, 10):
        expect(page.locator("#progress-label")).to_have_text(f"第 {number} 题，共 10 题")
        page.get_by_label("几乎每天" if number == 9 else "好几天").check()
        page.get_by_role("button", name="下一题").click()
    page.get_by_role("button", name="跳过此题").click()
    expect(page.locator("main")).to_contain_text("12356")
    phone.close()

    staff = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sign_in(staff, live_server.url, "c1_counsellor")
    alerts = staff.locator("#open-alerts")
    expect(alerts).to_contain_text("危机路径")
    expect(alerts).to_contain_text("风险1级")
    assert serious_accessibility_problems(staff) == []
    alerts.get_by_role("link", name="危机路径").click()
    staff.locator("form[action$='/acknowledge/'] button").click()
    expect(staff.locator("main")).to_contain_text(counsellor.name)
    staff.locator("a[href*='/referrals/people/']").click()
    staff.locator("#id_kind").select_option("admission")
    staff.locator("#id_to_unit").select_option(label="心桥市第一人民医院")
    staff.locator("#id_urgency").select_option("emergency")
    staff.locator("#id_reason").fill("PHQ-9 第9题几乎每天，已面谈，建议住院评估")
    staff.locator("#id_contact_phone").fill("17000000001")
    staff.locator("form button.primary").click()
    referral_url = staff.url
    assert "/referrals/" in referral_url

    hospital = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    doctor = hospital.new_page()
    sign_in(doctor, live_server.url, "doctor1")
    doctor.goto(live_server.url + "/referrals/")
    doctor.locator("tr", has_text="危机路径").get_by_role("link").first.click()
    doctor.locator("form[action$='/accept/'] button").click()
    assert serious_accessibility_problems(doctor) == []
    # The hospital sees the referral but not the person's file.
    response = doctor.goto(f"{live_server.url}/people/{person.pk}/")
    assert response is not None
    assert response.status == 404
    hospital.close()

    # The community sees the hospital's answer on the file and on the alert.
    staff.goto(f"{live_server.url}/people/{person.pk}/")
    expect(staff.locator("main")).to_contain_text("心桥市第一人民医院")
    expect(staff.locator("#timeline + ol.timeline")).to_contain_text("转介")
    staff.goto(referral_url)
    expect(staff.locator("main")).to_contain_text(demo.users["doctor1"].name)


@pytest.mark.django_db(transaction=True)
def test_availability_booking_on_a_phone_session_and_the_next_follow_up(live_server, browser):
    """Issue #6: a counsellor publishes availability, the person books from a phone-sized
    page, the counsellor sees it, records the session, and the follow-up plan shows the next
    due date."""
    from datetime import date, datetime, time, timedelta

    import time_machine
    from django.utils import timezone

    from tests.people_data import phone, resident_id
    from xinqiao.followups.models import FollowUpPlan
    from xinqiao.people import actions as people_actions

    demo = build_demo_city()
    counsellor = demo.users["c1_counsellor"]
    person = people_actions.register_person(
        acting_user=counsellor,
        unit=demo.communities[0],
        name="预约浏览器",
        id_number=resident_id(date(1979, 5, 6), 61),
        phone=phone(61),
    )
    people_actions.give_consent(
        acting_user=counsellor,
        person=person,
        purpose="counselling",
        given_by="self",
        method="signed_paper",
        given_on=timezone.localdate(),
    )
    tomorrow = timezone.localdate() + timedelta(days=1)

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    sign_in(page, live_server.url, "c1_counsellor")
    page.goto(live_server.url + "/booking/availability/")
    page.locator('select[name="windows-0-weekday"]').select_option(str(tomorrow.weekday()))
    page.locator('input[name="windows-0-start"]').fill("09:00")
    page.locator('input[name="windows-0-end"]').fill("12:00")
    page.locator('input[name="windows-0-location"]').fill("社区心理室")
    page.get_by_role("button", name="发布每周接诊时间").click()
    expect(page.locator("main")).to_contain_text("已保存")

    page.goto(f"{live_server.url}/people/{person.pk}/")
    page.get_by_role("link", name="发送预约链接").click()
    page.get_by_role("button", name="生成预约链接").click()
    link = page.get_by_label("预约链接").input_value()
    path = link[link.index("/booking/p/") :]

    # The person, on a phone, without signing in.
    mobile = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone_page = mobile.new_page()
    phone_page.goto(live_server.url + path)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("预约心理咨询")
    phone_page.locator("ul.slots a").first.click()
    expect(phone_page.locator("main")).to_contain_text(f"{tomorrow:%Y-%m-%d}")
    phone_page.get_by_role("button", name="预约这个时间").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("预约成功")
    expect(phone_page.locator("main")).to_contain_text("09:00")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width}px)"
    assert serious_accessibility_problems(phone_page) == []

    # The counsellor sees the booking in their appointments.
    page.goto(live_server.url + "/booking/")
    expect(page.locator("main")).to_contain_text("预约浏览器")

    # After the appointment has begun: record the session from it.
    zone = timezone.get_current_timezone()
    with time_machine.travel(datetime.combine(tomorrow, time(10, 0), tzinfo=zone), tick=True):
        later = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = later.new_page()
        sign_in(page, live_server.url, "c1_counsellor")
        page.goto(live_server.url + "/booking/")
        page.get_by_role("row", name="预约浏览器").get_by_role("link", name="09:00–09:50").click()
        page.get_by_role("link", name="记录本次疏导").click()
        page.get_by_label("基本情况").fill("因隔离期间失眠求助")
        page.get_by_label("自我评价").fill("感觉压力大")
        page.get_by_label("导致心理挫折的生活事件").fill("家人住院")
        page.get_by_label("心理辅导建议").fill("放松训练，一周后复谈")
        page.locator("main form button.primary").click()
        expect(page.locator("main")).to_contain_text("疏导已记录")

        plan = FollowUpPlan.objects.get(person=person)
        assert plan.last_contact_on == tomorrow
        page.goto(f"{live_server.url}/people/{person.pk}/")
        section = page.locator("#followup + p")
        expect(section).to_contain_text(f"{plan.next_due:%Y-%m-%d}")
        assert plan.next_due == tomorrow + timedelta(days=plan.interval_days)
        later.close()
    mobile.close()
    desk.close()
