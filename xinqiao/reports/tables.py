"""What a dashboard, a work report and the open-data interface show: sections of tables, each
cell a number or ``None`` where it is suppressed (shown as "<5"). Pure: no Django import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

Cell = int | float | str | None


@dataclass
class Row:
    label: str
    cells: list[Cell]
    code: str = ""  # a stable code for the row (an instrument, a level, a unit id)


@dataclass
class Table:
    code: str  # unique on the dashboard; the CSV download's name
    title: str
    columns: list[str]  # headers of ``cells``; the row label's header is ``label_header``
    rows: list[Row]
    label_header: str = ""
    chart: str = "bar"  # "bar", "line" or "none"
    note: str = ""
    unit: str = ""  # what the numbers are ("people", "minutes", "%")
    suppressed: bool = False  # small cells are hidden in this table


@dataclass
class Section:
    code: str
    title: str
    tables: list[Table] = field(default_factory=list)
    note: str = ""


@dataclass
class Dashboard:
    unit_id: str
    unit_name: str
    unit_kind: str
    start: date
    end: date
    sections: list[Section]
    suppressed: bool
    threshold: int
    updated_at: str = ""  # ISO time the aggregate tables were last brought up to date

    def table(self, code: str) -> Table:
        for section in self.sections:
            for table in section.tables:
                if table.code == code:
                    return table
        raise KeyError(code)

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


def as_json(dashboard: Dashboard) -> dict[str, Any]:
    """The open-data and work-report form: plain JSON types, ``null`` for a suppressed cell."""
    return {
        "unit": {"id": dashboard.unit_id, "name": dashboard.unit_name, "kind": dashboard.unit_kind},
        "period": {"start": dashboard.start.isoformat(), "end": dashboard.end.isoformat()},
        "suppressed": dashboard.suppressed,
        "threshold": dashboard.threshold,
        "updated_at": dashboard.updated_at,
        "sections": [
            {
                "code": s.code,
                "title": s.title,
                "note": s.note,
                "tables": [
                    {
                        "code": t.code,
                        "title": t.title,
                        "label_header": t.label_header,
                        "columns": t.columns,
                        "unit": t.unit,
                        "note": t.note,
                        "suppressed": t.suppressed,
                        "rows": [
                            {"code": r.code, "label": r.label, "cells": r.cells} for r in t.rows
                        ],
                    }
                    for t in s.tables
                ],
            }
            for s in dashboard.sections
        ],
    }
