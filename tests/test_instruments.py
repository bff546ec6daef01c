"""The instrument library and the scoring engine (issue #4 items 1, 2, 6).

Cut-offs are checked against CLINICAL.md independently of the data files: for every raw score
each instrument can reach, the band index must equal the number of published cut-offs at or
below the total (reversed where a higher score is better)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinqiao.instruments.engine import AnswerError, Instrument, score
from xinqiao.instruments.library import FOLDER, DefinitionError, library, load_file, parse

REPO = Path(__file__).resolve().parent.parent

# Lower bounds of every band but the first, in ascending score (CLINICAL.md "Instruments").
CUTOFFS: dict[str, list[int]] = {
    "phq9": [5, 10, 15, 20],
    "gad7": [5, 10, 15],
    "phq4": [3, 6, 9],
    "phq15": [5, 10, 15],
    "pcl5": [33],
    "who5": [29, 51],
    "k10": [16, 22, 30],
    "k6": [13],
    "pss10": [14, 27],
    "ais": [6],
    "sds": [53, 63, 73],
    "sas": [50, 60, 70],
    "asq": [1],
    "phqa": [5, 10, 15, 20],
}
SHIPPED = sorted(library())


def answers_for_raw(instrument: Instrument, raw: int) -> list[int | None]:
    """Answers (option values) whose reverse-scored sum is ``raw``: greedy over the items."""
    answers: list[int | None] = []
    remaining = raw - instrument.raw_range()[0]
    for item in instrument.items:
        if not item.scored:
            answers.append(None if item.optional else min(item.values))
            continue
        lowest, highest = min(item.values), max(item.values)
        step = min(remaining, highest - lowest)
        scored_value = lowest + step
        remaining -= step
        answers.append(lowest + highest - scored_value if item.reverse else scored_value)
    assert remaining == 0
    while answers and answers[-1] is None:
        answers.pop()
    return answers


def test_every_shipped_instrument_loads_and_has_published_cut_offs_here():
    assert "phq9" in SHIPPED
    for path in sorted(FOLDER.glob("*.yaml")):
        assert load_file(path).code == path.stem
    # No instrument ships without its cut-offs checked against the publication above.
    assert set(SHIPPED) <= set(CUTOFFS), sorted(set(SHIPPED) - set(CUTOFFS))


@pytest.mark.parametrize("code", SHIPPED)
def test_every_cut_off_of_every_instrument(code):
    instrument = library()[code]
    low, high = instrument.raw_range()
    seen_totals = set()
    for raw in range(low, high + 1):
        result = score(instrument, answers_for_raw(instrument, raw))
        assert result.raw == raw
        assert result.total == int(raw * instrument.factor)
        position = sum(1 for c in CUTOFFS[code] if result.total >= c)
        expected = len(instrument.bands) - 1 - position if instrument.higher_is_better else position
        assert result.band_index == expected, (code, raw, result.total)
        seen_totals.add(result.total)
    for cut in CUTOFFS[code]:  # both sides of each cut-off are reachable and were checked
        assert any(t >= cut for t in seen_totals)
        assert any(t < cut for t in seen_totals)


def test_phq9_matches_the_contract_example():
    result = score(library()["phq9"], [1, 2, 1, 2, 1, 1, 2, 1, 1])
    assert result.as_contract() == {
        "instrument": "phq9",
        "raw": 12,
        "total": 12,
        "severity": {"index": 2, "code": "moderate", "label": "中度"},
        "subscales": {},
        "critical_items": [9],
        "flags": ["suicidal_ideation"],
    }


@pytest.mark.skipif("sds" not in SHIPPED, reason="sds not shipped yet")
def test_zung_index_truncates():
    sds = library()["sds"]
    # raw 42 → 42 × 1.25 = 52.5 → index 52 (CLINICAL.md: truncation is our default).
    assert score(sds, answers_for_raw(sds, 42)).total == 52
    assert score(sds, answers_for_raw(sds, 43)).total == 53


@pytest.mark.skipif("who5" not in SHIPPED, reason="who5 not shipped yet")
def test_who5_percentage_and_direction():
    who5 = library()["who5"]
    best = score(who5, [5, 5, 5, 5, 5])
    worst = score(who5, [0, 0, 0, 0, 0])
    assert (best.total, worst.total) == (100, 0)
    assert best.band_index == 0
    assert worst.band_index == len(who5.bands) - 1


@pytest.mark.skipif("pcl5" not in SHIPPED, reason="pcl5 not shipped yet")
def test_pcl5_clusters_and_dsm5_rule():
    pcl5 = library()["pcl5"]
    answers = [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    result = score(pcl5, answers)
    assert result.subscales["b_intrusion"]["score"] == 2
    assert "dsm5_ptsd_criteria" in result.flags
    answers[5] = 1  # no C symptom endorsed
    assert "dsm5_ptsd_criteria" not in score(pcl5, answers).flags


@pytest.mark.skipif("phq4" not in SHIPPED, reason="phq4 not shipped yet")
def test_phq4_subscales():
    result = score(library()["phq4"], [2, 1, 0, 1])
    assert result.subscales["anxiety"]["score"] == 3
    assert "anxiety_positive" in result.flags
    assert "depression_positive" not in result.flags


@pytest.mark.parametrize(
    ("code", "answers", "message", "item"),
    [
        ("phq9", [0] * 8, "needs", None),
        ("phq9", [0] * 11, "needs", None),
        ("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0], "item 3", 3),
        ("phq9", [0, 0, 0, 0, None, 0, 0, 0, 0], "item 5", 5),
        ("phq9", [0, 0, 0, 0, 0, 0, 0, 0, True], "item 9", 9),
    ],
)
def test_bad_answers_name_the_item(code, answers, message, item):
    with pytest.raises(AnswerError, match=message) as info:
        score(library()[code], answers)
    assert info.value.item == item


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SHIPPED), st.data())
def test_totals_stay_in_range_and_reverse_scoring_is_an_involution(code, data):
    instrument = library()[code]
    answers = []
    for item in instrument.items:
        if item.optional and data.draw(st.booleans()):
            answers.append(None)
        else:
            answers.append(data.draw(st.sampled_from(item.values)))
    result = score(instrument, answers)
    low, high = instrument.total_range()
    assert low <= result.total <= high
    for item in instrument.items:
        if item.reverse:
            lo, hi = min(item.values), max(item.values)
            for v in item.values:
                assert lo + hi - (lo + hi - v) == v


def test_broken_definitions_are_refused_with_the_field_named():
    good = {
        "code": "x",
        "name": {"zh": "测", "en": "T"},
        "version": "1",
        "citation": "c",
        "bands_citation": "c",
        "licence": {"free_use": True, "text": "t"},
        "age": {"min": 18},
        "repeat_interval_days": 7,
        "options": [{"value": 0, "zh": "否", "en": "No"}, {"value": 1, "zh": "是", "en": "Yes"}],
        "items": [{"number": 1, "zh": "一", "en": "one"}, {"number": 2, "zh": "二", "en": "two"}],
        "scoring": {"factor": 1},
        "bands": [
            {"code": "a", "min": 0, "max": 0, "zh": "甲", "en": "A", "intervention": "none"},
            {"code": "b", "min": 1, "max": 2, "zh": "乙", "en": "B", "intervention": "group"},
        ],
    }
    assert parse(good, "x.yaml").total_range() == (0, 2)
    gap = {**good, "bands": [good["bands"][0], {**good["bands"][1], "min": 2}]}
    with pytest.raises(DefinitionError, match="gap or overlap"):
        parse(gap, "x.yaml")
    short = {**good, "bands": [good["bands"][0], {**good["bands"][1], "max": 1}]}
    with pytest.raises(DefinitionError, match="score reaches 2"):
        parse(short, "x.yaml")
    licensed = {**good, "licence": {"free_use": False, "text": "© someone"}}
    with pytest.raises(DefinitionError, match="free use"):
        parse(licensed, "x.yaml")
    wrong_example = {**good, "examples": [{"answers": [1, 1], "total": 1}]}
    with pytest.raises(DefinitionError, match="examples"):
        parse(wrong_example, "x.yaml")
    bad_critical = {
        **good,
        "items": [{**good["items"][0], "critical": {"at_least": 5}}, good["items"][1]],
    }
    with pytest.raises(DefinitionError, match="critical"):
        parse(bad_critical, "x.yaml")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_score_and_instruments():
    done = _cli("score", "phq9", "--answers", "1,2,1,2,1,1,2,1,1", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["severity"] == {"index": 2, "code": "moderate", "label": "中度"}
    bad = _cli("score", "phq9", "--answers", "0,0,9,0,0,0,0,0,0", "--json")
    assert bad.returncode == 2
    assert "item 3" in bad.stderr
    unknown = _cli("score", "nope", "--answers", "0")
    assert unknown.returncode == 2
    listed = _cli("instruments", "--json")
    assert set(json.loads(listed.stdout)) == set(SHIPPED)


@pytest.mark.parametrize("code", SHIPPED)
def test_every_questionnaire_validates_as_fhir_r4(code):
    from fhir.resources.R4B.questionnaire import Questionnaire

    from xinqiao.instruments.fhir import ORDINAL_VALUE, questionnaire

    instrument = library()[code]
    for language in ("zh", "en"):
        resource = questionnaire(instrument, language=language)
        parsed = Questionnaire.model_validate(resource)
        assert parsed.status == "active"
        assert len(parsed.item) == len(instrument.items) + 1
        first = resource["item"][0]["answerOption"][0]["extension"][0]
        assert first["url"] == ORDINAL_VALUE


def test_phq9_questionnaire_carries_verified_loinc_codes():
    from xinqiao.instruments.fhir import questionnaire

    resource = questionnaire(library()["phq9"])
    assert resource["code"][0]["code"] == "44249-1"
    assert resource["item"][8]["code"][0]["code"] == "44260-8"
    assert resource["item"][-1]["code"][0]["code"] == "44261-6"
    assert resource["item"][0]["answerOption"][3]["valueCoding"]["code"] == "LA6571-9"
