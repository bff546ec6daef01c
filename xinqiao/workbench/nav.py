"""The navigation that later capabilities plug into: one entry per page, shown to whoever
may perform its action somewhere in their scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinqiao.orgs.permissions import Action


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    action: Action | None  # None: every signed-in user


NAV: list[NavItem] = [
    NavItem("workbench:home", _("Workbench"), None),
    NavItem("people:list", _("Person files"), Action.PERSON_VIEW),
    NavItem("risk:alerts", _("Crisis alerts"), Action.ALERT_VIEW),
    NavItem("risk:key_people", _("Key people"), Action.ALERT_VIEW),
    NavItem("followups:list", _("Follow-ups"), Action.FOLLOWUP_VIEW),
    NavItem("counselling:list", _("Counselling"), Action.SESSION_VIEW),
    NavItem("risk:smi_list", _("Severe mental disorders"), Action.SMI_MANAGE),
    NavItem("assessments:list", _("Assessments"), Action.ASSESSMENT_VIEW),
    NavItem("assessments:campaigns", _("Campaigns"), Action.CAMPAIGN_VIEW),
    NavItem("referrals:list", _("Referrals"), Action.REFERRAL_RECEIVE),
    NavItem("booking:mine", _("My appointments"), Action.AVAILABILITY_PUBLISH),
    NavItem("booking:unit", _("Appointments"), Action.APPOINTMENT_BOOK),
    NavItem("hotline:calls", _("Hotline calls"), Action.HOTLINE_CALL_VIEW),
    NavItem("hotline:roster", _("Hotline roster"), Action.HOTLINE_CALL_VIEW),
    NavItem("hotline:callbacks", _("Call-back requests"), Action.CALLBACK_TAKE),
    NavItem("hotline:mailbox_queue", _("Worry mailbox"), Action.MAILBOX_ANSWER),
    NavItem("hotline:trends", _("Trends"), Action.TRENDS_VIEW),
    NavItem("hotline:reports", _("Emerging issues"), Action.TRENDS_VIEW),
    NavItem("hotline:summary", _("Hotline summary"), Action.TRENDS_VIEW),
    NavItem("reports:home", _("Reports"), Action.REPORT_VIEW),
    NavItem("reports:work_list", _("Work reports"), Action.REPORT_VIEW),
    NavItem("content:list", _("Education"), Action.CONTENT_EDIT),
    NavItem("orgs:tree", _("Org tree"), Action.UNIT_VIEW),
    NavItem("orgs:staff_list", _("Staff"), Action.STAFF_VIEW),
    NavItem("orgs:team_list", _("Teams"), Action.TEAM_VIEW),
    NavItem("orgs:staffing", _("Staffing checks"), Action.STAFF_VIEW),
    NavItem("audit:access", _("Audit log"), Action.AUDIT_VIEW),
    NavItem("risk:response", _("Response matrix"), Action.RESPONSE_CONFIGURE),
]
