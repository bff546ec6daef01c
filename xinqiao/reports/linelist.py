"""The de-identified line list of a unit (issue #9 item 4: "de-identified line lists only for
roles that may see them"; MISSION.md R-PRIVACY "de-identified exports"; seed 002 篇6 二(四)
严格保密, need-to-know).

One row per person under service in the unit's subtree (an active, living, named file —
``sources.under_service``, the same people the dashboards count), with only coarse attributes:

* a per-export pseudonym: HMAC-SHA256 of the file's id keyed with a random salt drawn for this
  export and then forgotten, so two exports cannot be linked to each other or to the file
  (pseudonymisation with a keyed hash, GB/T 37964-2019 《个人信息去标识化指南》; the id
  itself never appears);
* a five-year age band (top-coded at 85+), sex, the current target groups, priority level,
  risk level, whether the person is on a follow-up plan, the number of assessments completed
  in the period, the latest band per instrument up to the period's end, and the community.

Never a name, document number, phone, address, birth date, contact or free text: the people
are read with ``values_list`` of those columns only, so the encrypted fields are not even
decrypted. De-identified data is still personal information (PIPL Art. 4, 73(3)): the list is for
holders of ``report.line_list`` in scope, and every download is logged (with its row count).

A list of fewer than ``threshold()`` people (5 by default, the small-cell threshold of the
dashboards) is refused outright: below it a row is too easily matched to a neighbour
(R-PRIVACY; the k-anonymity floor of Sweeney 2002, k = 5).

Every query is a batch over the whole subtree (seven queries whatever the number of people).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import access_unit, require
from xinqiao.people.idcard import age_on
from xinqiao.reports.indicators import threshold
from xinqiao.reports.periods import Period
from xinqiao.reports.tally import period_bounds

# Five-year age bands (the census's 5-year groups), the oldest open-ended: very old ages are
# rare enough to single a person out (HIPAA Safe Harbor aggregates ages over 89 for the same
# reason; we stop earlier because communities are small).
AGE_BAND_YEARS = 5
AGE_TOP = 85
PSEUDONYM_HEX = 16  # 64 bits: no collision to expect among a city's people


class TooFewPeople(Exception):
    """The unit has fewer people than the threshold: no list (the k-anonymity floor)."""

    def __init__(self, count: int, floor: int) -> None:
        super().__init__(count)
        self.count = count
        self.floor = floor


def access_line_list(user: Any, unit_id: Any) -> Unit:
    """404 outside the user's units, 403 inside them without ``report.line_list``."""
    unit = access_unit(user, unit_id)
    require(user, Action.REPORT_LINE_LIST, unit)
    if not unit.is_active:
        raise Http404
    return unit


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe
    (OWASP "CSV injection")."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def pseudonym(salt: bytes, person_id: uuid.UUID) -> str:
    return hmac.new(salt, person_id.bytes, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def age_band(born: date | None, on: date) -> str:
    if born is None:
        return ""
    age = max(0, age_on(born, on))
    if age >= AGE_TOP:
        return f"{AGE_TOP}+"
    low = age - age % AGE_BAND_YEARS
    return f"{low}-{low + AGE_BAND_YEARS - 1}"


@dataclass
class LineList:
    unit: Unit
    period: Period
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _community_names(root: Unit) -> dict[Any, str]:
    """The community each unit of the subtree belongs to (a grid's parent; any other unit is
    its own), by unit id."""
    units = {
        u["id"]: u
        for u in Unit.objects.filter(path__startswith=root.path).values(
            "id", "kind", "name", "parent_id"
        )
    }
    if root.parent_id is not None and root.kind == UnitKind.GRID:
        parent = Unit.objects.filter(pk=root.parent_id).values("id", "kind", "name", "parent_id")
        units.update({u["id"]: u for u in parent})
    names: dict[Any, str] = {}
    for unit_id, unit in units.items():
        if unit["kind"] == UnitKind.GRID and unit["parent_id"] in units:
            names[unit_id] = units[unit["parent_id"]]["name"]
        else:
            names[unit_id] = unit["name"]
    return names


def build(*, unit: Unit, period: Period, today: date) -> LineList:
    """The line list of ``unit``'s subtree; raises ``TooFewPeople`` below the floor."""
    from xinqiao.assessments.models import Assessment, AssessmentStatus
    from xinqiao.followups.models import FollowUpPlan
    from xinqiao.instruments.library import library
    from xinqiao.people.models import GroupMembership, Person, Sex, TargetGroup
    from xinqiao.reports.sources import under_service
    from xinqiao.risk.models import PersonRisk, RiskLevel

    people_q = under_service(Person.objects.filter(unit__path__startswith=unit.path))
    # Only these columns are read: no name, document, phone, address or notes leaves the table.
    people = list(
        people_q.order_by().values_list("id", "unit_id", "sex", "birth_date", "priority_level")
    )
    floor = threshold()
    if len(people) < floor:
        raise TooFewPeople(len(people), floor)
    ids = people_q.order_by().values("id")

    groups: dict[Any, set[str]] = defaultdict(set)
    current = GroupMembership.objects.filter(person__in=ids, date_from__lte=today).exclude(
        date_to__lt=today
    )
    for person_id, group in current.values_list("person_id", "group"):
        groups[person_id].add(group)
    risk = dict(PersonRisk.objects.filter(person__in=ids).values_list("person_id", "level"))
    on_plan = set(FollowUpPlan.objects.filter(person__in=ids).values_list("person_id", flat=True))
    start, end = period_bounds(period.start, period.end)
    done = Assessment.objects.filter(
        person__in=ids, status=AssessmentStatus.COMPLETED, completed_at__isnull=False
    )
    in_period: dict[Any, int] = defaultdict(int)
    for person_id in done.filter(completed_at__gte=start, completed_at__lt=end).values_list(
        "person_id", flat=True
    ):
        in_period[person_id] += 1
    latest: dict[tuple[Any, str], str] = {}
    for person_id, code, band in (
        done.filter(completed_at__lt=end)
        .order_by("completed_at", "id")
        .values_list("person_id", "instrument", "band_code")
        .iterator(chunk_size=5000)
    ):
        latest[(person_id, code)] = band  # ascending: the last one seen is the latest
    communities = _community_names(unit)

    zh = _zh()
    instruments = library()
    used = sorted({code for _p, code in latest})

    def band_label(code: str, band: str) -> str:
        instrument = instruments.get(code)
        for b in instrument.bands if instrument else ():
            if b.code == band:
                return b.zh if zh else b.en
        return band

    def instrument_name(code: str) -> str:
        instrument = instruments.get(code)
        if instrument is None:
            return code
        return instrument.zh if zh else instrument.en

    group_order = {g.value: i for i, g in enumerate(TargetGroup)}
    header = [
        _("Pseudonym"),
        _("Age band"),
        _("Sex"),
        _("Target groups"),
        _("Priority level"),
        _("Risk level"),
        _("On a follow-up plan"),
        _("Assessments completed in the period"),
        *(_("%(instrument)s: latest band") % {"instrument": instrument_name(c)} for c in used),
        _("Community"),
    ]
    salt = secrets.token_bytes(32)  # drawn for this export only, never stored or logged
    yes, no = _("On a plan"), _("No plan")
    rows: list[list[str]] = []
    for person_id, unit_id, sex, born, level in people:
        person_groups = sorted(groups.get(person_id, ()), key=lambda g: group_order.get(g, 99))
        person_risk = risk.get(person_id)
        rows.append(
            [
                pseudonym(salt, person_id),
                age_band(born, today),
                str(Sex(sex).label) if sex in Sex.values else "",
                "、".join(
                    str(TargetGroup(g).label) if g in TargetGroup.values else g
                    for g in person_groups
                ),
                str(level),
                str(RiskLevel(person_risk).label) if person_risk in RiskLevel.values else "",
                yes if person_id in on_plan else no,
                str(in_period.get(person_id, 0)),
                *(
                    safe_text(band_label(c, latest[(person_id, c)]))
                    if (person_id, c) in latest
                    else ""
                    for c in used
                ),
                safe_text(communities.get(unit_id, "")),
            ]
        )
    # In pseudonym order: the order of the rows says nothing about the files (not the order
    # of registration, nor of the ids).
    rows.sort(key=lambda r: r[0])
    return LineList(unit=unit, period=period, header=header, rows=rows)


def to_csv(line_list: LineList) -> bytes:
    """UTF-8 with a byte-order mark (so that Excel reads the Chinese text), one header row."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(line_list.header)
    writer.writerows(line_list.rows)
    return buffer.getvalue().encode("utf-8")
