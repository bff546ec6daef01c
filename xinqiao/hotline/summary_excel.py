"""The hotline summary as an Excel workbook, one sheet per table (issue #7 item 6), in the
style of ``xinqiao.people.exporting`` (openpyxl write-only, a header row, plain values).
Counts only: no notes, no names (R-PRIVACY de-identified exports)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from xinqiao.hotline.summary import (
    Summary,
    alert_status_label,
    intervention_label,
    risk_label,
    title,
)


def workbook(summary: Summary) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)

    sheet = book.create_sheet(_("Volume"))
    sheet.append([title(summary)])
    sheet.append([_("Measure"), _("Value")])
    sheet.append([_("From"), summary.start.isoformat()])
    sheet.append([_("Until"), summary.end.isoformat()])
    sheet.append([_("Days"), summary.days])
    sheet.append([_("Calls"), summary.calls])
    sheet.append([_("Total minutes"), summary.total_minutes])
    sheet.append(
        [
            _("Median minutes per call"),
            "" if summary.median_minutes is None else summary.median_minutes,
        ]
    )
    sheet.append([_("Hour slots without a shift"), summary.uncovered_hours])
    sheet.append([_("Calls in hours without a shift on any day"), summary.calls_in_uncovered_hours])

    sheet = book.create_sheet(_("By hour"))
    sheet.append([_("Hour"), _("Calls"), _("Days with a shift"), _("Days without a shift")])
    for row in summary.hours:
        sheet.append([f"{row.hour:02d}:00", row.calls, row.covered, row.uncovered])
    sheet.append([_("Total"), sum(h.calls for h in summary.hours), "", ""])

    sheet = book.create_sheet(_("Categories"))
    sheet.append([_("Category"), _("Calls")])
    for _code, label, n in summary.categories:
        sheet.append([label, n])

    sheet = book.create_sheet(_("Risk calls"))
    sheet.append(
        [
            _("Risk"),
            _("Calls"),
            _("Referred"),
            _("Crisis alert raised"),
            _("Call-back scheduled"),
            _("Call-back done"),
            _("Interventions"),
            _("Alert status now"),
        ]
    )
    for risk in summary.risk:
        sheet.append(
            [
                risk_label(risk.level),
                risk.calls,
                risk.referred,
                risk.alert_raised,
                risk.callback_scheduled,
                risk.callback_done,
                "、".join(
                    f"{intervention_label(k)} {v}" for k, v in sorted(risk.interventions.items())
                ),
                "、".join(
                    f"{alert_status_label(k)} {v}" for k, v in sorted(risk.alert_status.items())
                ),
            ]
        )

    sheet = book.create_sheet(_("Referrals"))
    sheet.append([_("Referral"), _("Calls")])
    for _code, label, n in summary.referrals:
        sheet.append([label, n])

    sheet = book.create_sheet(_("Mailbox"))
    sheet.append([_("Measure"), _("Value")])
    sheet.append([_("Messages received"), summary.messages_received])
    sheet.append([_("Messages answered"), summary.messages_answered])
    sheet.append(
        [
            _("Median hours to the first answer"),
            "" if summary.median_first_answer_hours is None else summary.median_first_answer_hours,
        ]
    )

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
