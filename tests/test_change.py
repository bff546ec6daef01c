"""Change between scores (effect evaluation): Jacobson & Truax's reliable change index on a
worked example, and the PHQ-9 / GAD-7 criteria (Gyani et al. 2013) on every branch."""

import math
from pathlib import Path

import pytest

from xinqiao.instruments import change
from xinqiao.instruments.change import (
    classify,
    reliable_change_index,
    reliable_change_points,
    summarise,
)


def test_reliable_change_index_worked_example():
    # s1 = 7.0, r = 0.88: SE = 7 · √0.12 = 2.42487; S_diff = √2 · SE = 3.42929.
    # From 20 to 12: RCI = −8 / 3.42929 = −2.3328, beyond −1.96: a reliable improvement.
    rci = reliable_change_index(20, 12, sd=7.0, reliability=0.88)
    assert math.isclose(rci, -2.3328, abs_tol=1e-4)
    # The smallest reliable change is 1.96 · 3.42929 = 6.72 points.
    assert math.isclose(reliable_change_points(sd=7.0, reliability=0.88), 6.7214, abs_tol=1e-4)
    # From 20 to 15 (−5 points) is within measurement error.
    assert abs(reliable_change_index(20, 15, sd=7.0, reliability=0.88)) < change.Z_95


@pytest.mark.parametrize(("sd", "reliability"), [(0, 0.8), (-1, 0.8), (5, 1.0), (5, -0.1)])
def test_impossible_parameters_are_refused(sd, reliability):
    with pytest.raises(ValueError, match=r"sd|reliability"):
        reliable_change_index(10, 5, sd=sd, reliability=reliability)


@pytest.mark.parametrize(
    ("instrument", "first", "last", "improved", "deteriorated", "case", "recovered", "reliably"),
    [
        # PHQ-9: reliable = 6 points, caseness ≥ 10.
        ("phq9", 18, 8, True, False, True, True, True),  # −10, case → not: reliable recovery
        ("phq9", 12, 9, False, False, True, True, False),  # −3 across the line: recovered only
        ("phq9", 20, 14, True, False, True, False, False),  # −6 exactly: reliable, still a case
        ("phq9", 20, 15, False, False, True, False, False),  # −5: no reliable change
        ("phq9", 8, 2, True, False, False, False, False),  # not a case at first: no recovery
        ("phq9", 5, 11, False, True, False, False, False),  # +6: reliable deterioration
        ("phq9", 10, 10, False, False, True, False, False),  # 10 is a case
        # GAD-7: reliable = 4 points, caseness ≥ 8.
        ("gad7", 12, 7, True, False, True, True, True),
        ("gad7", 8, 5, False, False, True, True, False),
        ("gad7", 7, 3, True, False, False, False, False),
        ("gad7", 3, 7, False, True, False, False, False),
    ],
)
def test_classify(instrument, first, last, improved, deteriorated, case, recovered, reliably):
    result = classify(instrument, first, last)
    assert result.delta == last - first
    assert (
        result.reliably_improved,
        result.reliably_deteriorated,
        result.case_at_first,
        result.recovered,
        result.reliably_recovered,
    ) == (improved, deteriorated, case, recovered, reliably)


def test_an_instrument_without_criteria_is_refused():
    with pytest.raises(ValueError, match="no change criteria"):
        classify("who5", 10, 20)


def test_summary_and_rates_count_recovery_among_cases_only():
    pairs = [(18, 8), (12, 9), (20, 15), (8, 2), (5, 11)]
    summary = summarise("phq9", pairs)
    assert (summary.people, summary.cases_at_first) == (5, 3)
    assert (summary.reliably_improved, summary.reliably_deteriorated) == (2, 1)
    assert (summary.recovered, summary.reliably_recovered) == (2, 1)
    assert summary.reliable_improvement_rate == pytest.approx(2 / 5)
    assert summary.recovery_rate == pytest.approx(2 / 3)
    assert summary.reliable_recovery_rate == pytest.approx(1 / 3)
    empty = summarise("gad7", [])
    assert (empty.recovery_rate, empty.reliable_improvement_rate) == (None, None)


def test_the_core_imports_no_django():
    assert "django" not in Path(change.__file__).read_text(encoding="utf-8")
