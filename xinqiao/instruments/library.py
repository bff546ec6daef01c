"""The instrument library: one YAML file per scale in this folder, loaded and checked (pure:
no Django). A file that breaks a rule stops start-up with a message naming file and field.

Rules checked: the schema (required fields and types); item numbers 1…n in order; option
values unique integers; reverse-scored, critical and subscale items exist; thresholds are legal
option values; the bands cover the whole total range without gaps or overlaps (and likewise
for subscale bands); flag rules name existing subscales and items; the licence allows free use
(an instrument whose licence does not is not shipped: docs/instruments.md); every worked
example in the file scores as the file says.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from xinqiao.instruments.engine import (
    AnswerError,
    Band,
    FlagRule,
    Instrument,
    Item,
    Option,
    Subscale,
    score,
)

FOLDER = Path(__file__).resolve().parent
INTERVENTIONS = {"none", "education", "group", "family", "individual", "urgent"}


class DefinitionError(ValueError):
    pass


def _need(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise DefinitionError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise DefinitionError(f"{where}: '{key}' has the wrong type")
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> tuple[str, str]:
    block = _need(data, key, dict, where)
    zh = _need(block, "zh", str, f"{where}.{key}")
    en = _need(block, "en", str, f"{where}.{key}")
    if not zh.strip() or not en.strip():
        raise DefinitionError(f"{where}.{key}: empty text")
    return zh, en


def _options(raw: Any, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise DefinitionError(f"{where}: options must be a non-empty list")
    options = []
    for k, entry in enumerate(raw):
        w = f"{where}[{k}]"
        options.append(
            Option(
                value=_need(entry, "value", int, w),
                zh=_need(entry, "zh", str, w),
                en=_need(entry, "en", str, w),
                loinc=str(entry.get("loinc", "")),
            )
        )
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise DefinitionError(f"{where}: option values repeat")
    return tuple(options)


def _bands(raw: Any, low: int, high: int, where: str) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise DefinitionError(f"{where}: bands must be a non-empty list")
    bands = []
    for k, entry in enumerate(raw):
        w = f"{where}[{k}]"
        zh, en = _need(entry, "zh", str, w), _need(entry, "en", str, w)
        intervention = _need(entry, "intervention", str, w)
        if intervention not in INTERVENTIONS:
            raise DefinitionError(f"{w}: intervention must be one of {sorted(INTERVENTIONS)}")
        bands.append(
            Band(
                code=_need(entry, "code", str, w),
                low=_need(entry, "min", int, w),
                high=_need(entry, "max", int, w),
                zh=zh,
                en=en,
                intervention=intervention,
            )
        )
    expected = low
    for band in bands:
        if band.low != expected:
            raise DefinitionError(
                f"{where}: band '{band.code}' starts at {band.low}, expected {expected} "
                "(gap or overlap)"
            )
        if band.high < band.low:
            raise DefinitionError(f"{where}: band '{band.code}' ends before it starts")
        expected = band.high + 1
    if expected - 1 != high:
        raise DefinitionError(f"{where}: bands end at {expected - 1}, the score reaches {high}")
    return tuple(bands)


def parse(data: Mapping[str, Any], source: str) -> Instrument:
    code = _need(data, "code", str, source)
    zh, en = _text(data, "name", source)
    for key in ("version", "citation", "bands_citation"):
        _need(data, key, str, source)
    licence = _need(data, "licence", dict, source)
    if _need(licence, "free_use", bool, f"{source}.licence") is not True:
        raise DefinitionError(f"{source}: the licence does not allow free use; do not ship it")
    _need(licence, "text", str, f"{source}.licence")
    age = _need(data, "age", dict, source)
    _need(data, "repeat_interval_days", int, source)
    if not isinstance(age.get("min"), int):
        raise DefinitionError(f"{source}.age: 'min' must be an integer")
    default_options = data.get("options")
    items = []
    for k, entry in enumerate(_need(data, "items", list, source)):
        w = f"{source}.items[{k}]"
        number = _need(entry, "number", int, w)
        if number != k + 1:
            raise DefinitionError(f"{w}: item numbers must run 1, 2, 3 … (got {number})")
        options = _options(entry.get("options", default_options), f"{w}.options")
        critical = entry.get("critical") or {}
        at_least = critical.get("at_least") if critical else None
        if at_least is not None and at_least not in [o.value for o in options]:
            raise DefinitionError(f"{w}.critical: {at_least} is not an option value")
        items.append(
            Item(
                number=number,
                zh=_need(entry, "zh", str, w),
                en=_need(entry, "en", str, w),
                options=options,
                reverse=bool(entry.get("reverse", False)),
                scored=bool(entry.get("scored", True)),
                optional=bool(entry.get("optional", False)),
                critical_at_least=at_least,
                critical_flag=str(critical.get("flag", "")),
                loinc=str(entry.get("loinc", "")),
            )
        )
    scoring = _need(data, "scoring", dict, source)
    factor = scoring.get("factor", 1)
    if not isinstance(factor, int | float) or factor <= 0:
        raise DefinitionError(f"{source}.scoring: factor must be a positive number")
    numbers = {i.number for i in items}
    subscales = []
    draft = Instrument(code=code, zh=zh, en=en, items=tuple(items), bands=(), factor=factor)
    for k, entry in enumerate(scoring.get("subscales", []) or []):
        w = f"{source}.scoring.subscales[{k}]"
        sub_items = tuple(_need(entry, "items", list, w))
        if not set(sub_items) <= numbers:
            raise DefinitionError(f"{w}: unknown items {sorted(set(sub_items) - numbers)}")
        sub_zh, sub_en = _text(entry, "name", w)
        by_number = {i.number: i for i in items}
        low = sum(min(by_number[n].values) for n in sub_items)
        high = sum(max(by_number[n].values) for n in sub_items)
        bands = _bands(entry["bands"], low, high, f"{w}.bands") if entry.get("bands") else ()
        subscales.append(
            Subscale(
                code=_need(entry, "code", str, w),
                zh=sub_zh,
                en=sub_en,
                items=sub_items,
                bands=bands,
            )
        )
    low, high = draft.total_range()
    bands = _bands(data.get("bands"), low, high, f"{source}.bands")
    flags = []
    sub_codes = {s.code for s in subscales}
    for k, entry in enumerate(scoring.get("flags", []) or []):
        w = f"{source}.scoring.flags[{k}]"
        when = _need(entry, "when", dict, w)
        subs = dict(when.get("subscales_at_least", {}) or {})
        if not set(subs) <= sub_codes:
            raise DefinitionError(f"{w}: unknown subscales {sorted(set(subs) - sub_codes)}")
        rules = []
        for rule in when.get("items_at_least", []) or []:
            rule_items = tuple(_need(rule, "items", list, w))
            if not set(rule_items) <= numbers:
                raise DefinitionError(f"{w}: unknown items")
            rules.append((rule_items, _need(rule, "value", int, w), _need(rule, "count", int, w)))
        flags.append(
            FlagRule(
                code=_need(entry, "code", str, w),
                total_at_least=when.get("total_at_least"),
                subscales_at_least=subs,
                items_at_least=tuple(rules),
            )
        )
    instrument = Instrument(
        code=code,
        zh=zh,
        en=en,
        items=tuple(items),
        bands=bands,
        factor=factor,
        higher_is_better=bool(scoring.get("higher_is_better", False)),
        subscales=tuple(subscales),
        flags=tuple(flags),
        meta={
            key: data.get(key)
            for key in (
                "version",
                "licence",
                "citation",
                "bands_citation",
                "age",
                "repeat_interval_days",
                "loinc",
                "instructions",
                "examples",
                "notes",
            )
        },
    )
    for k, example in enumerate(data.get("examples", []) or []):
        w = f"{source}.examples[{k}]"
        try:
            result = score(instrument, _need(example, "answers", list, w))
        except AnswerError as exc:
            raise DefinitionError(f"{w}: {exc}") from exc
        if "total" in example and result.total != example["total"]:
            raise DefinitionError(f"{w}: scores {result.total}, the file says {example['total']}")
        if "band" in example and result.band.code != example["band"]:
            raise DefinitionError(f"{w}: band {result.band.code}, the file says {example['band']}")
    return instrument


def load_file(path: Path) -> Instrument:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"{path.name}: not a mapping")
    instrument = parse(data, path.name)
    if instrument.code != path.stem:
        raise DefinitionError(f"{path.name}: code '{instrument.code}' differs from the file name")
    return instrument


@lru_cache(maxsize=1)
def library() -> dict[str, Instrument]:
    """Every instrument in this folder, by code, checked."""
    return {p.stem: load_file(p) for p in sorted(FOLDER.glob("*.yaml"))}


def get(code: str) -> Instrument:
    try:
        return library()[code]
    except KeyError:
        raise AnswerError(f"unknown instrument '{code}'", field="instrument") from None
