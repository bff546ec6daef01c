"""The effect-evaluation page of a unit (效果评估, issue #9 item 2) and its CSV download.

Seen with ``REPORT_VIEW`` (404 outside the user's scope, 403 inside it without the permission:
``xinqiao.reports.access``); small counts hidden outside the unit that keeps the files
(``must_suppress``). Aggregates only: no person is named or identified, so no access to a
person is logged."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinqiao.counselling.models import Programme
from xinqiao.instruments.change import CRITERIA
from xinqiao.instruments.library import get as get_instrument
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import scope_paths
from xinqiao.reports import effect
from xinqiao.reports.access import access_dashboard, must_suppress
from xinqiao.reports.effect import Cell, Evaluation, Figures
from xinqiao.reports.periods import Period
from xinqiao.reports.views import parse_period, period_choices

PARAMS = ("period", "start", "end", "instrument", "programme")


@dataclass
class Shown:
    """A table as the page and the CSV show it: every cell already a string."""

    code: str
    title: str
    header: list[str]
    rows: list[tuple[str, list[str], bool]]  # label, cells, is the total row
    note: str = ""


def instrument_name(code: str) -> str:
    instrument = get_instrument(code)
    return instrument.zh if (get_language() or "zh").startswith("zh") else instrument.en


def _count(value: Cell, threshold: int) -> str:
    if value is None:
        return f"<{threshold}"
    return str(value)


def _share(value: Cell) -> str:
    if value is None:
        return "*"
    if isinstance(value, str):
        return value
    return f"{100 * value:.1f}%"


def _mean(value: Cell, *, signed: bool = False) -> str:
    if value is None:
        return "*"
    if isinstance(value, str):
        return value
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _change_cells(f: Figures, t: int) -> list[str]:
    return [
        _count(f.people, t),
        _mean(f.mean(0)),
        _mean(f.mean(1)),
        _mean(f.mean(2), signed=True),
        _count(f.change[0], t),
        _share(f.improvement_rate),
        _count(f.change[1], t),
        _share(f.no_change_rate),
        _count(f.change[2], t),
        _share(f.deterioration_rate),
    ]


def _recovery_cells(f: Figures, t: int) -> list[str]:
    return [
        _count(f.people, t),
        _count(f.cases, t),
        _count(f.recovered, t),
        _share(f.recovery_rate),
        _count(f.reliably_recovered, t),
        _share(f.reliable_recovery_rate),
        _count(f.not_case, t),
    ]


def change_header(label: str) -> list[str]:
    return [
        label,
        _("People with a first and a latest score"),
        _("Mean first score"),
        _("Mean latest score"),
        _("Mean change"),
        _("Reliably improved"),
        _("Share of people"),
        _("No reliable change"),
        _("Share of people"),
        _("Reliably deteriorated"),
        _("Share of people"),
    ]


def recovery_header(label: str) -> list[str]:
    return [
        label,
        _("People with a first and a latest score"),
        _("Cases at the first score"),
        _("Recovered"),
        _("Recovery rate (share of cases)"),
        _("Reliably recovered"),
        _("Reliable recovery rate (share of cases)"),
        _("Not a case at the first score"),
    ]


def summary_table(e: Evaluation) -> Shown:
    """The unit's headline figures, each with the number of people behind it."""
    f, t = e.overview, e.threshold
    n = _count(f.people, t)
    cases = _count(f.cases, t)
    rows = [
        (_("People with a first and a latest score"), [n, "", ""]),
        (_("Mean first score"), [_mean(f.mean(0)), n, ""]),
        (_("Mean latest score"), [_mean(f.mean(1)), n, ""]),
        (_("Mean change"), [_mean(f.mean(2), signed=True), n, ""]),
        (_("Reliably improved"), [_count(f.change[0], t), n, _share(f.improvement_rate)]),
        (_("No reliable change"), [_count(f.change[1], t), n, _share(f.no_change_rate)]),
        (_("Reliably deteriorated"), [_count(f.change[2], t), n, _share(f.deterioration_rate)]),
        (_("Cases at the first score"), [cases, n, _share(f.share(f.cases, f.people))]),
        (_("Recovered"), [_count(f.recovered, t), cases, _share(f.recovery_rate)]),
        (
            _("Reliably recovered"),
            [_count(f.reliably_recovered, t), cases, _share(f.reliable_recovery_rate)],
        ),
    ]
    return Shown(
        code="summary",
        title=_("Summary: %(unit)s") % {"unit": e.unit.full_name},
        header=[_("Figure"), _("Value"), _("Over how many people"), _("Share")],
        rows=[(label, cells, False) for label, cells in rows],
    )


def tables(e: Evaluation) -> list[Shown]:
    t = e.threshold
    unit_label, group_label = _("Unit"), _("Target group")
    total = [e.overview] if e.by_unit else []
    recovery_note = (
        _(
            "The recovery figures of the units below are hidden: shown with the reliable-change "
            "table, they would let a hidden count be worked out."
        )
        if e.hidden_by_unit
        else ""
    )
    group_note = _(
        "A person is counted in every target group they were in on the day of their latest "
        "score, so the groups do not add up to the total."
    )
    if any(f.withheld for f in e.by_group):
        group_note += " " + _(
            "Groups whose figures could not be protected against the unit's totals are hidden "
            "entirely."
        )
    shown = [
        summary_table(e),
        Shown(
            "change_by_unit",
            _("Reliable change by unit"),
            change_header(unit_label),
            [(f.label, _change_cells(f, t), f.code == "total") for f in [*e.by_unit, *total]],
        ),
        Shown(
            "recovery_by_unit",
            _("Recovery by unit"),
            recovery_header(unit_label),
            [(f.label, _recovery_cells(f, t), f.code == "total") for f in [*e.by_unit, *total]],
            recovery_note,
        ),
        Shown(
            "change_by_group",
            _("Reliable change by target group"),
            change_header(group_label),
            [(f.label, _change_cells(f, t), False) for f in e.by_group],
            group_note,
        ),
        Shown(
            "recovery_by_group",
            _("Recovery by target group"),
            recovery_header(group_label),
            [(f.label, _recovery_cells(f, t), False) for f in e.by_group],
            group_note,
        ),
    ]
    return shown


def explanation(instrument: str) -> dict[str, Any]:
    criteria = CRITERIA[instrument]
    return {
        "reliable": _(
            "Reliable change (Jacobson & Truax 1991): a change larger than the measurement error "
            "of the questionnaire would produce (the reliable change index beyond ±1.96, p < .05). "
            "For %(name)s a change of %(points)s points or more is reliable (the criteria of "
            "Gyani et al. 2013 and the NHS Talking Therapies manual). A fall is a reliable "
            "improvement, a rise a reliable deterioration; higher scores are worse."
        )
        % {"name": instrument_name(instrument), "points": criteria.reliable_points},
        "recovery": _(
            "Recovery (Gyani et al. 2013): a person who was a case at the first score (%(name)s "
            "%(caseness)s or more) and is not at the latest. Reliable recovery: recovered and "
            "reliably improved. Recovery rates count only the people who were cases at the first "
            "score."
        )
        % {"name": instrument_name(instrument), "caseness": criteria.caseness},
        "pairs": _(
            "Who is counted: every person whose file is kept in this unit or below and whose "
            "latest score in the period falls in it; the first score is their first ever (or, "
            "for a programme, the latest on or before its start, otherwise the first within it), "
            "the latest is the last up to the end of the period (and of the programme)."
        ),
        "citations": [
            "Jacobson N. S., Truax P. (1991). Clinical significance: a statistical approach to "
            "defining meaningful change in psychotherapy research. Journal of Consulting and "
            "Clinical Psychology 59(1): 12–19.",
            "Gyani A., Shafran R., Layard R., Clark D. M. (2013). Enhancing recovery rates: "
            "lessons from year one of IAPT. Behaviour Research and Therapy 51(9): 597–606.",
        ],
    }


def _choices(request: HttpRequest, unit: Unit) -> tuple[str, Programme | None, dict[str, str]]:
    errors: dict[str, str] = {}
    instrument = request.GET.get("instrument", "").strip() or effect.INSTRUMENTS[0]
    if instrument not in effect.INSTRUMENTS:
        errors["instrument"] = _("Choose one of the questionnaires offered.")
        instrument = effect.INSTRUMENTS[0]
    programme = None
    raw = request.GET.get("programme", "").strip()
    if raw:
        programme = next((p for p in effect.programmes_for(unit) if str(p.pk) == raw), None)
        if programme is None:
            errors["programme"] = _("Choose one of the programmes offered.")
    return instrument, programme, errors


def _evaluate(request: HttpRequest, unit_id: Any) -> tuple[Unit, dict[str, Any]]:
    unit = access_dashboard(request.user, unit_id)
    period, errors = parse_period(request)
    instrument, programme, more = _choices(request, unit)
    errors.update(more)
    context: dict[str, Any] = {"unit": unit, "errors": errors, "instrument": instrument}
    if period is not None and not errors:
        context["evaluation"] = effect.evaluate(
            unit=unit,
            period=period,
            instrument=instrument,
            programme=programme,
            suppress=must_suppress(request.user, unit),
        )
        context["period"] = period
    return unit, context


def _field_label(name: str) -> str:
    return {
        "period": _("Period"),
        "start": _("From"),
        "end": _("Until"),
        "instrument": _("Questionnaire"),
        "programme": _("Programme"),
    }.get(name, name)


@login_required
def effect_page(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit, context = _evaluate(request, unit_id)
    query = {k: v for k, v in request.GET.items() if k in PARAMS and v}
    period_query = urlencode({k: v for k, v in query.items() if k in ("period", "start", "end")})
    roots = scope_paths(request.user, Action.REPORT_VIEW)
    context.update(
        {
            "choices": period_choices(),
            "selected": request.GET.get("period", "") or ("custom" if query.get("start") else ""),
            "query": query,
            "querystring": urlencode(query),
            "period_query": period_query,
            "instruments": [(code, instrument_name(code)) for code in effect.INSTRUMENTS],
            "programmes": effect.programmes_for(unit),
            "programme_id": query.get("programme", ""),
            "error_list": [(k, _field_label(k), v) for k, v in context["errors"].items()],
            "breadcrumbs": [
                u for u in unit.ancestors() if any(u.path.startswith(r) for r in roots)
            ],
            "children": list(
                Unit.objects.filter(parent=unit, is_active=True).order_by("kind", "name")
            ),
            "explanation": explanation(context["instrument"]),
            "instrument_name": instrument_name(context["instrument"]),
        }
    )
    evaluation: Evaluation | None = context.get("evaluation")
    if evaluation is None:
        return render(request, "reports/effect.html", context, status=400)
    period: Period = context["period"]
    context.update(
        {
            "selected": period.code,
            "tables": tables(evaluation),
            "csv": reverse("reports:effect_csv", kwargs={"unit_id": unit.pk})
            + (f"?{urlencode(query)}" if query else ""),
            "dashboard": reverse("reports:dashboard", kwargs={"unit_id": unit.pk})
            + (f"?{period_query}" if period_query else ""),
            "suppression_note": suppression_note(evaluation.threshold),
        }
    )
    return render(request, "reports/effect.html", context)


def csv_rows(evaluation: Evaluation) -> list[list[str]]:
    """What the page shows, table after table: a title line, the header, the rows."""
    out: list[list[str]] = []
    for table in tables(evaluation):
        out.append([f"# {table.title}"])
        out.append(table.header)
        out += [[label, *cells] for label, cells, _total in table.rows]
        if table.note:
            out.append([f"# {table.note}"])
        out.append([])
    return out


@login_required
def effect_csv(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit, context = _evaluate(request, unit_id)
    evaluation: Evaluation | None = context.get("evaluation")
    if evaluation is None:
        message = "; ".join(f"{_field_label(k)}: {v}" for k, v in context["errors"].items())
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    period = evaluation.period
    heading = [
        f"# {unit.full_name} {period.start}–{period.end} "
        f"{instrument_name(evaluation.instrument)}"
        + (f" {evaluation.programme.name}" if evaluation.programme else "")
    ]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="effect-{evaluation.instrument}-{period.start}-{period.end}.csv"'
    )
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # so that Excel opens UTF-8 Chinese text correctly
    writer = csv.writer(response)
    writer.writerow(heading)
    if evaluation.suppressed:
        writer.writerow([f"# {suppression_note(evaluation.threshold)}"])
    writer.writerow([])
    writer.writerows(csv_rows(evaluation))
    return response


def suppression_note(threshold: int) -> str:
    return _(
        "Counts from 1 to %(below)s are shown as “<%(n)s”, and some others with them so that "
        "none can be worked out from the totals; a mean or a share over fewer than %(n)s people, "
        "or over a hidden count, is shown as “*”: these figures leave the units that keep the "
        "files."
    ) % {"n": threshold, "below": threshold - 1}
