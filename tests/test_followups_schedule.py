"""The follow-up schedule (R-FOLLOW), a pure core: every rule of its table, and the dates."""

from datetime import date
from pathlib import Path

import pytest

from xinqiao.followups import schedule
from xinqiao.followups.schedule import (
    BEREAVED,
    RISK_LEVEL,
    SMI_STATUS,
    UNDER_SERVICE,
    Interval,
    after_unreached,
    interval,
    next_due,
    overdue_days,
)
from xinqiao.risk import response, smi


@pytest.mark.parametrize(
    ("level_days", "smi_days", "bereaved", "expected"),
    [
        # Seed 000 二(五): everyone under service at least once every six months.
        (None, None, False, Interval(180, UNDER_SERVICE)),
        # A level whose interval is the cap: the cap's rule is named (first of equals).
        (180, None, False, Interval(180, UNDER_SERVICE)),
        # The response matrix's interval at the person's level.
        (30, None, False, Interval(30, RISK_LEVEL)),
        (1, None, False, Interval(1, RISK_LEVEL)),
        # A city that set a longer interval than six months still gets six months.
        (365, None, False, Interval(180, UNDER_SERVICE)),
        # Severe mental disorder: the national schedule (stable 90, otherwise 14 days).
        (None, 90, False, Interval(90, SMI_STATUS)),
        (30, 14, False, Interval(14, SMI_STATUS)),
        (7, 90, False, Interval(7, RISK_LEVEL)),
        # Family of a deceased person: quarterly reassessment (seed 002 篇6 三(三)1).
        (None, None, True, Interval(90, BEREAVED)),
        (180, None, True, Interval(90, BEREAVED)),
        (30, None, True, Interval(30, RISK_LEVEL)),
        (None, 90, True, Interval(90, SMI_STATUS)),
    ],
)
def test_the_shortest_rule_that_applies_sets_the_interval(level_days, smi_days, bereaved, expected):
    assert interval(level_days=level_days, smi_days=smi_days, bereaved=bereaved) == expected


def test_the_defaults_of_the_matrix_and_the_smi_schedule_give_the_expected_intervals():
    days = {level: r.followup_days for level, r in response.DEFAULT_MATRIX.items()}
    assert [interval(level_days=d, smi_days=None, bereaved=False).days for d in days.values()] == [
        1,
        7,
        30,
        180,
    ]
    stable = smi.assess(smi.Findings(0, "none", "good", "good", "none", "none"))
    unstable = smi.assess(smi.Findings(3, "marked", "none", "poor", "none", "none"))
    general = days[response.GENERAL]
    assert interval(level_days=general, smi_days=stable.next_days, bereaved=False).days == 90
    assert interval(level_days=general, smi_days=unstable.next_days, bereaved=False).days == 14
    # Stable for a year: four follow-ups at least (the national minimum).
    assert smi.MIN_FOLLOWUPS_PER_YEAR <= 365 // 90


@pytest.mark.parametrize("bad", [{"level_days": 0}, {"smi_days": -3}])
def test_an_interval_under_a_day_is_refused(bad):
    arguments = {"level_days": None, "smi_days": None, "bereaved": False, **bad}
    with pytest.raises(ValueError, match="at least 1 day"):
        interval(**arguments)


def test_next_due_counts_from_the_last_contact():
    assert next_due(last_contact=date(2026, 3, 1), changed_on=date(2026, 3, 1), days=30) == date(
        2026, 3, 31
    )


def test_without_a_contact_it_counts_from_the_start_of_the_plan():
    assert next_due(last_contact=None, changed_on=date(2026, 3, 1), days=7) == date(2026, 3, 8)


def test_a_shorter_interval_after_a_level_change_makes_it_due_at_once_not_overdue():
    # Last seen in January, monthly; raised to crisis (daily) on 1 March: due on 1 March
    # itself, not "overdue since 2 January".
    assert next_due(last_contact=date(2026, 1, 1), changed_on=date(2026, 3, 1), days=1) == date(
        2026, 3, 1
    )
    # Lowered to general (six months): due six months after the last contact.
    assert next_due(last_contact=date(2026, 1, 1), changed_on=date(2026, 3, 1), days=180) == date(
        2026, 6, 30
    )


def test_an_unreached_person_is_tried_again_within_three_days_then_escalated():
    first = after_unreached(attempted_on=date(2026, 3, 1), failed_in_a_row=1, days=30)
    assert (first.due, first.escalate) == (date(2026, 3, 4), False)
    second = after_unreached(attempted_on=date(2026, 3, 4), failed_in_a_row=2, days=30)
    assert not second.escalate
    third = after_unreached(attempted_on=date(2026, 3, 7), failed_in_a_row=3, days=30)
    assert (third.due, third.escalate) == (date(2026, 3, 10), True)
    # A daily follow-up is retried the next day, not in three.
    daily = after_unreached(attempted_on=date(2026, 3, 1), failed_in_a_row=1, days=1)
    assert daily.due == date(2026, 3, 2)
    with pytest.raises(ValueError, match="at least 1"):
        after_unreached(attempted_on=date(2026, 3, 1), failed_in_a_row=0, days=30)


def test_overdue_days():
    assert overdue_days(due=date(2026, 3, 1), today=date(2026, 3, 11)) == 10
    assert overdue_days(due=date(2026, 3, 11), today=date(2026, 3, 1)) == 0


def test_the_core_imports_no_django():
    assert "django" not in Path(schedule.__file__).read_text(encoding="utf-8")
