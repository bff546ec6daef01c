"""Property tests of the pure cores (issue #10 item 7: hypothesis on every pure core).

Each property is a rule the core's docstring or the seed states, checked on generated input:
scoring (xinqiao/instruments/engine.py), risk rules (xinqiao/risk/rules.py), follow-up
schedules (xinqiao/followups/schedule.py), text triage (xinqiao/hotline/triage.py), aberration
detection (xinqiao/hotline/detect.py), reporting periods (xinqiao/reports/periods.py) and
document and phone numbers (xinqiao/people/idcard.py). Small-cell suppression has its own
property tests (tests/test_report_cells.py). Deterministic (derandomize) and bounded."""

from __future__ import annotations

import io
import math
import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.people_data import resident_id
from xinqiao.followups import schedule
from xinqiao.hotline import detect as d
from xinqiao.hotline.triage import RISKS, triage
from xinqiao.instruments.engine import AnswerError, Instrument, score
from xinqiao.instruments.library import library
from xinqiao.people.idcard import (
    InvalidNumber,
    normalise_phone,
    parse_resident_id,
)
from xinqiao.reports import periods
from xinqiao.risk import rules

TODAY = date(2026, 12, 3)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FEW = settings(PROPERTY, max_examples=25)
# For the known failures below: no shrinking, the first counterexample is enough.

SHIPPED = sorted(library())

# Anything a form or a file may bring: every Unicode category, surrogates excepted.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def valid_answers(instrument: Instrument, draw: Any) -> list[int | None]:
    answers: list[int | None] = []
    for item in instrument.items:
        if item.optional and draw(st.booleans()):
            answers.append(None)
        else:
            answers.append(draw(st.sampled_from(item.values)))
    return answers


# --- scoring -----------------------------------------------------------------------------


@PROPERTY
@given(st.sampled_from(SHIPPED), st.data())
def test_the_band_follows_the_total_and_critical_items_follow_their_thresholds(code, data):
    instrument = library()[code]
    result = score(instrument, valid_answers(instrument, data.draw))
    band = instrument.bands[
        len(instrument.bands) - 1 - result.band_index
        if instrument.higher_is_better
        else result.band_index
    ]
    assert band.low <= result.total <= band.high
    assert 0 <= result.band_index < len(instrument.bands)
    assert result.total == instrument.total_of(result.raw)
    low, high = instrument.total_range()
    assert low <= result.total <= high


@PROPERTY
@given(st.sampled_from(SHIPPED), st.data())
def test_a_higher_total_never_gives_a_milder_band(code, data):
    """Bands are ordered by score: the severity index is monotone in the total (rising, or
    falling where a higher score is better, WHO-5)."""
    instrument = library()[code]
    a = score(instrument, valid_answers(instrument, data.draw))
    b = score(instrument, valid_answers(instrument, data.draw))
    if a.total > b.total:
        a, b = b, a
    if instrument.higher_is_better:
        assert a.band_index >= b.band_index
    else:
        assert a.band_index <= b.band_index


@PROPERTY
@given(st.sampled_from(SHIPPED), st.data())
def test_critical_items_are_the_items_at_or_over_their_threshold(code, data):
    instrument = library()[code]
    answers = valid_answers(instrument, data.draw)
    result = score(instrument, answers)
    expected = [
        item.number
        for item, answer in zip(instrument.items, answers, strict=False)
        if item.critical_at_least is not None
        and answer is not None
        and answer >= item.critical_at_least
    ]
    assert result.critical_items == expected


garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@PROPERTY
@given(st.sampled_from(SHIPPED), st.lists(garbage, max_size=40))
def test_any_answers_are_scored_or_refused_with_an_answer_error(code, answers):
    instrument = library()[code]
    try:
        result = score(instrument, answers)
    except AnswerError as error:
        item = error.item
    else:
        item = None
        low, high = instrument.total_range()
        assert low <= result.total <= high
    assert item is None or 1 <= item <= len(instrument.items)


# --- risk rules --------------------------------------------------------------------------


def assessment_facts(instrument: Instrument, answers: list[int | None]) -> dict[str, Any]:
    result = score(instrument, answers)
    return rules.assessment_facts(
        instrument=instrument.code,
        critical={n: answers[n - 1] or 0 for n in result.critical_items},
        flags=result.flags,
        band_code=result.band.code,
        band_index=result.band_index,
        band_count=len(instrument.bands),
        intervention=result.band.intervention,
    )


def level(facts: dict[str, Any]) -> int:
    decision = rules.evaluate(facts)
    return rules.GENERAL + 1 if decision is None else decision.level


@PROPERTY
@given(st.sampled_from(SHIPPED), st.data())
def test_a_signal_gets_the_most_urgent_level_of_the_rules_it_meets(code, data):
    instrument = library()[code]
    facts = assessment_facts(instrument, valid_answers(instrument, data.draw))
    decision = rules.evaluate(facts)
    if decision is None:
        assert not any(rule.applies(facts) for rule in rules.RULES)
        return
    assert decision.level in rules.LEVELS
    assert decision.rules
    assert decision.level == min(rules.RULES_BY_CODE[c].level for c in decision.rules)


@PROPERTY
@given(
    st.sampled_from(SHIPPED),
    st.data(),
    st.sets(
        st.sampled_from(
            [
                "suicidal_ideation",
                "suicide_risk_positive",
                "suicide_attempt_history",
                "acute_suicide_risk",
            ]
        )
    ),
)
def test_more_flags_never_make_a_signal_milder(code, data, extra):
    instrument = library()[code]
    facts = assessment_facts(instrument, valid_answers(instrument, data.draw))
    more = {**facts, "flags": [*facts["flags"], *sorted(extra)]}
    assert level(more) <= level(facts)


@PROPERTY
@given(st.integers(0, 3), st.integers(0, 3))
def test_a_worse_phq9_item_9_never_lowers_the_level(low, high):
    instrument = library()["phq9"]
    low, high = min(low, high), max(low, high)
    base = [1, 1, 1, 1, 1, 1, 1, 1]
    assert level(assessment_facts(instrument, [*base, high])) <= level(
        assessment_facts(instrument, [*base, low])
    )


@PROPERTY
@given(st.sets(st.sampled_from(sorted(rules.CONCERN_BEHAVIOURS))))
def test_a_concern_report_is_as_urgent_as_its_worst_behaviour(behaviours):
    facts = {"source": "concern_report", "behaviours": sorted(behaviours)}
    expected = min([rules.MODERATE, *(rules.CONCERN_BEHAVIOURS[b] for b in behaviours)])
    assert level(facts) == expected


@PROPERTY
@given(st.one_of(st.none(), st.sampled_from(rules.LEVELS)), st.sampled_from(rules.LEVELS))
def test_a_signal_raises_a_level_and_never_lowers_it(current, signal):
    merged = rules.merged_level(current, signal)
    assert merged <= signal
    assert current is None or merged <= current
    assert merged in {current, signal}


# --- follow-up schedules -----------------------------------------------------------------


@PROPERTY
@given(
    st.one_of(st.none(), st.integers(1, 400)),
    st.one_of(st.none(), st.integers(1, 400)),
    st.booleans(),
)
def test_the_interval_is_the_shortest_rule_and_at_most_half_a_year(level_days, smi_days, bereaved):
    chosen = schedule.interval(level_days=level_days, smi_days=smi_days, bereaved=bereaved)
    candidates = [schedule.MAX_DAYS]
    candidates += [x for x in (level_days, smi_days) if x is not None]
    if bereaved:
        candidates.append(schedule.BEREAVED_DAYS)
    assert chosen.days == min(candidates)
    assert 1 <= chosen.days <= schedule.MAX_DAYS  # seed 000 二(五) 每半年至少一次


@PROPERTY
@given(st.one_of(st.none(), days), days, st.integers(1, 400))
def test_the_next_follow_up_is_never_due_before_the_plan_changed(last_contact, changed_on, n):
    due = schedule.next_due(last_contact=last_contact, changed_on=changed_on, days=n)
    assert due >= changed_on
    assert due <= max(changed_on, (last_contact or changed_on) + timedelta(days=n))
    if last_contact is None:
        assert due == changed_on + timedelta(days=n)


@PROPERTY
@given(days, st.integers(1, 10), st.integers(1, 400))
def test_an_unreached_visit_is_retried_within_three_days(attempted_on, failed, n):
    result = schedule.after_unreached(attempted_on=attempted_on, failed_in_a_row=failed, days=n)
    assert attempted_on < result.due <= attempted_on + timedelta(days=3)
    assert result.escalate == (failed >= schedule.UNREACHED_ESCALATE_AFTER)


@PROPERTY
@given(days, days)
def test_overdue_days_count_only_past_the_due_date(due, today):
    overdue = schedule.overdue_days(due=due, today=today)
    assert overdue >= 0
    assert (overdue == 0) == (today <= due)
    assert overdue == 0 or due + timedelta(days=overdue) == today


@PROPERTY
@given(st.integers(-400, 0))
def test_a_non_positive_interval_is_refused(n):
    with pytest.raises(ValueError, match="at least 1 day"):
        schedule.next_due(last_contact=None, changed_on=TODAY, days=n)


# --- text triage -------------------------------------------------------------------------

# Text that reaches the lexicon: risk words, negations and time words among arbitrary ones.
WORDS = [
    "我",
    "他",
    "不",
    "没有",
    "想",
    "自杀",
    "想死",
    "不想活了",
    "割腕",
    "以前",
    "现在",
    "如果",
    "杀了他",
    "跳楼",
    "，",
    "。",
    " ",
    "<b>",
    "自 杀",
    "自殺",
]
triage_text = st.one_of(
    any_text,
    st.lists(st.one_of(st.sampled_from(WORDS), any_text), max_size=12).map("".join),
)


@FEW
@given(triage_text)
def test_triage_never_raises_and_its_spans_lie_inside_the_text(text):
    result = triage(text)
    assert result.risk in RISKS
    assert result.risk == max((s.level for s in result.signals), key=RISKS.index, default="none")
    for signal in result.signals:
        start, end = signal.span
        assert 0 <= start < end <= len(text)
        assert signal.level in RISKS
        assert signal.level != "none"
    assert triage(text) == result  # deterministic


# --- aberration detection ----------------------------------------------------------------

counts = st.lists(st.integers(0, 10**6), max_size=80)


def as_series(values: list[int], start: date) -> list[tuple[date, int]]:
    return [(start + timedelta(days=i), c) for i, c in enumerate(values)]


@FEW
@given(st.sampled_from(sorted(d.METHODS)), counts, days)
def test_every_method_answers_any_series_with_alarms_on_its_days(method, values, start):
    series = as_series(values, start)
    alarms = d.detect(series, method)
    by_day = dict(series)
    seen = [a.day for a in alarms]
    assert seen == sorted(set(seen))
    for alarm in alarms:
        assert alarm.day in by_day
        assert alarm.observed == by_day[alarm.day]
        assert math.isfinite(alarm.expected)
        assert alarm.expected >= 0
        assert not math.isnan(alarm.score)


@PROPERTY
@given(st.lists(st.tuples(days, st.integers(-5, 50)), max_size=12))
def test_a_broken_series_is_a_series_error(series):
    try:
        d.detect(series)
    except d.SeriesError:
        return
    d.check_series(series)  # accepted: it really was consecutive with counts ≥ 0
    assert all(c >= 0 for _, c in series)


@PROPERTY
@given(any_text)
def test_any_csv_text_is_read_or_refused_with_a_series_error(text):
    try:
        series = d.read_csv(io.StringIO(text))
    except d.SeriesError:
        return
    d.check_series(series)


# --- reporting periods -------------------------------------------------------------------

period_params = st.dictionaries(
    st.sampled_from(["period", "start", "end", "other"]),
    st.one_of(
        any_text,
        st.sampled_from(periods.CHOICES),
        days.map(date.isoformat),
        st.sampled_from(["", " ", "2026-02-30", "0000-01-01", "9999-12-31", "2026-13-01"]),
    ),
)


@PROPERTY
@given(period_params, days)
def test_a_period_is_parsed_or_refused_with_a_period_error(params, today):
    try:
        period = periods.parse(params, today)
    except periods.PeriodError as error:
        field = error.field
        assert field in {"period", "start", "end"}
        return
    assert period.start <= period.end
    assert 1 <= period.days <= periods.MAX_DAYS
    if period.code != "custom":
        assert period.start <= today


@PROPERTY
@given(days)
def test_weeks_months_and_quarters_hold_their_day(day):
    for period, size in (
        (periods.week_of(day), 7),
        (periods.month_of(day), None),
        (periods.quarter_of(day), None),
    ):
        assert period.start <= day <= period.end
        assert size is None or period.days == size
    assert periods.week_of(day).start.weekday() == 0
    assert periods.month_of(day).end.month == day.month
    assert (periods.month_of(day).end + timedelta(days=1)).day == 1


# --- document and phone numbers ----------------------------------------------------------

births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@PROPERTY
@given(births, st.integers(0, 10**6), st.booleans(), st.integers(0, 16), st.integers(1, 9))
def test_any_one_changed_digit_of_an_id_number_is_refused(born, serial, male, position, shift):
    """GB 11643 / ISO 7064 MOD 11-2 catches every single-digit substitution: the weights are
    non-zero modulo the prime 11. (tests/test_people_rules.py changes the check character.)"""
    number = resident_id(born, serial, male=male)
    assert parse_resident_id(number, today=TODAY).number == number
    changed = str((int(number[position]) + shift) % 10)
    wrong = number[:position] + changed + number[position + 1 :]
    with pytest.raises(InvalidNumber):
        parse_resident_id(wrong, today=TODAY)


@PROPERTY
@given(births, st.integers(0, 10**6), st.integers(0, 15))
def test_two_swapped_neighbouring_digits_are_refused(born, serial, position):
    number = resident_id(born, serial)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidNumber):
        parse_resident_id(swapped, today=TODAY)


@PROPERTY
@given(any_text)
def test_any_text_is_an_id_number_or_an_invalid_number(text):
    try:
        parsed = parse_resident_id(text, today=TODAY)
    except InvalidNumber:
        return
    assert len(parsed.number) == 18
    assert parse_resident_id(parsed.number, today=TODAY) == parsed


@PROPERTY
@given(any_text)
def test_any_text_is_a_phone_number_or_an_invalid_number(text):
    try:
        number = normalise_phone(text)
    except InvalidNumber:
        return
    digits = number.split("-")[0]
    assert digits.isdigit()
    if "-" not in number:
        assert normalise_phone(number) == number


@PROPERTY
@given(st.integers(3, 9), st.integers(0, 10**9 - 1), st.sampled_from(["", "+86 ", "0086", "86"]))
def test_a_mobile_number_normalises_to_its_eleven_digits(second, rest, prefix):
    number = f"1{second}{rest:09d}"
    spaced = f"{prefix}{number[:3]} {number[3:7]} {number[7:]}"
    assert normalise_phone(spaced) == number


# Unicode has other decimal digits than ASCII and full-width ones (Arabic-Indic, Devanagari,
# …); Python's \d and str.isdigit() accept them. A number written in them must be refused or
# folded to ASCII, or the same person's number is stored twice under two spellings and the
# duplicate check by blind index misses it.
other_digits = st.sampled_from([0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1040, 0x1D7CE])


@settings(PROPERTY, max_examples=50)
@given(births, st.integers(0, 10**6), other_digits)
def test_an_id_number_in_other_digits_is_refused_or_folded(born, serial, zero):
    number = resident_id(born, serial)
    other = "".join(chr(zero + int(c)) for c in number[:17]) + number[17]
    try:
        parsed = parse_resident_id(other, today=TODAY)
    except InvalidNumber:
        return
    assert parsed.number == number


@settings(PROPERTY, max_examples=50)
@given(st.integers(3, 9), st.integers(0, 10**9 - 1), other_digits)
def test_a_phone_number_in_other_digits_is_refused_or_folded(second, rest, zero):
    number = f"1{second}{rest:09d}"
    other = number[:2] + "".join(chr(zero + int(c)) for c in number[2:])
    try:
        normalised = normalise_phone(other)
    except InvalidNumber:
        return
    assert re.fullmatch(r"[0-9]+", normalised), normalised
