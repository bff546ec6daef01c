"""Aberration detection (issue #7 item 5), a pure core: each detector on hand-computed series,
the CSV reader's errors, and the ``xinqiao detect`` contract."""

import io
import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from xinqiao.hotline import detect as d
from xinqiao.hotline.detect import (
    DEFAULT_METHOD,
    METHODS,
    Alarm,
    Baseline,
    SeriesError,
    detect,
    read_csv,
)

START = date(2026, 3, 2)  # a Monday


def series(counts: list[int], start: date = START) -> list[tuple[date, int]]:
    return [(start + timedelta(days=i), c) for i, c in enumerate(counts)]


# Baseline 10, 12, 8, 10, 12, 8, 10: mean 70/7 = 10; squared deviations 0+4+4+0+4+4+0 = 16,
# sample variance 16/6 = 2.667, sd 1.63299. So (x − 10)/1.633: 14 → 2.449, 15 → 3.062,
# 20 → 6.124.
BASE7 = [10, 12, 8, 10, 12, 8, 10]
SD7 = math.sqrt(16 / 6)


@pytest.mark.parametrize(
    ("today", "alarm"),
    [(14, False), (15, True), (20, True), (10, False), (0, False)],
)
def test_c1_on_hand_computed_baseline(today: int, alarm: bool) -> None:
    flags = d.ears_c1([*BASE7, today])
    assert [f[0] for f in flags] == ([7] if alarm else [])
    (mean, score) = d.ears_scores([*BASE7, today], 0)[7] or (0.0, 0.0)
    assert mean == pytest.approx(10.0)
    assert score == pytest.approx((today - 10) / SD7)


def test_c1_needs_seven_days() -> None:
    assert d.ears_scores(BASE7, 0) == [None] * 7
    assert d.ears_c1([1, 1, 1, 50]) == []


def test_c2_skips_the_two_day_guard_band() -> None:
    # Days 7 and 8 (50 each) are in the guard band: C2 on day 9 uses days 0–6 only.
    counts = [*BASE7, 50, 50, 20]
    (mean, score) = d.ears_scores(counts, d.EARS_GUARD)[9] or (0.0, 0.0)
    assert mean == pytest.approx(10.0)
    assert score == pytest.approx(10 / SD7)
    assert [f[0] for f in d.ears_c2(counts)] == [9]
    # C1 on day 9 has the 50s in its baseline and does not flag 20.
    assert 9 not in [f[0] for f in d.ears_c1(counts)]


def test_sd_zero_uses_the_floor_of_one_count() -> None:
    # A flat baseline has sd 0: the floor MIN_SIGMA = 1 makes the statistic x − mean.
    assert d.ears_scores([5] * 7 + [7], 0)[7] == (5.0, 2.0)
    assert d.ears_c1([5] * 7 + [7]) == []
    assert d.ears_c1([5] * 7 + [9]) == [(7, 5.0, 4.0)]
    assert d.ears_c1([5] * 8) == []
    assert d.ears_c1([0] * 8) == []


def test_c3_accumulates_moderate_exceedances() -> None:
    # Days 0–8 are 10 (flat: sd floored at 1), so C2 on days 9, 10, 11 is x − 10.
    # 12, 12, 11: C2 = 2, 2, 1 → max(0, C2 − 1) = 1, 1, 0 → C3 = 2, not above 2.
    # 12, 12, 12: 1 + 1 + 1 = 3 > 2 → alarm on day 11, although no single C2 exceeds 3.
    quiet = [10] * 9 + [12, 12, 11]
    loud = [10] * 9 + [12, 12, 12]
    assert d.c3_scores(quiet)[11] == (10.0, 2.0)
    assert d.ears_c3(quiet) == []
    assert d.ears_c3(loud) == [(11, 10.0, 3.0)]
    assert d.ears_c2(loud) == []
    # The first C3 needs C2 on day t − 2, itself 9 days after the start: day 11.
    assert d.c3_scores(loud[:11]) == [None] * 11


@pytest.mark.parametrize(
    ("x", "base", "expected"),
    [
        # Poisson: P(X ≥ 1 | 1) = 1 − e⁻¹; P(X ≥ 3 | 2) = 1 − e⁻²(1 + 2 + 2).
        (1, Baseline(1.0, 1.0), 1 - math.exp(-1)),
        (3, Baseline(2.0, 1.0), 1 - 5 * math.exp(-2)),
        # Negative binomial μ = 2, φ = 2: size r = μ/(φ − 1) = 2, p(k) = (k + 1)/2^(k+2).
        (1, Baseline(2.0, 2.0), 1 - 1 / 4),
        (2, Baseline(2.0, 2.0), 1 - 1 / 4 - 2 / 8),
        (0, Baseline(2.0, 2.0), 1.0),
        (1, Baseline(0.0, 1.0), 0.0),
    ],
)
def test_upper_tail(x: int, base: Baseline, expected: float) -> None:
    assert d.upper_tail(x, base) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_glm_recovers_a_log_linear_trend() -> None:
    # 20·e^{0.02 j}, rounded, no weekday effect: the trend is kept and extrapolated to j = 58.
    window = [round(20 * math.exp(0.02 * j)) for j in range(56)]
    fit = d.fit_weekday_trend(window, 58)
    assert fit.mean == pytest.approx(20 * math.exp(0.02 * 58), rel=0.03)
    # Without a trend the prediction is the mean of the same weekday.
    flat = [10, 12, 9, 11, 10, 6, 5] * 8
    assert d.fit_weekday_trend(flat, 56 + 2).mean == pytest.approx(9.0)  # 58 % 7 = 2
    assert d.fit_weekday_trend(flat, 56 + 2).phi == 1.0


# Ten weeks of a weekly pattern with a Monday peak (day 0 is a Monday), with a little noise.
WEEK = [30, 12, 11, 12, 10, 6, 5]
NOISE = [0, 2, -1, 1, -2, 0, 1, -1, 2, -2, 1]


def weekly(weeks: int) -> list[int]:
    return [WEEK[t % 7] + NOISE[t % len(NOISE)] for t in range(7 * weeks)]


def test_glm_does_not_flag_a_monday_peak_but_flags_an_outbreak() -> None:
    counts = weekly(12)
    assert d.glm(counts) == []
    mondays = [t for t in range(7 * 9, 7 * 12) if t % 7 == 0]
    for t in mondays:
        base = d.glm_baselines(counts)[t]
        assert base is not None
        assert 27 < base.mean < 33
    counts[7 * 11 + 2] += 15  # a Wednesday of about 11
    assert [t for t, _, _ in d.glm(counts)] == [7 * 11 + 2]


def test_sparse_weekdays_are_pooled_so_one_call_is_no_outbreak() -> None:
    # A street's count of one category: one call on Mondays and Thursdays, never on a
    # Wednesday for eight weeks. A weekday level of 0 would make a single Wednesday call an
    # "outbreak"; pooled, the expectation is the window's mean (16 calls / 56 days).
    counts = [1 if t % 7 in (0, 3) else 0 for t in range(7 * 10)]
    t = 7 * 9 + 2  # a Wednesday
    counts[t] = 1
    base = d.glm_baselines(counts)[t]
    assert base is not None
    assert math.isclose(base.mean, 16 / 56, rel_tol=1e-6)
    assert t not in [i for i, _, _ in d.glm(counts)]
    assert t not in [i for i, _, _ in d.cusum_glm(counts)]
    counts[t] = 6  # six calls where one in three days is usual: an alarm
    assert t in [i for i, _, _ in d.glm(counts)]


def test_cusum_resets_after_a_signal() -> None:
    # k = 0.5, h = 2.5: S = 0, 1.5, 3.0 (signal, reset), 1.5, 3.0 (signal), 1.5, 3.0 (signal).
    zs: list[float | None] = [0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert d.cusum(zs, 0.5, 2.5) == [2, 4, 6]
    # Without the reset every day from 2 on would signal. None (no baseline) restarts S:
    # 1.5, restart, 1.5 — no signal, where 1.5, 1.5 + 1.5 = 3.0 would be one.
    assert d.cusum([2.0, None, 2.0], 0.5, 2.5) == []
    assert d.cusum([2.0, 2.0], 0.5, 2.5) == [1]
    assert d.cusum([-5.0, 1.0, 1.0], 0.5, 0.9) == [2]


def test_cusum_catches_a_few_days_of_two_sd_that_single_days_miss() -> None:
    counts = weekly(12)
    start = 7 * 10 + 1  # a Tuesday, Wednesday and Thursday, each about 11
    baselines = d.glm_baselines(counts)
    for t in range(start, start + 3):
        base = baselines[t]
        assert base is not None
        counts[t] = round(base.mean + 2 * math.sqrt(base.phi * base.mean))
    assert d.glm(counts) == []
    assert d.ears_c1(counts) == []
    flagged = [t for t, _, _ in d.cusum_glm(counts)]
    assert flagged
    assert all(start <= t < start + 3 for t in flagged)


def test_short_series_gives_no_alarm_for_any_method() -> None:
    for name in METHODS:
        assert detect(series([3, 50, 0, 90]), name) == []
        assert detect([], name) == []


def test_detect_returns_alarms_with_days() -> None:
    alarms = detect(series([5] * 7 + [9]), "ears_c1")
    assert alarms == [Alarm(START + timedelta(days=7), 9, 5.0, 4.0)]
    assert DEFAULT_METHOD in METHODS


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([*series([1, 2]), (START + timedelta(days=3), 1)], "must be consecutive"),
        (series([1, -1]), "is negative"),
        ([(START, 1.5)], "not a whole number"),
    ],
)
def test_detect_rejects_bad_series(bad: list[tuple[date, int]], message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        detect(bad)


def test_detect_rejects_unknown_method() -> None:
    with pytest.raises(SeriesError, match="unknown method 'nope'"):
        detect(series([1]), "nope")


def test_read_csv_with_and_without_header(tmp_path: Path) -> None:
    with_header = tmp_path / "a.csv"
    with_header.write_text("date,count\n2026-03-02,4\n2026-03-03, 0\n\n")
    assert read_csv(with_header) == series([4, 0])
    assert read_csv(io.StringIO("2026-03-02,4\n2026-03-03,5\n")) == series([4, 5])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,count\n2026-03-02,4\n2026-03-04,5\n", "line 3: gap before 2026-03-04: 1 missing"),
        ("2026-03-02,4\n2026-03-03,1\n2026-03-03,5\n", "line 3: date 2026-03-03 already on line 2"),
        ("2026-03-02,4\n2026-03-03,-2\n", "line 2: count -2 is negative"),
        ("2026-03-02,4\n2026-03-03,2.5\n", "line 2: count '2.5' is not a whole number"),
        ("2026-03-02,4\n2026-02-30,2\n", "line 2: '2026-02-30' is not a date"),
        ("2026-03-02,4\n03/03/2026,2\n", "line 2: '03/03/2026' is not a date"),
        ("2026-03-03,4\n2026-03-02,2\n", "line 2: date 2026-03-02 is earlier than 2026-03-03"),
        ("2026-03-02,4,7\n", "line 1: expected 2 fields"),
        ("", "no data rows"),
        ("date,count\n", "no data rows"),
    ],
)
def test_read_csv_errors(text: str, message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        read_csv(io.StringIO(text))


def test_read_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="no such file"):
        read_csv(tmp_path / "missing.csv")


def write_csv(path: Path, counts: list[int]) -> Path:
    path.write_text("date,count\n" + "".join(f"{day},{c}\n" for day, c in series(counts)))
    return path


def test_cli_json_contract(tmp_path: Path) -> None:
    counts = weekly(12)
    counts[7 * 11 + 2] += 25
    path = write_csv(tmp_path / "calls.csv", counts)
    out = io.StringIO()
    call_command("detect", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["method"] == DEFAULT_METHOD
    expected = [a.day.isoformat() for a in detect(series(counts))]
    assert result["alarms"] == expected
    assert (START + timedelta(days=7 * 11 + 2)).isoformat() in result["alarms"]

    out = io.StringIO()
    call_command("detect", str(path), "--json", "--method", "ears_c1", stdout=out)
    result = json.loads(out.getvalue())
    assert result["method"] == "ears_c1"
    assert result["alarms"] == [a.day.isoformat() for a in detect(series(counts), "ears_c1")]


def test_cli_human_readable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "calls.csv", [5] * 7 + [9])
    out = io.StringIO()
    call_command("detect", str(path), "--method", "ears_c1", stdout=out)
    text = out.getvalue()
    assert "ears_c1: 1 alarm(s) in 8 days (2026-03-02 to 2026-03-09)" in text
    assert "2026-03-09  observed 9  expected 5.0  score 4.00" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-02,4\n2026-03-05,5\n", "line 2: gap before 2026-03-05: 2 missing day(s)"),
        ("", "no data rows"),
    ],
)
def test_cli_bad_csv_exits_with_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("detect", str(path), "--json", stderr=err)
    assert exit_info.value.code == 2
    assert message in err.getvalue()


def test_cli_missing_file(tmp_path: Path) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("detect", str(tmp_path / "none.csv"), stderr=err)
    assert exit_info.value.code == 2
    assert "no such file" in err.getvalue()
