"""The documents of a work report, made from its stored snapshot (never from live data, so
they can be made again and say the same): a PDF (WeasyPrint; a CJK font installed on the
server is embedded, scripts/ensure-chromium installs one) and an Excel workbook (openpyxl):
概况 (the unit, the period, the status, the worker's account), one sheet per dashboard
section, and 说明 (notes: the small-cell threshold and where the figures come from).

Always in the platform's language (``settings.LANGUAGE_CODE``, Chinese by default): the
report is an official document of the unit, whoever pressed the button. Counts hidden because
they are small are ``None`` in the snapshot and shown as "<5" (R-PRIVACY; issue #9 item 4).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.workbench.pdf import render_pdf

if TYPE_CHECKING:
    from xinqiao.reports.work_models import WorkReport

PDF_TEMPLATE = "reports/work_report_pdf.html"
# Excel refuses these in sheet names and cuts names at 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31


def hidden_mark(threshold: int) -> str:
    return f"<{threshold}"


def show(value: Any, threshold: int) -> str:
    """A cell as text: "<5" for a hidden count, one decimal for a fraction."""
    if value is None:
        return hidden_mark(threshold)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return str(value)


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unused sheet name for ``title``: forbidden characters dropped, at most 31
    characters, a number added when two titles would give the same name."""
    base = _SHEET_FORBIDDEN.sub("", title or "").strip().strip("'") or _("Untitled table")
    name = base[:SHEET_NAME_MAX]
    n = 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _snapshot(report: WorkReport) -> dict[str, Any]:
    snapshot = report.snapshot
    if not isinstance(snapshot, dict):
        raise ValueError("a work report's documents are made from its snapshot")
    return snapshot


def facts(report: WorkReport) -> list[tuple[str, str]]:
    """The report's particulars, as (label, value) rows (PDF header and 概况 sheet)."""
    snapshot = _snapshot(report)
    local = timezone.localtime
    rows = [
        (_("Unit"), str(snapshot.get("unit", {}).get("name") or report.unit.name)),
        (_("Report"), str(report.get_kind_display())),
        (_("Reporting period"), f"{report.period_start:%Y-%m-%d} — {report.period_end:%Y-%m-%d}"),
        (_("Due on"), f"{report.due_on:%Y-%m-%d}"),
        (_("Status"), str(report.get_status_display())),
    ]
    if report.generated_at is not None:
        rows.append((_("Generated"), f"{local(report.generated_at):%Y-%m-%d %H:%M}"))
    if report.submitted_at is not None:
        who = report.submitted_by.name if report.submitted_by is not None else ""
        rows.append(
            (_("Submitted on"), f"{local(report.submitted_at):%Y-%m-%d %H:%M} {who}".strip())
        )
    return rows


def notes(report: WorkReport) -> list[str]:
    """What the reader needs to know to read the figures right (说明)."""
    snapshot = _snapshot(report)
    threshold = int(snapshot.get("threshold") or 5)
    out = [
        _(
            "Counts from 1 to %(below)d are hidden and shown as “%(mark)s”, and so are as many "
            "other cells as needed so that a hidden count cannot be worked out from the totals; "
            "medians, percentiles and rates over fewer than %(n)d people are hidden too "
            "(the report leaves the unit that owns the people)."
        )
        % {"below": threshold - 1, "mark": hidden_mark(threshold), "n": threshold},
        _(
            "The figures are the unit's dashboard for the period, counted from the platform's "
            "records (person files, assessments, alerts, referrals, follow-ups, sessions, the "
            "hotline and the mailbox, education) of the unit and every unit below it."
        ),
    ]
    updated = snapshot.get("updated_at") or ""
    if updated:
        out.append(
            _("The aggregate tables were last brought up to date at %(at)s.") % {"at": updated}
        )
    out.append(
        _(
            "The figures were taken when the report was generated and do not change afterwards; "
            "records entered later for the same period are in the next dashboard, not here."
        )
    )
    for section in snapshot.get("sections", []):
        for table in section.get("tables", []):
            if table.get("note"):
                out.append(f"{table.get('title', '')}: {table['note']}")
    return out


def sections(report: WorkReport) -> list[dict[str, Any]]:
    """The snapshot's sections with every cell as display text (for the PDF and the page)."""
    snapshot = _snapshot(report)
    threshold = int(snapshot.get("threshold") or 5)
    out = []
    for section in snapshot.get("sections", []):
        tables = []
        for table in section.get("tables", []):
            tables.append(
                {
                    "code": table.get("code", ""),
                    "title": table.get("title", ""),
                    "label_header": table.get("label_header", ""),
                    "columns": list(table.get("columns", [])),
                    "unit": table.get("unit", ""),
                    "note": table.get("note", ""),
                    "suppressed": bool(table.get("suppressed")),
                    "rows": [
                        {
                            "label": row.get("label", ""),
                            "cells": [show(c, threshold) for c in row.get("cells", [])],
                        }
                        for row in table.get("rows", [])
                    ],
                }
            )
        out.append(
            {
                "code": section.get("code", ""),
                "title": section.get("title", ""),
                "note": section.get("note", ""),
                "tables": tables,
            }
        )
    return out


def title(report: WorkReport) -> str:
    snapshot = _snapshot(report)
    name = str(snapshot.get("unit", {}).get("name") or report.unit.name)
    return _("%(unit)s %(kind)s, %(start)s — %(end)s") % {
        "unit": name,
        "kind": report.get_kind_display(),
        "start": f"{report.period_start:%Y-%m-%d}",
        "end": f"{report.period_end:%Y-%m-%d}",
    }


def pdf(report: WorkReport) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        context: dict[str, object] = {
            "title": title(report),
            "facts": facts(report),
            "account": report.account,
            "sections": sections(report),
            "notes": notes(report),
        }
        return render_pdf(PDF_TEMPLATE, context)


def xlsx(report: WorkReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    with translation.override(settings.LANGUAGE_CODE):
        snapshot = _snapshot(report)
        threshold = int(snapshot.get("threshold") or 5)
        book = Workbook()
        used: set[str] = set()
        bold = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")

        sheet = book.active
        assert sheet is not None  # noqa: S101 -- a new workbook has its first sheet
        sheet.title = sheet_name(_("Overview"), used)
        sheet.append([title(report)])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([])
        for label, value in facts(report):
            sheet.append([label, value])
            sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append([])
        sheet.append([_("Summary of the work")])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append([report.account or "—"])
        sheet.cell(row=sheet.max_row, column=1).alignment = wrap
        sheet.column_dimensions["A"].width = 18
        sheet.column_dimensions["B"].width = 60

        for section in snapshot.get("sections", []):
            sheet = book.create_sheet(sheet_name(str(section.get("title", "")), used))
            sheet.append([section.get("title", "")])
            sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
            if section.get("note"):
                sheet.append([section["note"]])
            for table in section.get("tables", []):
                sheet.append([])
                sheet.append([table.get("title", "")])
                sheet.cell(row=sheet.max_row, column=1).font = bold
                sheet.append([table.get("label_header", ""), *table.get("columns", [])])
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
                for row in table.get("rows", []):
                    sheet.append(
                        [
                            row.get("label", ""),
                            *(
                                hidden_mark(threshold) if c is None else c
                                for c in row.get("cells", [])
                            ),
                        ]
                    )
                if table.get("note"):
                    sheet.append([table["note"]])
            sheet.column_dimensions["A"].width = 28

        sheet = book.create_sheet(sheet_name(_("Notes on the figures"), used))
        sheet.append([_("Notes on the figures")])
        sheet["A1"].font = Font(bold=True, size=13)
        for line in notes(report):
            sheet.append([line])
            sheet.cell(row=sheet.max_row, column=1).alignment = wrap
        sheet.column_dimensions["A"].width = 100

        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
