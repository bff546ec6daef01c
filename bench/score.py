"""Benchmark: scorings per second of the pure scoring engine, against a plain sum().

    .venv/bin/python bench/score.py [--seconds 2] [--rounds 5] [--json] [phq9 gad7 …]

No Django: imports only xinqiao.instruments.library and xinqiao.instruments.engine. For each
shipped instrument (or those named), prepares before timing a batch of random valid answer
lists (a fixed seed; every item answered with one of its option values), then in the same
run, on one core (one thread), interleaving the three in every round:
  1. sum() over the same answer lists: the floor of any scorer (the loop costs included);
  2. engine.score(instrument, answers): checks every answer, reverse scoring, total, band,
     subscales, critical items, flags;
  3. engine.score(instrument, answers).as_contract(): the same plus the contract dict.
Each measurement takes about --seconds, split into --rounds rounds; the median round is
reported. Prints scorings/second for all three and the ratio of score() to sum(), which is
steadier than the raw rates on a shared, noisy machine (goal: PHQ-9 score() at least
100,000 per second).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xinqiao.instruments import engine  # noqa: E402
from xinqiao.instruments.library import library  # noqa: E402

GOAL_INSTRUMENT = "phq9"
GOAL_PER_SECOND = 100_000
SEED = 4

Batch = list[list[int]]


def answer_lists(instrument: engine.Instrument, count: int, rng: random.Random) -> Batch:
    values = [item.values for item in instrument.items]
    return [[rng.choice(v) for v in values] for _ in range(count)]


def run_sum(_instrument: engine.Instrument, batch: Batch) -> None:
    for answers in batch:
        sum(answers)


def run_score(instrument: engine.Instrument, batch: Batch) -> None:
    score = engine.score
    for answers in batch:
        score(instrument, answers)


def run_contract(instrument: engine.Instrument, batch: Batch) -> None:
    score = engine.score
    for answers in batch:
        score(instrument, answers).as_contract()


KINDS: dict[str, Callable[[engine.Instrument, Batch], None]] = {
    "sum": run_sum,
    "score": run_score,
    "contract": run_contract,
}


def measure(
    instrument: engine.Instrument, batch: Batch, seconds: float, rounds: int
) -> dict[str, float]:
    """Median calls per second of each kind; the kinds take turns in every round."""
    passes = {}
    for kind, run in KINDS.items():
        started = time.perf_counter()
        run(instrument, batch)  # warm-up and calibration: one pass over the batch
        elapsed = time.perf_counter() - started
        passes[kind] = max(1, round(seconds / rounds / elapsed))
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        for kind, run in KINDS.items():
            started = time.perf_counter()
            for _ in range(passes[kind]):
                run(instrument, batch)
            elapsed = time.perf_counter() - started
            rates[kind].append(passes[kind] * len(batch) / elapsed)
    return {kind: statistics.median(values) for kind, values in rates.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("codes", nargs="*", help="instrument codes (default: every shipped one)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (median)")
    parser.add_argument("--lists", type=int, default=1000, help="answer lists per instrument")
    parser.add_argument("--json", action="store_true", help="print machine-readable output")
    args = parser.parse_args(argv)
    instruments = library()
    codes = args.codes or sorted(instruments, key=lambda c: (c != GOAL_INSTRUMENT, c))
    unknown = sorted(set(codes) - set(instruments))
    if unknown:
        parser.error(f"unknown instruments: {', '.join(unknown)} (shipped: {sorted(instruments)})")
    if args.seconds <= 0 or args.rounds < 1 or args.lists < 1:
        parser.error("--seconds, --rounds and --lists must be positive")

    rng = random.Random(SEED)
    batches = {code: answer_lists(instruments[code], args.lists, rng) for code in codes}
    machine = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "lists": args.lists,
        "seed": SEED,
    }
    if not args.json:
        print(
            f"{machine['implementation']} {machine['python']} on {machine['machine']}, one "
            f"thread; {args.lists:,} random answer lists per instrument (seed {SEED}); median "
            f"of {args.rounds} rounds, ~{args.seconds:g} s per measurement"
        )
        print()
        print(
            f"{'instrument':<11}{'items':>6}{'sum() /s':>14}{'score() /s':>14}"
            f"{'+as_contract() /s':>19}{'score/sum':>11}"
        )
    results = []
    for code in codes:
        instrument = instruments[code]
        rates = measure(instrument, batches[code], args.seconds, args.rounds)
        row = {
            "instrument": code,
            "items": len(instrument.items),
            "sum_per_second": round(rates["sum"]),
            "score_per_second": round(rates["score"]),
            "contract_per_second": round(rates["contract"]),
            "ratio_score_to_sum": round(rates["score"] / rates["sum"], 4),
        }
        results.append(row)
        if not args.json:
            print(
                f"{code:<11}{row['items']:>6}{row['sum_per_second']:>14,}"
                f"{row['score_per_second']:>14,}{row['contract_per_second']:>19,}"
                f"{row['ratio_score_to_sum']:>11.4f}",
                flush=True,
            )
    goal = next((r for r in results if r["instrument"] == GOAL_INSTRUMENT), None)
    if args.json:
        report: dict[str, object] = {**machine, "results": results}
        if goal is not None:
            report["goal"] = {
                "instrument": GOAL_INSTRUMENT,
                "score_per_second_at_least": GOAL_PER_SECOND,
                "met": goal["score_per_second"] >= GOAL_PER_SECOND,
            }
        print(json.dumps(report, indent=2))
    elif goal is not None:
        met = "met" if goal["score_per_second"] >= GOAL_PER_SECOND else "NOT met"
        print()
        print(
            f"goal: {GOAL_INSTRUMENT} score() at least {GOAL_PER_SECOND:,}/s on one core: {met} "
            f"({goal['score_per_second']:,}/s)"
        )


if __name__ == "__main__":
    main()
