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


@dataclass(frozen=True)
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


def _reverse(item: Item, value: int) -> int:
    return min(item.values) + max(item.values) - value if item.reverse else value


def score(instrument: Instrument, answers: Sequence[int | None]) -> Score:
    """Score ``answers`` (published option values, in item order; None for a skipped
    optional item). Trailing optional items may be left out."""
    items = instrument.items
    required = len(items)
    while required and items[required - 1].optional:
        required -= 1
    if not required <= len(answers) <= len(items):
        expected = str(len(items)) if required == len(items) else f"{required}–{len(items)}"
        raise AnswerError(f"{instrument.code} needs {expected} answers, got {len(answers)}")
    given: dict[int, int] = {}
    for item, answer in zip(items, answers, strict=False):
        if answer is None:
            if not item.optional:
                raise AnswerError(f"item {item.number} needs an answer", item.number)
            continue
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise AnswerError(f"item {item.number}: {answer!r} is not a number", item.number)
        if answer not in item.values:
            allowed = ", ".join(str(v) for v in item.values)
            raise AnswerError(
                f"item {item.number}: {answer} is not one of its options ({allowed})", item.number
            )
        given[item.number] = answer
    scored = {
        i.number: _reverse(i, given[i.number]) for i in items if i.scored and i.number in given
    }
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
    critical = [
        i.number
        for i in items
        if i.critical_at_least is not None and given.get(i.number, -(10**9)) >= i.critical_at_least
    ]
    flags = [
        items_by(instrument, n).critical_flag
        for n in critical
        if items_by(instrument, n).critical_flag
    ]
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
