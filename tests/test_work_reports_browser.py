"""A street administrator in a real browser (issue #9 "Done when"): opens the street's
dashboard, switches the period, goes to the work reports, opens a community's monthly report,
downloads its PDF (Chinese text checked in the file), and marks it read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401 -- the browser fixture
    browser,
    serious_accessibility_problems,
    sign_in,
)
from tests.test_work_reports import pdf_text
from xinqiao.ops.demo import build_demo_city
from xinqiao.ops.jobs import wait_until_done
from xinqiao.reports import periods, work_actions
from xinqiao.reports.work_models import WorkReport, WorkReportStatus
from xinqiao.test import confirmed_device

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]


@pytest.mark.django_db(transaction=True)
def test_street_admin_reads_a_community_monthly_report(live_server, browser):  # noqa: F811
    demo = build_demo_city()
    street, community = demo.streets[0], demo.communities[0]
    worker, admin = demo.users["c1_worker"], demo.users["s1_admin"]
    today = timezone.localdate()
    last_month = periods.month_of(today.replace(day=1) - timedelta(days=1))

    # The community's worker made and submitted last month's report (the server side).
    report = work_actions.request_report(
        unit=community, kind="monthly", day=last_month.start, user=worker
    )
    wait_until_done(timeout=60)
    report.refresh_from_db()
    assert report.status == WorkReportStatus.READY, report.error
    work_actions.save_account(report=report, user=worker, account="本月开展心理健康讲座两场。")
    work_actions.submit(report=report, user=worker)

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    device = confirmed_device(admin)
    sign_in(page, live_server.url, "s1_admin")
    page.wait_for_url("**/accounts/2fa/verify/**")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("验证器").fill(f"{code:06d}")
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作台")

    # The street's dashboard, then last month.
    page.goto(f"{live_server.url}/reports/units/{street.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(street.name)
    page.locator("#f-period").select_option("last_month")
    page.locator("#period-form button[type=submit]").click()
    shown = page.locator("#period-shown")
    expect(shown).to_contain_text(f"{last_month.start:%Y-%m-%d}")
    expect(shown).to_contain_text(f"{last_month.end:%Y-%m-%d}")

    # The work reports sent up to the street: the community's monthly report.
    page.locator("#report-links").get_by_role("link", name="工作报告").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("工作报告")
    received = page.locator("#work-received")
    expect(received).to_contain_text(community.name)
    assert serious_accessibility_problems(page) == []
    received.get_by_role("link", name="月报").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(community.name)
    expect(page.get_by_role("heading", level=1)).to_contain_text("月报")
    expect(page.locator("#work-status")).to_have_text("已提交")
    expect(page.locator("#work-account")).to_contain_text("本月开展心理健康讲座两场。")
    assert serious_accessibility_problems(page) == []

    # Its PDF, downloaded as a person would, holds the Chinese text.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载（PDF）").click()
    path = download.value.path()
    with open(path, "rb") as document:
        text = pdf_text(document.read())
    assert community.name in text
    assert "月报" in text
    assert "本月开展心理健康讲座两场。" in text
    for section in report.snapshot["sections"]:
        assert section["title"] in text

    # Marked read.
    page.get_by_role("button", name="标记为已阅").click()
    expect(page.locator("#work-status")).to_have_text("已读")
    report.refresh_from_db()
    assert report.status == WorkReportStatus.READ
    assert report.read_by == admin
    assert WorkReport.objects.get(pk=report.pk).read_at is not None
    context.close()
