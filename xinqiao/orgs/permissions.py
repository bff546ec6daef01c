"""Roles, actions and the role × action table: the one place that says who may do what.

``docs/permissions.md`` is rendered from this module by ``xinqiao permissions-doc`` and a test
fails if the committed file differs, so the document cannot drift from the code.

Where a user may act is a separate question, answered by ``xinqiao.orgs.scope``: a role held in
a unit applies to that unit and every unit below it (属地管理, MISSION.md R-ORG; seed 002 篇6
二(一) "按照属地管理原则 … 统一管理").
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    CITY_ADMIN = "city_admin", _("City administrator")
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    STREET_ADMIN = "street_admin", _("Street administrator")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COUNSELLOR = "counsellor", _("Counsellor")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    PSYCHIATRIST = "psychiatrist", _("Psychiatrist")
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    SCHOOL_TEACHER = "school_teacher", _("School psychology teacher")
    AUDITOR = "auditor", _("Auditor")


class Action(models.TextChoices):
    UNIT_VIEW = "unit.view", _("View the org tree")
    UNIT_MANAGE = "unit.manage", _("Create, rename, move and deactivate units")
    STAFF_VIEW = "staff.view", _("View staff, roles and qualifications")
    STAFF_MANAGE = "staff.manage", _("Create accounts, grant roles, unlock, deactivate")
    AGREEMENT_RECORD = "agreement.record", _("Record confidentiality agreements")
    TEAM_VIEW = "team.view", _("View teams")
    TEAM_MANAGE = "team.manage", _("Create teams and change their members")
    AUDIT_VIEW = "audit.view", _("Read the access and change logs")
    AUDIT_EXPORT = "audit.export", _("Export the access and change logs")
    API_TOKEN_OWN = "api_token.own", _("Create and revoke one's own API tokens")
    PERSON_VIEW = "person.view", _("Open person files")
    PERSON_EDIT = "person.edit", _("Register and update person files, groups, family, consent")
    PERSON_IMPORT = "person.import", _("Bulk-import person files")
    PERSON_EXPORT = "person.export", _("Export person lists (de-identified)")
    PERSON_EXPORT_NAMES = "person.export_names", _("Export person lists with names and contacts")
    PERSON_TRANSFER = "person.transfer", _("Request and accept transfers of files")
    PERSON_ARCHIVE = "person.archive", _("Archive and reactivate person files")
    PERSON_ERASE = "person.erase", _("Erase personal data (with a legal reason)")
    ASSESSMENT_VIEW = "assessment.view", _("See assessment results and risk signals on files")
    ASSESSMENT_ADMINISTER = "assessment.administer", _("Administer assessments to a person")
    ASSESSMENT_INVITE = "assessment.invite", _("Send self-assessment links and run campaigns")
    CAMPAIGN_VIEW = "assessment.campaign_view", _("Follow assessment campaigns (aggregates)")
    CONCERN_REPORT = "risk.report_concern", _("Report a concern about a person")
    ALERT_VIEW = "risk.alert_view", _("See crisis alerts, risk levels and the key-person list")
    ALERT_HANDLE = "risk.alert_handle", _("Acknowledge and handle crisis alerts")
    RISK_LEVEL_SET = "risk.level_set", _("Change a person's risk level with a reason")
    RESPONSE_CONFIGURE = "risk.response_configure", _("Configure the response matrix")
    REFERRAL_SEND = "referral.send", _("Refer a person to another unit")
    REFERRAL_RECEIVE = "referral.receive", _("Accept, decline and complete referrals received")
    SMI_MANAGE = "smi.manage", _("Manage patients with severe mental disorders")
    FOLLOWUP_VIEW = "followup.view", _("See follow-up plans and the due and overdue lists")
    FOLLOWUP_RECORD = "followup.record", _("Record follow-up visits")
    FOLLOWUP_OVERSEE = "followup.oversee", _("See overdue follow-ups counted by worker")
    SESSION_VIEW = "counselling.view", _("See that counselling sessions took place")
    SESSION_RECORD = "counselling.record", _("Record counselling sessions and case records")
    SESSION_NOTES_VIEW = "counselling.notes_view", _("Read case records and session notes")
    APPOINTMENT_BOOK = "booking.book", _("Book, cancel and reschedule appointments for people")
    AVAILABILITY_PUBLISH = "booking.publish", _("Publish one's own availability for appointments")
    HOTLINE_ROSTER = "hotline.roster", _("Manage hotline seats, shifts and operator training")
    HOTLINE_CALL_LOG = "hotline.call_log", _("Log hotline calls")
    HOTLINE_CALL_VIEW = "hotline.call_view", _("See hotline call records (without their notes)")
    HOTLINE_NOTES_VIEW = "hotline.notes_view", _("Read the notes of hotline calls")
    MAILBOX_ANSWER = "mailbox.answer", _("Read and answer worry-mailbox and consultation messages")
    TRENDS_VIEW = (
        "hotline.trends_view",
        _("See call and message trends, hotline summaries and emerging-issue reports"),
    )
    TRENDS_EXAMPLES_VIEW = (
        "hotline.examples_view",
        _("Read the anonymised example notes of emerging-issue reports"),
    )
    ISSUE_REPORT_HANDLE = "hotline.report_handle", _("Acknowledge emerging-issue reports")
    CALLBACK_TAKE = "hotline.callback", _("Take call-back requests left on the portal")
    CONTENT_EDIT = (
        "content.edit",
        _("Write, schedule and withdraw articles and micro-lessons; see their view counts"),
    )
    REPORT_VIEW = "report.view", _("See dashboards and indicators of the units in scope")
    REPORT_LINE_LIST = "report.line_list", _("Download de-identified line lists")
    WORK_REPORT_WRITE = "report.work_write", _("Make and submit the unit's work reports")
    WORK_REPORT_REVIEW = "report.work_review", _("Read, comment on and mark the reports sent up")
    BREAK_GLASS = (
        "person.break_glass",
        _("Open a file outside one's scope in an emergency, with a reason (break-glass)"),
    )
    BREAK_GLASS_REVIEW = "audit.break_glass_review", _("Review emergency (break-glass) accesses")


ADMIN_ROLES: frozenset[Role] = frozenset(
    {Role.SYSTEM_ADMIN, Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_ADMIN}
)

_EVERYONE: frozenset[Action] = frozenset({Action.UNIT_VIEW, Action.TEAM_VIEW})
_STAFF: frozenset[Action] = _EVERYONE | {Action.STAFF_VIEW, Action.API_TOKEN_OWN}
_ADMIN: frozenset[Action] = _STAFF | {
    Action.UNIT_MANAGE,
    Action.STAFF_MANAGE,
    Action.AGREEMENT_RECORD,
    Action.TEAM_MANAGE,
}
# Person files, need-to-know (R-PRIVACY; seed 002 篇6 二(四) 严格保密): the people who serve a
# person open the file; system administrators and auditors do not.
_CASEWORK: frozenset[Action] = frozenset(
    {Action.PERSON_VIEW, Action.PERSON_EDIT, Action.PERSON_TRANSFER}
)
_COMMUNITY_CASEWORK: frozenset[Action] = _CASEWORK | {
    Action.PERSON_IMPORT,
    Action.PERSON_EXPORT,
    Action.PERSON_EXPORT_NAMES,
}
_AREA_OVERSIGHT: frozenset[Action] = frozenset(
    {
        Action.PERSON_VIEW,
        Action.PERSON_EXPORT,
        Action.PERSON_ARCHIVE,
        Action.PERSON_ERASE,
        Action.PERSON_TRANSFER,
        Action.PERSON_IMPORT,
    }
)

# Assessments (R-ASSESS): results are health data (PIPL Art. 28), seen by those who serve the
# person and by the area's oversight; grid workers register and report people but do not read
# their scores. Those who run assessments may also send self-assessment links and campaigns.
_ASSESSING: frozenset[Action] = frozenset(
    {
        Action.ASSESSMENT_VIEW,
        Action.ASSESSMENT_ADMINISTER,
        Action.ASSESSMENT_INVITE,
        Action.CAMPAIGN_VIEW,
    }
)
_ASSESSMENT_OVERSIGHT: frozenset[Action] = frozenset({Action.ASSESSMENT_VIEW, Action.CAMPAIGN_VIEW})

# Crisis work (R-RISK, R-CRISIS): everyone who meets people may report a concern (seed 000
# 二(六) "基层工作人员反映有心理行为异常"); those who intervene handle alerts; a level is
# changed only by a counsellor or psychiatrist (issue #5 item 2); the street office receives
# crisis reports (报告街道) and oversees; the city configures the response.
_REPORTING: frozenset[Action] = frozenset({Action.CONCERN_REPORT})
_CRISIS_WORK: frozenset[Action] = _REPORTING | {
    Action.ALERT_VIEW,
    Action.ALERT_HANDLE,
    Action.REFERRAL_SEND,
    Action.REFERRAL_RECEIVE,
}
# Follow-up (R-FOLLOW; seed 000 二(五), 002 篇6 三(一)2): everyone who serves a person sees
# their plan and may record a visit (grid workers visit homes); overdue follow-ups are listed
# for the responsible worker and counted for their supervisor (the street, district, city).
_FOLLOWING_UP: frozenset[Action] = frozenset({Action.FOLLOWUP_VIEW, Action.FOLLOWUP_RECORD})
_FOLLOWUP_OVERSIGHT: frozenset[Action] = frozenset({Action.FOLLOWUP_VIEW, Action.FOLLOWUP_OVERSEE})
# Counselling (R-SESSION; seed 002 篇6 三(二)2 心理疏导): the content of a case record is for
# the clinical roles who counsel (counsellors, social workers, psychiatrists, school
# psychology teachers); others who serve the person see that a session took place, not what
# was said (R-PRIVACY, need-to-know).
_COUNSELLING: frozenset[Action] = frozenset(
    {Action.SESSION_VIEW, Action.SESSION_RECORD, Action.SESSION_NOTES_VIEW}
)
# Appointments (R-BOOK; seed 002 篇2 三(三)2 预约咨询): those who counsel publish their own
# availability; those who serve a person may book for them.
_BOOKING: frozenset[Action] = frozenset({Action.APPOINTMENT_BOOK})
_COUNSELLING_WORK: frozenset[Action] = _COUNSELLING | _BOOKING | {Action.AVAILABILITY_PUBLISH}

# Hotline and mailbox (R-HOTLINE, R-MAILBOX; seed 002 篇6 三(五)2 热线接听人员 …): operators and
# counsellors take calls and read their notes; those who counsel answer the mailbox; call and
# message notes are for the clinical roles (need-to-know); administrators run the roster, see the
# counts and receive emerging-issue reports (seed 000 二(七) 报告街道); example notes in a report
# are for the clinical roles only.
_HOTLINE_WORK: frozenset[Action] = frozenset(
    {
        Action.HOTLINE_CALL_LOG,
        Action.HOTLINE_CALL_VIEW,
        Action.HOTLINE_NOTES_VIEW,
        Action.TRENDS_VIEW,
        Action.TRENDS_EXAMPLES_VIEW,
        Action.CALLBACK_TAKE,
    }
)
_HOTLINE_OVERSIGHT: frozenset[Action] = frozenset(
    {
        Action.HOTLINE_ROSTER,
        Action.HOTLINE_CALL_VIEW,
        Action.TRENDS_VIEW,
        Action.ISSUE_REPORT_HANDLE,
    }
)
_TREND_READING: frozenset[Action] = frozenset({Action.TRENDS_VIEW, Action.TRENDS_EXAMPLES_VIEW})

# Education (R-EDU; seed 000 二(二) 心理健康科普, seed 003 微课): the clinical roles and the
# community write articles and micro-lessons for the portals of their units; administrators
# publish for their whole area. Both see the view and completion counts of what they publish.
_EDUCATION: frozenset[Action] = frozenset({Action.CONTENT_EDIT})

# Reports (R-REPORT; seed 001 四, 000 三(三) 工作报告制度): the administrators of an area and the
# community's workers and counsellors see the dashboards of the units in their scope (small
# counts suppressed outside the unit that owns the people, R-PRIVACY); the units that report
# (community, street, district) make and submit their weekly and monthly work reports, and the
# level above reads them. De-identified line lists are for the area's administrators and the
# community worker who keeps the files (seed 002 篇6 二(四) 严格保密: need-to-know).
_REPORT_READING: frozenset[Action] = frozenset({Action.REPORT_VIEW})
_REPORT_OVERSIGHT: frozenset[Action] = frozenset(
    {Action.REPORT_VIEW, Action.REPORT_LINE_LIST, Action.WORK_REPORT_REVIEW}
)
_REPORT_WRITING: frozenset[Action] = frozenset({Action.REPORT_VIEW, Action.WORK_REPORT_WRITE})

# Break-glass (R-PRIVACY; seed 002 篇6 二(四) 严格保密 with 000 二(六) crisis intervention): in
# an emergency the clinical roles who decide on risk (counsellors and psychiatrists, the roles
# that may set a risk level) may open a file of their own city outside their scope, with a
# reason, for a few hours (xinqiao.people.breakglass); administrators and auditors review it.
_BREAK_GLASS_REVIEW: frozenset[Action] = frozenset({Action.BREAK_GLASS_REVIEW})

# District and city administrators may be sent an alert nobody acknowledged (escalation up
# the tree, R-CRISIS): they see alerts and may acknowledge one.
_CRISIS_OVERSIGHT: frozenset[Action] = frozenset({Action.ALERT_VIEW, Action.ALERT_HANDLE})

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.SYSTEM_ADMIN: _ADMIN
    | _BREAK_GLASS_REVIEW
    | {Action.AUDIT_VIEW, Action.AUDIT_EXPORT, Action.RESPONSE_CONFIGURE},
    Role.CITY_ADMIN: _EDUCATION
    | _ADMIN
    | _BREAK_GLASS_REVIEW
    | _AREA_OVERSIGHT
    | _ASSESSMENT_OVERSIGHT
    | _CRISIS_OVERSIGHT
    | _FOLLOWUP_OVERSIGHT
    | _HOTLINE_OVERSIGHT
    | _REPORT_OVERSIGHT
    | {Action.RESPONSE_CONFIGURE, Action.SESSION_VIEW},
    Role.DISTRICT_ADMIN: _EDUCATION
    | _ADMIN
    | _BREAK_GLASS_REVIEW
    | _AREA_OVERSIGHT
    | _ASSESSMENT_OVERSIGHT
    | _CRISIS_OVERSIGHT
    | _FOLLOWUP_OVERSIGHT
    | _HOTLINE_OVERSIGHT
    | _REPORT_OVERSIGHT
    | _REPORT_WRITING
    | {Action.SESSION_VIEW},
    Role.STREET_ADMIN: _EDUCATION
    | _ADMIN
    | _BREAK_GLASS_REVIEW
    | _AREA_OVERSIGHT
    | _COMMUNITY_CASEWORK
    | _ASSESSMENT_OVERSIGHT
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _FOLLOWUP_OVERSIGHT
    | _BOOKING
    | {Action.PERSON_ARCHIVE, Action.ASSESSMENT_INVITE, Action.SESSION_VIEW}
    | {Action.TRENDS_VIEW, Action.ISSUE_REPORT_HANDLE}
    | _REPORT_OVERSIGHT
    | _REPORT_WRITING,
    Role.COMMUNITY_WORKER: _EDUCATION
    | _STAFF
    | _COMMUNITY_CASEWORK
    | _ASSESSING
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _BOOKING
    | {Action.PERSON_ARCHIVE, Action.SMI_MANAGE, Action.FOLLOWUP_OVERSEE, Action.SESSION_VIEW}
    | {Action.TRENDS_VIEW, Action.REPORT_LINE_LIST}
    | _REPORT_WRITING,
    Role.GRID_WORKER: _STAFF
    | _CASEWORK
    | _REPORTING
    | _FOLLOWING_UP
    | {Action.ALERT_VIEW, Action.SESSION_VIEW},
    Role.COUNSELLOR: _EDUCATION
    | _STAFF
    | _COMMUNITY_CASEWORK
    | _ASSESSING
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _COUNSELLING_WORK
    | _HOTLINE_WORK
    | _REPORT_READING
    | {Action.RISK_LEVEL_SET, Action.MAILBOX_ANSWER, Action.BREAK_GLASS},
    Role.SOCIAL_WORKER: _EDUCATION
    | _STAFF
    | _CASEWORK
    | _ASSESSING
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _COUNSELLING_WORK
    | _TREND_READING
    | {Action.PERSON_EXPORT, Action.MAILBOX_ANSWER},
    # Volunteers work under a team and see the org tree and their teams only.
    Role.VOLUNTEER: _EVERYONE,
    Role.PSYCHIATRIST: _EDUCATION
    | _STAFF
    | _CASEWORK
    | _ASSESSING
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _COUNSELLING_WORK
    | _TREND_READING
    | {
        Action.RISK_LEVEL_SET,
        Action.SMI_MANAGE,
        Action.BREAK_GLASS,
        Action.HOTLINE_CALL_VIEW,
        Action.HOTLINE_NOTES_VIEW,
    },
    # Hotline operators see results (to judge a caller's risk) but do not assess.
    # They may book a counsellor for a caller, and answer the centre's online consultations.
    Role.HOTLINE_OPERATOR: _STAFF
    | _CASEWORK
    | _REPORTING
    | _BOOKING
    | _HOTLINE_WORK
    | {Action.ASSESSMENT_VIEW, Action.FOLLOWUP_VIEW, Action.SESSION_VIEW, Action.MAILBOX_ANSWER},
    Role.SCHOOL_TEACHER: _EDUCATION
    | _STAFF
    | _CASEWORK
    | _ASSESSING
    | _CRISIS_WORK
    | _FOLLOWING_UP
    | _COUNSELLING_WORK
    | {Action.PERSON_EXPORT, Action.MAILBOX_ANSWER},
    # Auditors read the logs of their subtree and see who works there; they change nothing.
    Role.AUDITOR: _EVERYONE
    | _BREAK_GLASS_REVIEW
    | {Action.STAFF_VIEW, Action.AUDIT_VIEW, Action.AUDIT_EXPORT},
}

# Which unit kinds a role can be held in (kind values of ``xinqiao.orgs.models.UnitKind``).
_FRONTLINE_KINDS = frozenset(
    {
        "city",
        "district",
        "street",
        "community",
        "service_station",
        "hotline_centre",
        "designated_hospital",
        "psychiatric_institution",
        "school",
        "civil_affairs",
        "isolation_site",
    }
)
ROLE_UNIT_KINDS: dict[Role, frozenset[str]] = {
    Role.SYSTEM_ADMIN: frozenset({"city", "district"}),
    Role.CITY_ADMIN: frozenset({"city"}),
    Role.DISTRICT_ADMIN: frozenset({"district"}),
    Role.STREET_ADMIN: frozenset({"street"}),
    Role.COMMUNITY_WORKER: frozenset({"community"}),
    Role.GRID_WORKER: frozenset({"grid"}),
    Role.COUNSELLOR: _FRONTLINE_KINDS,
    Role.SOCIAL_WORKER: _FRONTLINE_KINDS,
    Role.VOLUNTEER: _FRONTLINE_KINDS | {"grid"},
    Role.PSYCHIATRIST: frozenset({"designated_hospital", "psychiatric_institution"}),
    Role.HOTLINE_OPERATOR: frozenset({"hotline_centre"}),
    Role.SCHOOL_TEACHER: frozenset({"school"}),
    Role.AUDITOR: frozenset({"city", "district"}),
}

# Which roles a holder of a role may grant (always within their own subtree). Nobody grants a
# role equal to or above their own administrative rank.
_NON_ADMIN: frozenset[Role] = frozenset(Role) - ADMIN_ROLES - {Role.AUDITOR}
GRANTABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.SYSTEM_ADMIN: frozenset(Role),
    Role.CITY_ADMIN: _NON_ADMIN | {Role.DISTRICT_ADMIN, Role.STREET_ADMIN, Role.AUDITOR},
    Role.DISTRICT_ADMIN: _NON_ADMIN | {Role.STREET_ADMIN},
    Role.STREET_ADMIN: _NON_ADMIN,
}


def role_allows(role: str, action: str) -> bool:
    return Action(action) in PERMISSIONS.get(Role(role), frozenset())


def roles_with(action: Action) -> list[Role]:
    return [role for role in Role if action in PERMISSIONS[role]]


def render_markdown() -> str:
    """The permission matrix as Markdown (``docs/permissions.md``)."""
    roles = list(Role)
    lines = [
        "# Permissions (role × action)",
        "",
        "Generated from `xinqiao/orgs/permissions.py` by `xinqiao permissions-doc`; do not edit",
        "by hand (a test fails when this file and the code differ).",
        "",
        "A role is held in a unit and applies to that unit and every unit below it. Objects",
        "outside a user's units answer 404, the same as objects that do not exist.",
        "",
        "| action | " + " | ".join(r.value for r in roles) + " |",
        "| --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for action in Action:
        marks = ["✓" if action in PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{action.value}` {action.label} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "## Roles",
        "",
        "| role | 中文 | may be held in | may grant |",
        "| --- | --- | --- | --- |",
    ]
    from django.utils import translation

    for role in roles:
        with translation.override("zh-hans"):
            zh = str(role.label)
        kinds = ", ".join(sorted(ROLE_UNIT_KINDS[role]))
        grants = ", ".join(r.value for r in Role if r in GRANTABLE_ROLES.get(role, frozenset()))
        lines.append(f"| `{role.value}` {role.label} | {zh} | {kinds} | {grants or '—'} |")
    lines += [
        "",
        "## Rules that are not in the table",
        "",
        "- Administrators (system, city, district, street) must sign in with a TOTP second",
        "  factor; an API token for an administrator needs the current TOTP code as well.",
        "- Nobody without a confidentiality agreement on file can open a person file",
        "  (seed 002 篇6 二(四) 严格保密: 专人负责服务对象档案管理并签署保密协定).",
        "- Nobody can edit or delete access-log or change-log entries through the application;",
        "  on PostgreSQL database triggers refuse it as well.",
        "",
    ]
    return "\n".join(lines)
