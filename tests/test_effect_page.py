"""Effect evaluation (效果评估, issue #9 item 2): pre/post change per instrument and programme,
the reliable change index and recovery rates, by unit and target group, with the number of
people behind each figure; small counts hidden outside the unit that keeps the files (item 4),
and no hidden count recoverable from what the page shows."""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import date, datetime, timedelta
from fractions import Fraction
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings as django_settings
from django.test import override_settings
from django.urls import NoReverseMatch, URLResolver, include, path, reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.people_data import phone, resident_id
from xinqiao import urls as site_urls
from xinqiao.assessments import actions as assessment_actions
from xinqiao.counselling import actions as counselling_actions
from xinqiao.people import actions as people_actions
from xinqiao.reports import effect, urls_effect, views_effect
from xinqiao.reports import urls as reports_urls
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
THRESHOLD = 5

# --- the attacker's model ----------------------------------------------------------------------
# Each person falls in one of eight classes: reliable change (improved / none / deteriorated)
# crossed with recovery (reliably recovered / recovered only / a case not recovered / not a case),
# less the impossible pairs (a reliable recovery is an improvement; a recovery without reliable
# improvement is no reliable change). Every count the page shows is a sum of these classes.
ATOMS = [
    ("improved", "reliably_recovered"),
    ("no_change", "recovered_only"),
    ("improved", "not_recovered"),
    ("no_change", "not_recovered"),
    ("deteriorated", "not_recovered"),
    ("improved", "not_case"),
    ("no_change", "not_case"),
    ("deteriorated", "not_case"),
]
CHANGE = ("improved", "no_change", "deteriorated")
RECOVERY = ("reliably_recovered", "recovered_only", "not_recovered", "not_case")


def counts_of(atoms: list[int]) -> effect.Counts:
    change = [sum(n for (c, _r), n in zip(ATOMS, atoms, strict=True) if c == k) for k in CHANGE]
    recovery = [sum(n for (_c, r), n in zip(ATOMS, atoms, strict=True) if r == k) for k in RECOVERY]
    return effect.Counts(change=change, recovery=recovery)


def forms(f: effect.Figures) -> dict[str, tuple[set[int], int | None]]:
    """Every count a row publishes, as the set of atom indexes it adds up, and its value."""

    def where(test: Any) -> set[int]:
        return {i for i, a in enumerate(ATOMS) if test(a)}

    return {
        "people": (set(range(8)), f.people),
        **{c: (where(lambda a, c=c: a[0] == c), f.change[k]) for k, c in enumerate(CHANGE)},
        "cases": (where(lambda a: a[1] != "not_case"), f.case[0]),
        "not_case": (where(lambda a: a[1] == "not_case"), f.case[1]),
        "recovered": (where(lambda a: a[1] in RECOVERY[:2]), f.recovery[0]),
        "not_recovered": (where(lambda a: a[1] == "not_recovered"), f.recovery[1]),
        "reliably_recovered": (where(lambda a: a[1] == "reliably_recovered"), f.reliable[0]),
        "recovered_only": (where(lambda a: a[1] == "recovered_only"), f.reliable[1]),
    }


def determined(equations: list[dict[Any, int]], target: dict[Any, int]) -> bool:
    """Is ``target`` a linear combination of ``equations`` (over the rationals)?"""
    basis: list[dict[Any, Fraction]] = []
    for eq in equations:
        v = {k: Fraction(c) for k, c in eq.items() if c}
        for b in basis:
            p = next(iter(b))
            if v.get(p):
                f = v[p] / b[p]
                for k, c in b.items():
                    v[k] = v.get(k, Fraction(0)) - f * c
                v = {k: c for k, c in v.items() if c}
        if v:
            basis.append(v)
    t = {k: Fraction(c) for k, c in target.items()}
    for b in basis:
        p = next(iter(b))
        if t.get(p):
            f = t[p] / b[p]
            for k, c in b.items():
                t[k] = t.get(k, Fraction(0)) - f * c
            t = {k: c for k, c in t.items() if c}
    return not t


def attack(published: list[tuple[Any, effect.Figures]], truth: dict[Any, list[int]]) -> list[str]:
    """Try to work out every small count from everything shown: linear algebra on the shown
    counts (each a sum of the people's classes), and every class inside a count shown as 0 is
    known to be 0. ``published``: (the atoms' keys of the row, its figures)."""
    equations: list[dict[Any, int]] = []
    for keys, f in published:
        for _name, (atoms, value) in forms(f).items():
            if value is None:
                continue
            vars_ = [(key, a) for key in keys for a in atoms]
            equations.append(dict.fromkeys(vars_, 1))
            if value == 0:
                equations += [{v: 1} for v in vars_]
    found = []
    for keys, f in published:
        for name, (atoms, _value) in forms(f).items():
            true = sum(truth[key][a] for key in keys for a in atoms)
            if 0 < true < THRESHOLD:
                target = {(key, a): 1 for key in keys for a in atoms}
                if determined(equations, target):
                    found.append(f"{f.label}.{name}={true}")
    return found


def shown_counts(f: effect.Figures) -> list[int]:
    return [v for _atoms, v in forms(f).values() if v is not None]


# More examples, rows and larger counts for a long run: EFFECT_EXAMPLES, EFFECT_ROWS, EFFECT_MAX.
ATOM_MAX = int(os.environ.get("EFFECT_MAX", "4"))
atoms_st = st.lists(st.integers(0, ATOM_MAX), min_size=8, max_size=8)


@settings(max_examples=int(os.environ.get("EFFECT_EXAMPLES", "60")), deadline=None)
@given(
    groups=st.integers(0, 2),
    data=st.data(),
)
def test_no_small_count_can_be_worked_out_from_the_tables_of_a_page(groups, data):
    # The people of each unit row fall in classes of group membership (in group 1 or not, in
    # group 2 or not): a group's rows and the unit's rows are sums over these, and the attacker
    # does not know how the groups overlap.
    memberships = [tuple(bool(m >> g & 1) for g in range(groups)) for m in range(2**groups)]
    rows = data.draw(
        st.lists(
            st.lists(atoms_st, min_size=len(memberships), max_size=len(memberships)),
            min_size=1,
            max_size=int(os.environ.get("EFFECT_ROWS", "3")),
        )
    )
    truth: dict[Any, list[int]] = {}
    unit_rows = []
    for r, by_membership in enumerate(rows):
        for m, atoms in zip(memberships, by_membership, strict=True):
            truth[(r, m)] = atoms
        atoms = [sum(c) for c in zip(*by_membership, strict=True)]
        unit_rows.append((f"u{r}", f"u{r}", counts_of(atoms)))
    group_rows, group_keys = [], []
    for g in range(groups):
        keys = [(r, m) for r in range(len(rows)) for m in memberships if m[g]]
        atoms = [sum(col) for col in zip(*(truth[k] for k in keys), strict=True)]
        if sum(atoms):
            group_rows.append((f"g{g}", f"g{g}", counts_of(atoms)))
            group_keys.append(keys)
    overview, by_unit, by_group, _hidden = effect.publish(
        unit_rows, group_rows, suppress=True, limit=THRESHOLD, overview_label="all"
    )
    published = [(list(truth), overview)]
    published += [([(r, m) for m in memberships], f) for r, f in enumerate(by_unit)]
    published += list(zip(group_keys, by_group, strict=True))
    for _keys, f in published:
        assert all(v == 0 or v >= THRESHOLD for v in shown_counts(f)), f
    assert attack(published, truth) == []


def test_the_attack_finds_a_count_shown_without_complementary_suppression():
    # The test above can fail: hide only one small cell of a row and subtraction finds it.
    truth = {"u": [6, 2, 2, 0, 0, 0, 0, 2]}  # improved 8, no change 2, deteriorated 2
    f = effect.Figures("u", "u", 12, [8, None, 2], [None] * 2, [None] * 2, [None] * 2, None, 5)
    assert "u.no_change=2" in attack([(["u"], f)], truth)


def test_a_case_count_is_protected_like_any_other():
    # Six people, one a case at first: the case count is a cell of its own table, hidden with
    # its partner, not the difference of two counts shown.
    _overview, [row], _groups, _hidden = effect.publish(
        [("a", "a", counts_of([0, 0, 0, 0, 1, 0, 1, 4]))],
        [],
        suppress=True,
        limit=THRESHOLD,
        overview_label="all",
    )
    assert (row.people, row.case) == (6, [None, None])
    assert attack([(["u"], row)], {"u": [0, 0, 0, 0, 1, 0, 1, 4]}) == []


def test_linked_tables_hide_the_later_table_s_cells_and_keep_the_totals():
    # Unit b has 3 people: its row total is hidden, so the caseness cells are hidden too.
    rows = [
        ("a", "a", counts_of([5, 0, 5, 5, 0, 5, 5, 0])),
        ("b", "b", counts_of([1, 0, 0, 1, 0, 0, 1, 0])),
        ("c", "c", counts_of([5, 5, 0, 5, 5, 0, 5, 5])),
    ]
    overview, by_unit, _groups, hidden = effect.publish(
        rows, [], suppress=True, limit=THRESHOLD, overview_label="all"
    )
    assert "case" in hidden
    assert by_unit[1].people is None
    assert all(v is None for f in by_unit for v in f.case)
    assert overview.people == 25 + 3 + 30
    assert overview.case == [15 + 2 + 20, 10 + 1 + 10]


def test_without_suppression_every_figure_is_shown():
    rows = [("a", "a", counts_of([1, 0, 2, 0, 0, 0, 1, 1]))]
    overview, [row], _groups, hidden = effect.publish(
        rows, [], suppress=False, limit=THRESHOLD, overview_label="all"
    )
    assert not hidden
    for f in (overview, row):
        assert (f.people, f.change, f.case, f.recovery, f.reliable) == (
            5,
            [3, 1, 1],
            [3, 2],
            [1, 2],
            [1, 0],
        )
    assert overview.recovery_rate == 1 / 3
    assert overview.improvement_rate == 3 / 5


# --- the page, on people built through the real actions ----------------------------------------


def _routes_ready() -> bool:
    try:
        reverse("reports:effect", kwargs={"unit_id": uuid.uuid4()})
        reverse("reports:effect_csv", kwargs={"unit_id": uuid.uuid4()})
    except NoReverseMatch:
        return False
    return True


# Until reports/urls.py includes the effect routes, this module serves as the URLconf: the site's
# with the effect routes first in the reports namespace.
urlpatterns: list[Any] = [
    path(
        "reports/",
        include(([*urls_effect.urlpatterns, *reports_urls.urlpatterns], "reports")),
    ),
    *(
        p
        for p in site_urls.urlpatterns
        if not (isinstance(p, URLResolver) and p.app_name == "reports")
    ),
]
URLCONF = django_settings.ROOT_URLCONF if _routes_ready() else __name__

H2 = {"period": "custom", "start": "2025-07-01", "end": "2025-12-31"}
PRE, POST = datetime(2025, 3, 10, 10, tzinfo=TZ), datetime(2025, 9, 10, 10, tzinfo=TZ)

# PHQ-9 (first, latest) by hand: reliable change is 6 points, a case is 10 or more (Gyani et al.
# 2013). I improved, N no reliable change, D deteriorated; RR reliably recovered, RO recovered
# only, CNR a case not recovered, NC not a case at first.
GRID = [
    (18, 8),  # I RR
    (16, 6),  # I RR
    (15, 4),  # I RR
    (19, 9),  # I RR
    (14, 7),  # I RR
    (12, 5),  # I RR
    (9, 2),  # I NC
    (12, 9),  # N RO
    (14, 13),  # N CNR
    (8, 7),  # N NC
    (5, 12),  # D NC
    (11, 17),  # D CNR
]
OWN = [
    (19, 7),  # I RR  (in the programme; 3 in November, after it)
    (17, 9),  # I RR  (in the programme)
    (13, 6),  # I RR  (in the programme)
    (10, 3),  # I RR
    (8, 1),  # I NC
    (11, 11),  # N CNR
    (9, 8),  # N NC
    (10, 17),  # D CNR
]
OTHER = [(15, 5), (13, 4), (12, 3), (16, 8), (9, 9), (7, 14)]  # community c2
GAD7 = [(12, 7), (9, 9), (6, 3)]  # the first three of GRID; 4 points, a case is 8 or more


def classes(pre: int, post: int, points: int = 6, case: int = 10) -> tuple[str, str]:
    """The hand computation of one person's classes."""
    change = (
        "improved"
        if pre - post >= points
        else "deteriorated"
        if post - pre >= points
        else "no_change"
    )
    if pre < case:
        return change, "not_case"
    if post >= case:
        return change, "not_recovered"
    return change, "reliably_recovered" if change == "improved" else "recovered_only"


def expected(pairs: list[tuple[int, int]], points: int = 6, case: int = 10) -> dict[str, Any]:
    """Every figure of a row, computed by hand from the pairs."""
    got = [classes(a, b, points, case) for a, b in pairs]
    n = len(pairs)
    f: dict[str, Any] = {k: sum(c == k for c, _r in got) for k in CHANGE}
    f.update({k: sum(r == k for _c, r in got) for k in RECOVERY})
    f["people"] = n
    f["cases"] = n - f["not_case"]
    f["recovered"] = f["reliably_recovered"] + f["recovered_only"]
    f["pre"] = sum(a for a, _b in pairs) / n
    f["post"] = sum(b for _a, b in pairs) / n
    return f


def answers(total: int, items: int) -> list[int]:
    """Answers adding up to ``total``, the last PHQ-9 item (self-harm) left at 0."""
    scored = items - 1 if items == 9 else items
    out = [min(3, max(0, total - 3 * k)) for k in range(scored)]
    return out + [0] * (items - scored)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


class TableParser(HTMLParser):
    """The tables of a page by id: rows of cell texts (header row included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = TableParser()
    parser.feed(html)
    return parser.tables


def csv_tables(body: str) -> dict[str, list[list[str]]]:
    """The CSV's tables by title: header and rows."""
    out: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))):
        if not row:
            current = None
        elif row[0].startswith("# "):
            if current is None and len(row) == 1:
                current = out.setdefault(row[0][2:], [])
        elif current is not None:
            current.append(row)
    return out


@override_settings(ROOT_URLCONF=URLCONF)
class EffectPageTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.grid = cls.demo.grids[1][0]
        cls.street = cls.c1.parent
        cls.people: list[Any] = []
        cls.serial = 0
        with time_machine.travel(datetime(2025, 1, 5, 9, tzinfo=TZ), tick=False):
            grid = [cls.make(cls.grid) for _ in GRID]
            own = [cls.make(cls.c1) for _ in OWN]
            other = [cls.make(cls.c2, user=cls.c2_counsellor) for _ in OTHER]
            single, early, withdrawn, three = (cls.make(cls.c1) for _ in range(4))
        for person, (pre, post) in zip(grid + own, GRID + OWN, strict=True):
            cls.score(person, pre, PRE)
            cls.score(person, post, POST)
        for person, (pre, post) in zip(other, OTHER, strict=True):
            cls.score(person, pre, PRE, user=cls.c2_counsellor)
            cls.score(person, post, POST, user=cls.c2_counsellor)
        for person, (pre, post) in zip(grid[: len(GAD7)], GAD7, strict=True):
            cls.score(person, pre, PRE, instrument="gad7")
            cls.score(person, post, POST, instrument="gad7")
        # Not counted in the second half of 2025: one score only; the latest before the
        # period; the latest withdrawn as entered in error.
        cls.score(single, 15, POST)
        cls.score(early, 16, PRE)
        cls.score(early, 4, PRE + timedelta(days=30))
        cls.score(withdrawn, 14, PRE)
        mistake = cls.score(withdrawn, 2, POST)
        assessment_actions.mark_entered_in_error(
            acting_user=cls.c1_counsellor, assessment=mistake, reason="录错了"
        )
        # Three scores: the first against the latest (19 → 9: I RR).
        for total, at in ((19, PRE - timedelta(days=40)), (15, PRE), (9, POST)):
            cls.score(three, total, at)
        cls.own = [*own, three]
        cls.own_pairs = [*OWN, (19, 9)]
        # A programme from June to October with the first three of OWN; the first scores again
        # in November, after it ends (counted without the programme, not within it).
        cls.programme = counselling_actions.create_programme(
            acting_user=cls.c1_counsellor,
            unit=cls.c1,
            name="睡眠团体",
            kind="group",
            starts_on=date(2025, 6, 1),
            ends_on=date(2025, 10, 31),
        )
        counselling_actions.record_session(
            acting_user=cls.c1_counsellor,
            kind="group",
            format="offline",
            held_at=datetime(2025, 6, 15, 14, tzinfo=TZ),
            participants=[{"person": p} for p in own[:3]],
            programme=cls.programme,
        )
        cls.score(own[0], 3, datetime(2025, 11, 20, 10, tzinfo=TZ))
        cls.own_pairs[0] = (19, 3)
        # Target groups on the day of the latest score: five of the grid in hardship; one more
        # whose hardship ended before it; a student since January, and two only from October.
        for person in grid[:5]:
            cls.group(person, "hardship", date(2025, 1, 1))
        cls.group(grid[5], "hardship", date(2025, 1, 1), date(2025, 5, 1))
        cls.group(own[4], "student", date(2025, 1, 1))
        for person in own[5:7]:
            cls.group(person, "student", date(2025, 10, 1))

    @classmethod
    def make(cls, unit: Any, user: Any = None) -> Any:
        cls.serial += 1
        user = user or cls.c1_counsellor
        person = people_actions.register_person(
            acting_user=user,
            unit=unit,
            name=f"效果{cls.serial}",
            id_number=resident_id(date(1975, 4, 2), cls.serial + 300),
            phone=phone(cls.serial + 300),
        )
        for purpose in ("assessment", "counselling"):
            people_actions.give_consent(
                acting_user=user,
                person=person,
                purpose=purpose,
                given_by="self",
                method="signed_paper",
                given_on=date(2025, 1, 5),
            )
        cls.people.append(person)
        return person

    @classmethod
    def score(
        cls, person: Any, total: int, at: datetime, *, instrument: str = "phq9", user: Any = None
    ) -> Any:
        with time_machine.travel(at, tick=False):
            return assessment_actions.record_assessment(
                acting_user=user or cls.c1_counsellor,
                person=person,
                instrument=instrument,
                answers=answers(total, 9 if instrument == "phq9" else 7),
            )

    @classmethod
    def group(cls, person: Any, code: str, since: date, until: date | None = None) -> None:
        people_actions.add_group(
            acting_user=cls.c1_counsellor, person=person, group=code, date_from=since, date_to=until
        )

    def url(self, unit: Any, csv_: bool = False, **params: str) -> str:
        name = "reports:effect_csv" if csv_ else "reports:effect"
        query = urlencode({**H2, **params})
        return reverse(name, kwargs={"unit_id": unit.pk}) + "?" + query

    def get(self, user: Any, unit: Any, **params: str) -> tuple[dict[str, list[list[str]]], Any]:
        response = self.client_for(user).get(self.url(unit, **params))
        self.assertEqual(response.status_code, 200, response.content[:500])
        return page_tables(response.content.decode()), response

    def download(self, user: Any, unit: Any, **params: str) -> dict[str, list[list[str]]]:
        response = self.client_for(user).get(self.url(unit, csv_=True, **params))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        return csv_tables(response.content.decode())

    # --- every figure by hand ------------------------------------------------------------

    def change_row(self, f: dict[str, Any]) -> list[str]:
        n = f["people"]
        return [
            str(n),
            f"{f['pre']:.1f}",
            f"{f['post']:.1f}",
            f"{f['post'] - f['pre']:+.1f}",
            str(f["improved"]),
            pct(f["improved"], n),
            str(f["no_change"]),
            pct(f["no_change"], n),
            str(f["deteriorated"]),
            pct(f["deteriorated"], n),
        ]

    def recovery_row(self, f: dict[str, Any]) -> list[str]:
        return [
            str(f["people"]),
            str(f["cases"]),
            str(f["recovered"]),
            pct(f["recovered"], f["cases"]),
            str(f["reliably_recovered"]),
            pct(f["reliably_recovered"], f["cases"]),
            str(f["not_case"]),
        ]

    def test_a_member_of_the_community_sees_every_figure_as_computed_by_hand(self):
        tables, response = self.get(self.c1_worker, self.c1)
        self.assertNotContains(response, 'id="suppression-note"')
        grid, own, both = expected(GRID), expected(self.own_pairs), expected(GRID + self.own_pairs)
        self.assertEqual((grid["people"], grid["improved"], grid["deteriorated"]), (12, 7, 2))
        self.assertEqual((own["people"], own["cases"], own["recovered"]), (9, 7, 5))
        change = {r[0]: r[1:] for r in tables["table-change_by_unit"][1:]}
        recovery = {r[0]: r[1:] for r in tables["table-recovery_by_unit"][1:]}
        own_label = f"{self.c1.name}本身（档案在本单位）"
        self.assertEqual(set(change), {self.grid.full_name, own_label, self.c1.name})
        for label, figures in (
            (self.grid.full_name, grid),
            (own_label, own),
            (self.c1.name, both),
        ):
            with self.subTest(row=label):
                self.assertEqual(change[label], self.change_row(figures))
                self.assertEqual(recovery[label], self.recovery_row(figures))
        # 21 people: 13 reliably improved (61.9%), 16 cases of whom 12 recovered (75.0%).
        self.assertEqual(
            change[self.c1.name][:1] + change[self.c1.name][4:6], ["21", "13", "61.9%"]
        )
        self.assertEqual(recovery[self.c1.name][1:4], ["16", "12", "75.0%"])
        summary = {r[0]: r[1:] for r in tables["table-summary"][1:]}
        self.assertEqual(summary["可靠改善"], ["13", "21", "61.9%"])
        self.assertEqual(summary["康复"], ["12", "16", "75.0%"])

    def test_target_groups_on_the_day_of_the_latest_score(self):
        tables, _response = self.get(self.c1_worker, self.c1)
        change = {r[0]: r[1:] for r in tables["table-change_by_group"][1:]}
        # Hardship: the first five of the grid (the sixth's ended in May); student: one (the
        # two others joined in October, after their latest score).
        self.assertEqual(change["困难群众"], self.change_row(expected(GRID[:5])))
        self.assertEqual(change["学生"], self.change_row(expected([OWN[4]])))
        self.assertEqual(len(change), 2)

    def test_a_programme_counts_its_participants_within_it(self):
        tables, response = self.get(self.c1_worker, self.c1, programme=str(self.programme.pk))
        self.assertContains(response, "睡眠团体")
        change = {r[0]: r[1:] for r in tables["table-change_by_unit"][1:]}
        # Baseline on or before 1 June (March), post the latest up to 31 October (September):
        # the November score of the first is not counted.
        self.assertEqual(change[self.c1.name], self.change_row(expected(OWN[:3])))
        self.assertEqual(change[self.c1.name][1], f"{(19 + 17 + 13) / 3:.1f}")
        self.assertEqual(change[self.c1.name][2], f"{(7 + 9 + 6) / 3:.1f}")

    def test_gad7_has_its_own_criteria(self):
        tables, response = self.get(self.c1_worker, self.c1, instrument="gad7")
        self.assertContains(response, "4")
        change = {r[0]: r[1:] for r in tables["table-change_by_unit"][1:]}
        recovery = {r[0]: r[1:] for r in tables["table-recovery_by_unit"][1:]}
        figures = expected(GAD7, points=4, case=8)
        self.assertEqual((figures["improved"], figures["cases"], figures["recovered"]), (1, 2, 1))
        self.assertEqual(change[self.c1.name], self.change_row(figures))
        self.assertEqual(recovery[self.c1.name], self.recovery_row(figures))

    # --- small counts outside the community -------------------------------------------------

    def test_outside_the_community_small_counts_are_hidden_and_cannot_be_recovered(self):
        inside, _r = self.get(self.c1_worker, self.c1)
        outside, response = self.get(self.street_admin, self.c1)
        self.assertContains(response, 'id="suppression-note"')
        self.assertContains(response, "&lt;5")
        # In the community the grid's 2 deteriorated are shown; above it they are not.
        row = [r[0] for r in inside["table-change_by_unit"]].index(self.grid.full_name)
        self.assertEqual(inside["table-change_by_unit"][row][9], "2")
        self.assertEqual(outside["table-change_by_unit"][row][9], "<5")
        counts = {1, 5, 7, 9}  # count columns of the change table (after the label)
        for table in ("table-change_by_unit", "table-change_by_group"):
            for row in outside[table][1:]:
                for k in counts:
                    self.assertFalse(row[k].isdigit() and 0 < int(row[k]) < THRESHOLD, row)
        for table in ("table-recovery_by_unit", "table-recovery_by_group"):
            for row in outside[table][1:]:
                for k in (1, 2, 3, 5, 7):
                    self.assertFalse(row[k].isdigit() and 0 < int(row[k]) < THRESHOLD, row)
        # The attack: everything shown, as sums of each person's class, against the truth.
        evaluation = effect.evaluate(
            unit=self.c1, period=self.period(), instrument="phq9", suppress=True
        )
        truth: dict[Any, list[int]] = {}
        rows = {self.grid.pk.hex: GRID, effect.SELF: self.own_pairs}
        hardship = set(range(5))
        for child, pairs in rows.items():
            for i, (pre, post) in enumerate(pairs):
                key = (
                    child,
                    child == self.grid.pk.hex and i in hardship,
                    child == effect.SELF and i == 4,
                )
                atoms = truth.setdefault(key, [0] * 8)
                atoms[ATOMS.index(classes(pre, post))] += 1
        published = [(list(truth), evaluation.overview)]
        published += [([k for k in truth if k[0] == f.code], f) for f in evaluation.by_unit]
        keys = {"hardship": [k for k in truth if k[1]], "student": [k for k in truth if k[2]]}
        published += [(keys[f.code], f) for f in evaluation.by_group]
        self.assertEqual(attack(published, truth), [])
        # And the page shows exactly these figures.
        self.assertEqual(
            [r[1:] for r in outside["table-change_by_unit"][1:]],
            [
                views_effect._change_cells(f, THRESHOLD)
                for f in [*evaluation.by_unit, evaluation.overview]
            ],
        )

    def period(self) -> Any:
        from xinqiao.reports.periods import Period

        return Period(date(2025, 7, 1), date(2025, 12, 31))

    def test_the_street_sees_its_communities_with_small_counts_hidden(self):
        tables, response = self.get(self.street_admin, self.street)
        self.assertContains(response, 'id="suppression-note"')
        change = {r[0]: r[1:] for r in tables["table-change_by_unit"][1:]}
        self.assertEqual(set(change), {self.c1.name, self.c2.name, self.street.name})
        self.assertEqual(change[self.street.name][0], "27")
        self.assertEqual(change[self.c1.name][0], "21")
        self.assertEqual(change[self.c2.name][0], "6")
        # c2's one deteriorated person is hidden, and another cell with it.
        self.assertEqual(change[self.c2.name][8], "<5")
        self.assertGreaterEqual(sum(v == "<5" for row in change.values() for v in row), 4)

    def test_the_csv_is_what_the_page_shows(self):
        for user, unit in (
            (self.c1_worker, self.c1),
            (self.street_admin, self.c1),
            (self.street_admin, self.street),
        ):
            with self.subTest(user=user.username, unit=unit.name):
                tables, _r = self.get(user, unit)
                downloaded = self.download(user, unit)
                titles = [
                    f"摘要：{unit.full_name}",
                    "按单位的可靠变化",
                    "按单位的康复",
                    "按目标人群的可靠变化",
                    "按目标人群的康复",
                ]
                codes = [
                    "summary",
                    "change_by_unit",
                    "recovery_by_unit",
                    "change_by_group",
                    "recovery_by_group",
                ]
                for title, code in zip(titles, codes, strict=True):
                    page = tables.get(f"table-{code}")
                    if page is None:  # a table with no rows
                        self.assertEqual(downloaded[title][1:], [])
                        continue
                    self.assertEqual(downloaded[title], page)

    def test_no_person_is_named_or_identified(self):
        for user in (self.c1_worker, self.street_admin):
            _t, response = self.get(user, self.c1)
            body = response.content.decode()
            body += self.client_for(user).get(self.url(self.c1, csv_=True)).content.decode()
            for person in self.people:
                self.assertNotIn(person.name, body)
                self.assertNotIn(str(person.pk), body)

    # --- scope, permission and bad input ------------------------------------------------------

    def test_outside_the_scope_404_and_without_the_permission_403(self):
        for user, unit, status in (
            (self.c2_counsellor, self.c1, 404),
            (self.outsider, self.c1, 404),
            (self.c1_grid, self.c1, 404),
            (self.auditor, self.c1, 403),
            (self.volunteer, self.c1, 403),
            (self.c1_grid, self.grid, 403),
            (self.c1_worker, self.c1, 200),
        ):
            client = self.client_for(user)
            for csv_ in (False, True):
                with self.subTest(user=user.username, unit=unit.name, csv=csv_):
                    response = client.get(self.url(unit, csv_=csv_))
                    self.assertEqual(response.status_code, status)
                    if status != 200:
                        self.assertNotIn("效果", response.content.decode())
        missing = reverse("reports:effect", kwargs={"unit_id": uuid.uuid4()})
        self.assertEqual(self.client_for(self.city_admin).get(missing).status_code, 404)
        anonymous = self.client.get(self.url(self.c1))
        self.assertEqual(anonymous.status_code, 302)

    def test_bad_input_is_a_message_naming_the_field(self):
        client = self.client_for(self.c1_worker)
        for params, field, message in (
            ({"start": "2025-13-01"}, "从", "请按 YYYY-MM-DD 格式填写日期。"),
            ({"start": "2025-12-01", "end": "2025-11-01"}, "至", "时段的结束早于开始。"),
            ({"period": "fortnight"}, "时段", ""),
            ({"instrument": "k10"}, "量表", ""),
            ({"programme": str(uuid.uuid4())}, "项目", ""),
        ):
            with self.subTest(params=params):
                response = client.get(self.url(self.c1, **params))
                self.assertEqual(response.status_code, 400)
                body = response.content.decode()
                self.assertIn(f"{field}:", body)
                self.assertIn(message, body)
                self.assertNotIn("Traceback", body)
                self.assertNotIn('id="table-', body)
                download = client.get(self.url(self.c1, csv_=True, **params))
                self.assertEqual(download.status_code, 400)
                self.assertIn(field, download.content.decode())
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get(self.url(self.c1, start="2025-13-01"))
        self.assertContains(response, "From: Enter a date as YYYY-MM-DD.", status_code=400)
        # A programme of another community is not offered here.
        other = counselling_actions.create_programme(
            acting_user=self.c2_counsellor,
            unit=self.c2,
            name="别处的项目",
            kind="group",
            starts_on=date(2025, 6, 1),
        )
        response = client.get(self.url(self.c1, programme=str(other.pk)))
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, "别处的项目", status_code=400)
