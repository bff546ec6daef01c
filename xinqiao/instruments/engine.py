"""The scoring engine (pure: no Django). Answers in → raw, total, subscales, band, critical
items, flags; bad answers are refused with the item named.

Definitions come from the data files beside this module (``library.py`` loads and checks
them). The output is the stable scoring contract of DESIGN.md ("Stable interfaces"):
``raw`` is the sum after reverse scoring; ``total`` is the score the bands apply to
(``floor(raw × factor)``, e.g. Zung SDS/SAS index = int(raw × 1.25), WHO-5 = raw × 4);
``severity.index`` counts bands from 0 = least severe; ``critical_items`` are 1-based item
numbers whose answer crossed the item's alarm threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class AnswerError(ValueError):
    """Bad input. ``item`` is the 1-based item number concerned, if any; ``field`` is the
    request field at fault ("answers" or "instrument")."""

    def __init__(self, message: str, item: int | None = None, field: str = "answers") -> None:
        super().__init__(message)
        self.item = item
        self.field = field


@dataclass(frozen=True)
class Option:
    value: int
    zh: str
    en: str
    loinc: str = ""


@dataclass(frozen=True)
class Item:
    number: int
    zh: str
    en: str
    options: tuple[Option, ...]
    reverse: bool = False
    scored: bool = True
    optional: bool = False
    critical_at_least: int | None = None
    critical_flag: str = ""
    loinc: str = ""

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    def score_of(self, value: int) -> int:
        """What answering ``value`` adds to the raw score: a reverse-scored item counts from
        the top (min + max − value). score() applies the same rule through its plan."""
        if not self.reverse:
            return value
        return min(self.values) + max(self.values) - value


@dataclass(frozen=True)
class Band:
    code: str
    low: int
    high: int
    zh: str
    en: str
    intervention: str


@dataclass(frozen=True)
class Subscale:
    code: str
    zh: str
    en: str
    items: tuple[int, ...]
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class FlagRule:
    """A flag raised when every condition holds (conditions are ANDed)."""

    code: str
    total_at_least: int | None = None
    subscales_at_least: Mapping[str, int] = field(default_factory=dict)
    # (items, value, count): at least ``count`` of ``items`` answered ≥ ``value``.
    items_at_least: tuple[tuple[tuple[int, ...], int, int], ...] = ()


@dataclass(frozen=True)
class Instrument:
    code: str
    zh: str
    en: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    factor: float = 1.0
    # Bands are listed by ascending score; when a higher score is better (WHO-5), the
    # severity index counts from the top band instead.
    higher_is_better: bool = False
    subscales: tuple[Subscale, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    def raw_range(self) -> tuple[int, int]:
        low = sum(min(i.values) for i in self.scored_items if not i.optional)
        high = sum(max(i.values) for i in self.scored_items)
        return low, high

    def total_of(self, raw: int) -> int:
        return math.floor(raw * self.factor + 1e-9)

    def total_range(self) -> tuple[int, int]:
        low, high = self.raw_range()
        return self.total_of(low), self.total_of(high)

    @cached_property
    def _plan(self) -> _Plan:
        # Worked out on first use and kept on the instance (the instrument is frozen, so it
        # cannot go stale); not a dataclass field, so equality and repr are unchanged.
        return _Plan.of(self)


@dataclass(frozen=True)
class _Plan:
    """What score() needs of one instrument, worked out once instead of on every scoring:
    the same rules, looked up rather than searched for."""

    # Answers needed: the items up to the last one that is not optional.
    required: int
    # Per item, in item order: its option values as a set (Item.values builds a tuple on
    # every call) …
    options: tuple[frozenset[int], ...]
    # … and, if it is reverse scored, min + max of its option values (its score is then
    # min + max − answer); None if it is not (or has no options, so cannot be answered).
    reversal: tuple[int | None, ...]
    # The items with an alarm threshold, in order: (number, threshold, critical flag).
    critical: tuple[tuple[int, int, str], ...]

    @classmethod
    def of(cls, instrument: Instrument) -> _Plan:
        items = instrument.items
        required = len(items)
        while required and items[required - 1].optional:
            required -= 1
        return cls(
            required=required,
            options=tuple(frozenset(i.values) for i in items),
            reversal=tuple(
                min(i.values) + max(i.values) if i.reverse and i.values else None for i in items
            ),
            critical=tuple(
                (i.number, i.critical_at_least, i.critical_flag)
                for i in items
                if i.critical_at_least is not None
            ),
        )


@dataclass(slots=True)
class Score:
    instrument: str
    raw: int
    total: int
    band: Band
    band_index: int
    subscales: dict[str, dict[str, Any]]
    critical_items: list[int]
    flags: list[str]

    def as_contract(self, language: str = "zh") -> dict[str, Any]:
        label = self.band.zh if language.startswith("zh") else self.band.en
        return {
            "instrument": self.instrument,
            "raw": self.raw,
            "total": self.total,
            "severity": {"index": self.band_index, "code": self.band.code, "label": label},
            "subscales": self.subscales,
            "critical_items": self.critical_items,
            "flags": self.flags,
        }


def _band_for(bands: Sequence[Band], value: int) -> tuple[int, Band]:
    for index, band in enumerate(bands):
        if band.low <= value <= band.high:
            return index, band
    raise AnswerError(f"no band covers the score {value}")


def _checked(item: Item, answer: int | None) -> int | None:
    """``answer`` if it is one of the item's option values; None for a skipped optional
    item; otherwise AnswerError naming the item."""
    if answer is None:
        if not item.optional:
            raise AnswerError(f"item {item.number} needs an answer", item.number)
        return None
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise AnswerError(f"item {item.number}: {answer!r} is not a number", item.number)
    if answer not in item.values:
        allowed = ", ".join(str(v) for v in item.values)
        raise AnswerError(
            f"item {item.number}: {answer} is not one of its options ({allowed})", item.number
        )
    return answer


def score(instrument: Instrument, answers: Sequence[int | None]) -> Score:
    """Score ``answers`` (published option values, in item order; None for a skipped
    optional item). Trailing optional items may be left out."""
    items = instrument.items
    plan = instrument._plan
    if not plan.required <= len(answers) <= len(items):
        expected = (
            str(len(items)) if plan.required == len(items) else f"{plan.required}–{len(items)}"
        )
        raise AnswerError(f"{instrument.code} needs {expected} answers, got {len(answers)}")
    given: dict[int, int] = {}
    scored: dict[int, int] = {}  # the scored items' answers after reverse scoring
    for item, options, reversal, answer in zip(
        items, plan.options, plan.reversal, answers, strict=False
    ):
        if type(answer) is not int or answer not in options:
            # Anything but a plain listed value: a skip, or refused with the item named.
            checked = _checked(item, answer)
            if checked is None:
                continue
            answer = checked
        given[item.number] = answer
        if item.scored:
            scored[item.number] = answer if reversal is None else reversal - answer
    raw = sum(scored.values())
    total = instrument.total_of(raw)
    band_index, band = _band_for(instrument.bands, total)
    if instrument.higher_is_better:
        band_index = len(instrument.bands) - 1 - band_index
    subscales: dict[str, dict[str, Any]] = {}
    for sub in instrument.subscales:
        value = sum(scored.get(n, 0) for n in sub.items)
        entry: dict[str, Any] = {"score": value}
        if sub.bands:
            sub_index, sub_band = _band_for(sub.bands, value)
            entry["band"] = {"index": sub_index, "code": sub_band.code}
        subscales[sub.code] = entry
    critical: list[int] = []
    flags: list[str] = []
    for number, threshold, flag in plan.critical:
        if given.get(number, -(10**9)) >= threshold:
            critical.append(number)
            if flag:
                flags.append(flag)
    for rule in instrument.flags:
        if _holds(rule, total, subscales, given):
            flags.append(rule.code)
    return Score(
        instrument=instrument.code,
        raw=raw,
        total=total,
        band=band,
        band_index=band_index,
        subscales=subscales,
        critical_items=critical,
        flags=list(dict.fromkeys(flags)),
    )


def items_by(instrument: Instrument, number: int) -> Item:
    return next(i for i in instrument.items if i.number == number)


def _holds(
    rule: FlagRule,
    total: int,
    subscales: Mapping[str, Mapping[str, Any]],
    given: Mapping[int, int],
) -> bool:
    if rule.total_at_least is not None and total < rule.total_at_least:
        return False
    for code, minimum in rule.subscales_at_least.items():
        if subscales[code]["score"] < minimum:
            return False
    for numbers, value, count in rule.items_at_least:
        if sum(1 for n in numbers if given.get(n, -(10**9)) >= value) < count:
            return False
    return True
