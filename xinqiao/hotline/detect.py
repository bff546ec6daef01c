"""Aberration detection on daily counts (社会心态监测预警) — pure.

Issue #7 item 5; MISSION.md R-HOTLINE / R-MAILBOX; docs/early-warning.md gives the methods,
the evaluation and the limits. A series is a list of (day, count) for consecutive days; each
method looks at each day against a baseline from the days before it and flags the days whose
count is unexpectedly high. Days too early for a method's baseline are never flagged.

Methods (``METHODS``):

  ears_c1    CDC EARS C1-MILD. Hutwagner L, Thompson W, Seeman GM, Treadwell T. The
             bioterrorism preparedness and response Early Aberration Reporting System (EARS).
             J Urban Health 2003;80(2 Suppl 1):i89–96. Formulas as in Fricker RD, Hegler BL,
             Dunfee DA. Comparing syndromic surveillance detection methods: EARS' versus a
             CUSUM-based methodology. Stat Med 2008;27:3407–3429, section 2.1:
             C1_t = (x_t − mean(x_{t−7..t−1})) / sd(x_{t−7..t−1}); alarm when C1_t > 3.
  ears_c2    C2-MEDIUM: the same over x_{t−9..t−3} (a two-day guard band); alarm C2_t > 3.
  ears_c3    C3-HIGH: C3_t = Σ_{i=t−2..t} max(0, C2_i − 1); alarm when C3_t > 2.
  glm        a seasonal baseline after Farrington CP, Andrews NJ, Beale AD, Catchpole MA.
             A statistical algorithm for the early detection of outbreaks of infectious
             disease. JRSS A 1996;159:547–563, and Noufaily A et al. An improved algorithm
             for outbreak detection in multiple surveillance systems. Stat Med
             2013;32:1206–1222, adapted to daily data: a quasi-Poisson log-linear model with a
             day-of-week effect and a linear trend (kept only if significant, Farrington
            ), fitted on 8 weeks ending 3 days before the day; overdispersion from the
             Pearson residuals; alarm when the upper tail probability of the count under a
             negative binomial with that mean and variance (Noufaily) is below 0.01.
  cusum_glm  a standardised upper CUSUM (Page ES. Continuous inspection schemes. Biometrika
             1954;41:100–115; as used for syndromic surveillance by Rossi G, Lampugnani L,
             Marchi M. An approximate CUSUM procedure for surveillance of health events.
             Stat Med 1999;18:2111–2122, and Fricker et al. 2008) over the glm
             expectation: z_t = (x_t − μ_t) / √(φ μ_t), S_t = max(0, S_{t−1} + z_t − k),
             alarm when S_t > h, then S_t = 0 (reset after a signal, Fricker 2008).
             k = 0.5; h = 3.3 from bench/detect_eval.py (≤ 2 false alarms per 100 days).

The standard deviation of a short EARS baseline is 0 when its counts are all equal: the
statistic is then undefined. R's surveillance::earsC divides by max(sd, minSigma) (default
minSigma = 0, so an infinite statistic); here the floor is MIN_SIGMA = 1 (one count), which is
earsC with minSigma = 1. Any flat baseline of a counting series has this problem; one count is
the smallest change a count can show.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Protocol

MIN_SIGMA = 1.0  # floor for the EARS sd; surveillance::earsC control$minSigma (see above)
EARS_BASELINE = 7  # Hutwagner 2003: the 7 days before (C1) or before a 2-day guard (C2, C3)
EARS_GUARD = 2  # C2/C3 guard band, Hutwagner 2003
EARS_THRESHOLD = 3.0  # C1, C2: 3 standard deviations (Hutwagner 2003; Fricker 2008)
C3_THRESHOLD = 2.0  # C3: Σ max(0, C2 − 1) over 3 days > 2 (Fricker 2008)
GLM_WEEKS = 8  # trailing window of the seasonal fit, in weeks (the platform's choice)
GLM_GUARD = 2  # days left out between the window and the day, as EARS C2
GLM_MIN_WEEKDAY_COUNT = 5  # fewer counts on a weekday in the window: weekdays pooled
GLM_TREND_Z = 1.96  # Farrington 1996: a trend is kept when significant at 5 %
GLM_REWEIGHT_Z = 2.58  # Noufaily 2013: past days above this residual are set aside
GLM_ALPHA = 0.01  # upper tail probability for an alarm; score = −log10(p) > 2
CUSUM_K = 0.5  # reference value, in standard deviations (Fricker 2008; Rossi 1999)
CUSUM_H = 3.3  # decision interval: bench/detect_eval.py, ≤ 2 false alarms per 100 days (seeds 7, 8)

Flag = tuple[int, float, float]  # (index of the day, expected count, score)


class SeriesError(ValueError):
    """A series or a CSV file that cannot be read as consecutive daily counts."""


@dataclass(frozen=True)
class Alarm:
    day: date
    observed: int
    expected: float
    score: float


@dataclass(frozen=True)
class Baseline:
    """The expected count of a day and the overdispersion of its baseline window."""

    mean: float
    phi: float  # variance = phi × mean (quasi-Poisson); 1 = Poisson


class Detector(Protocol):
    def __call__(self, counts: Sequence[int], threshold: float | None = None) -> list[Flag]: ...


# --- EARS C1, C2, C3 -------------------------------------------------------------------


def ears_scores(counts: Sequence[int], guard: int) -> list[tuple[float, float] | None]:
    """(baseline mean, statistic) per day, or None before the baseline is complete.

    The baseline is the EARS_BASELINE days ending ``guard`` days before the day."""
    out: list[tuple[float, float] | None] = []
    for t, x in enumerate(counts):
        start = t - guard - EARS_BASELINE
        if start < 0:
            out.append(None)
            continue
        window = counts[start : t - guard]
        mean = statistics.fmean(window)
        sd = max(statistics.stdev(window), MIN_SIGMA)
        out.append((mean, (x - mean) / sd))
    return out


def c3_scores(counts: Sequence[int]) -> list[tuple[float, float] | None]:
    """C3_t = Σ_{i=t−2..t} max(0, C2_i − 1) (Fricker 2008), None until C2_{t−2} exists."""
    c2 = ears_scores(counts, EARS_GUARD)
    out: list[tuple[float, float] | None] = []
    for t in range(len(counts)):
        days = [c2[i] for i in (t - 2, t - 1, t) if i >= 0]
        present = [d for d in days if d is not None]
        if len(present) < 3:
            out.append(None)
            continue
        out.append((present[2][0], sum(max(0.0, d[1] - 1.0) for d in present)))
    return out


def _flags(scores: Sequence[tuple[float, float] | None], threshold: float) -> list[Flag]:
    return [(t, s[0], s[1]) for t, s in enumerate(scores) if s is not None and s[1] > threshold]


def ears_c1(counts: Sequence[int], threshold: float | None = None) -> list[Flag]:
    return _flags(ears_scores(counts, 0), EARS_THRESHOLD if threshold is None else threshold)


def ears_c2(counts: Sequence[int], threshold: float | None = None) -> list[Flag]:
    scores = ears_scores(counts, EARS_GUARD)
    return _flags(scores, EARS_THRESHOLD if threshold is None else threshold)


def ears_c3(counts: Sequence[int], threshold: float | None = None) -> list[Flag]:
    return _flags(c3_scores(counts), C3_THRESHOLD if threshold is None else threshold)


# --- Seasonal baseline: log-linear quasi-Poisson model, day of week + trend -------------


def fit_weekday_trend(window: Sequence[int], target: int) -> Baseline:
    """Fit log μ_j = a_{j mod 7} + b·(j − c) to ``window`` by Poisson maximum likelihood and
    predict position ``target`` (an index past the window, same weekday numbering).

    The weekday intercepts have a closed form given b (exp a_w = Σ_w v y / Σ_w v e^{b(j−c)},
    v the weights), so the likelihood is maximised over b alone by Newton steps on the
    profile score Σ v (j − c)(y_j − μ_j); this is the same maximum as IRLS on the full
    8-parameter model. The trend is kept only if |b| / se(b) > 1.96, se from the profile
    information × φ (Farrington 1996); φ = Σ v (y − μ)² / μ / (Σ v − p), at least 1
    (Farrington). Then, as Farrington / Noufaily 2013 reweight past outbreaks,
    days whose residual (y − μ)/√(φμ) exceeds 2.58 get weight 0 and the model is fitted
    again (the published weights are s⁻²; 0 is the simplification used here)."""
    n = len(window)
    centre = (n - 1) / 2
    ts = [j - centre for j in range(n)]
    classes = [[j for j in range(n) if j % 7 == w] for w in range(7)]
    # Sparse series (a street's count of one category): a weekday whose window holds fewer than
    # GLM_MIN_WEEKDAY_COUNT counts cannot carry its own level — its estimate would be 0 and
    # any single call that weekday an "outbreak". Farrington et al. 1996 likewise refuse to
    # model from too few reports; here the weekdays are pooled into one level instead.
    pooled = min(sum(window[j] for j in members) for members in classes) < GLM_MIN_WEEKDAY_COUNT
    if pooled:
        classes = [list(range(n))]
    levels = len(classes)

    def means(b: float, v: Sequence[float]) -> list[float]:
        mu = [0.0] * n
        for members in classes:
            exps = [math.exp(b * ts[j]) for j in members]
            total = sum(v[j] * window[j] for j in members)
            denominator = sum(v[j] * e for j, e in zip(members, exps, strict=True))
            scale = total / denominator if denominator > 0 else 0.0
            for j, e in zip(members, exps, strict=True):
                mu[j] = scale * e
        return mu

    def dispersion(mu: Sequence[float], v: Sequence[float], params: int) -> float:
        pearson = sum(
            vj * (y - m) ** 2 / m for y, m, vj in zip(window, mu, v, strict=True) if m > 0
        )
        return max(1.0, pearson / max(1.0, sum(v) - params))

    def information(mu: Sequence[float], v: Sequence[float]) -> float:
        info = 0.0
        for members in classes:
            s0 = sum(v[j] * mu[j] for j in members)
            if s0 <= 0:
                continue
            s1 = sum(v[j] * mu[j] * ts[j] for j in members)
            s2 = sum(v[j] * mu[j] * ts[j] ** 2 for j in members)
            info += s2 - s1 * s1 / s0
        return info

    def fit(v: Sequence[float]) -> tuple[float, list[float], float]:
        b = 0.0
        mu = means(b, v)
        for _ in range(25):
            info = information(mu, v)
            if info <= 0:
                break
            step = sum(vj * t * (y - m) for vj, t, y, m in zip(v, ts, window, mu, strict=True))
            b += step / info
            mu = means(b, v)
            if abs(step / info) < 1e-8:
                break
        phi = dispersion(mu, v, levels + 1)
        info = information(mu, v)
        if info > 0 and abs(b) * math.sqrt(info / phi) > GLM_TREND_Z:
            return b, mu, phi
        mu = means(0.0, v)
        return 0.0, mu, dispersion(mu, v, levels)

    if sum(window) == 0:
        return Baseline(0.0, 1.0)
    ones = [1.0] * n
    b, mu, phi = fit(ones)
    weights = [
        0.0 if m > 0 and (y - m) / math.sqrt(phi * m) > GLM_REWEIGHT_Z else 1.0
        for y, m in zip(window, mu, strict=True)
    ]
    if any(vj == 0.0 for vj in weights) and all(
        any(weights[j] > 0 for j in members) for members in classes
    ):
        b, mu, phi = fit(weights)
    members = classes[0 if pooled else target % 7]
    scale = mu[members[0]] / math.exp(b * ts[members[0]])
    return Baseline(scale * math.exp(b * (target - centre)), phi)


def glm_baselines(counts: Sequence[int]) -> list[Baseline | None]:
    """The seasonal expectation of each day from the GLM_WEEKS weeks ending GLM_GUARD days
    before it; None for the days before such a window exists."""
    n = 7 * GLM_WEEKS
    out: list[Baseline | None] = []
    for t in range(len(counts)):
        start = t - GLM_GUARD - n
        if start < 0:
            out.append(None)
            continue
        out.append(fit_weekday_trend(counts[start : start + n], n + GLM_GUARD))
    return out


def upper_tail(x: int, base: Baseline) -> float:
    """P(X ≥ x) for X negative binomial with mean μ and variance φμ (Poisson if φ = 1);
    Noufaily 2013 (threshold from the negative binomial quantile)."""
    mu = base.mean
    if x <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if base.phi <= 1.0 + 1e-9:
        log_p = x * math.log(mu) - mu - math.lgamma(x + 1)

        def ratio(k: int) -> float:
            return mu / (k + 1)
    else:
        r = mu / (base.phi - 1.0)
        q = mu / (r + mu)
        log_p = (
            math.lgamma(x + r)
            - math.lgamma(r)
            - math.lgamma(x + 1)
            + r * math.log(r / (r + mu))
            + x * math.log(q)
        )

        def ratio(k: int) -> float:
            return (k + r) / (k + 1) * q

    term = math.exp(log_p)
    total = term
    k = x
    while term > 1e-15 * total and k < x + 100_000:
        term *= ratio(k)
        total += term
        k += 1
        if term == 0.0:
            break
    return min(1.0, total)


def glm_scores(
    counts: Sequence[int], baselines: Sequence[Baseline | None] | None = None
) -> list[tuple[float, float] | None]:
    """(expected, −log10 P(X ≥ x)) per day; the score is 0 when x is not above expected."""
    if baselines is None:
        baselines = glm_baselines(counts)
    out: list[tuple[float, float] | None] = []
    for x, base in zip(counts, baselines, strict=True):
        if base is None:
            out.append(None)
        elif x <= base.mean:
            out.append((base.mean, 0.0))
        else:
            out.append((base.mean, -math.log10(max(upper_tail(x, base), 1e-300))))
    return out


def glm(counts: Sequence[int], threshold: float | None = None) -> list[Flag]:
    default = -math.log10(GLM_ALPHA)
    return _flags(glm_scores(counts), default if threshold is None else threshold)


# --- CUSUM over the seasonal expectation -----------------------------------------------


def standardised(counts: Sequence[int], baselines: Sequence[Baseline | None]) -> list[float | None]:
    """z_t = (x_t − μ_t) / √(φ μ_t), with the sd floored at MIN_SIGMA (a count of 0 expected)."""
    out: list[float | None] = []
    for x, base in zip(counts, baselines, strict=True):
        if base is None:
            out.append(None)
        else:
            out.append((x - base.mean) / max(math.sqrt(base.phi * base.mean), MIN_SIGMA))
    return out


def cusum(zs: Sequence[float | None], k: float = CUSUM_K, h: float = CUSUM_H) -> list[int]:
    """Indices where the upper CUSUM S_t = max(0, S_{t−1} + z_t − k) exceeds h; S restarts
    at 0 after each signal (Page 1954; Fricker 2008). Days without z keep S at 0."""
    s = 0.0
    signals = []
    for t, z in enumerate(zs):
        if z is None:
            s = 0.0
            continue
        s = max(0.0, s + z - k)
        if s > h:
            signals.append(t)
            s = 0.0
    return signals


def cusum_glm(counts: Sequence[int], threshold: float | None = None) -> list[Flag]:
    baselines = glm_baselines(counts)
    zs = standardised(counts, baselines)
    h = CUSUM_H if threshold is None else threshold
    flags: list[Flag] = []
    s = 0.0
    for t, z in enumerate(zs):
        base = baselines[t]
        if z is None or base is None:
            s = 0.0
            continue
        s = max(0.0, s + z - CUSUM_K)
        if s > h:
            flags.append((t, base.mean, s))
            s = 0.0
    return flags


METHODS: dict[str, Detector] = {
    "ears_c1": ears_c1,
    "ears_c2": ears_c2,
    "ears_c3": ears_c3,
    "glm": glm,
    "cusum_glm": cusum_glm,
}
# Best sensitivity at ≤ 2 false alarms per 100 days in bench/detect_eval.py
# (docs/early-warning.md, "Evaluation").
DEFAULT_METHOD = "cusum_glm"


# --- Series and CSV --------------------------------------------------------------------


def check_series(series: Sequence[tuple[date, int]]) -> None:
    """Raise SeriesError unless the days are consecutive and the counts non-negative ints."""
    for i, (day, count) in enumerate(series):
        if isinstance(count, bool) or not isinstance(count, int):
            raise SeriesError(f"day {day}: count {count!r} is not a whole number")
        if count < 0:
            raise SeriesError(f"day {day}: count {count} is negative")
        if i and day != series[i - 1][0] + timedelta(days=1):
            raise SeriesError(f"day {day} follows {series[i - 1][0]}: the days must be consecutive")


def detect(series: Sequence[tuple[date, int]], method: str = DEFAULT_METHOD) -> list[Alarm]:
    """The alarms of ``method`` on a series of consecutive days."""
    if method not in METHODS:
        raise SeriesError(f"unknown method {method!r}; one of {', '.join(sorted(METHODS))}")
    check_series(series)
    counts = [c for _, c in series]
    return [
        Alarm(series[t][0], counts[t], round(expected, 3), round(score, 3))
        for t, expected, score in METHODS[method](counts)
    ]


def _parse_rows(lines: IO[str], name: str) -> list[tuple[date, int]]:
    series: list[tuple[date, int]] = []
    seen: dict[date, int] = {}
    for number, row in enumerate(csv.reader(lines), start=1):
        fields = [f.strip() for f in row]
        if not any(fields):
            continue
        if len(fields) != 2:
            raise SeriesError(
                f"{name} line {number}: expected 2 fields (date,count), found {len(fields)}"
            )
        text, count_text = fields
        if number == 1 and not series and not _is_int(count_text):
            continue  # a header such as "date,count"
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise SeriesError(
                f"{name} line {number}: {text!r} is not a date (YYYY-MM-DD)"
            ) from None
        if not _is_int(count_text):
            raise SeriesError(f"{name} line {number}: count {count_text!r} is not a whole number")
        count = int(count_text)
        if count < 0:
            raise SeriesError(f"{name} line {number}: count {count} is negative")
        if day in seen:
            raise SeriesError(f"{name} line {number}: date {day} already on line {seen[day]}")
        if series:
            previous = series[-1][0]
            if day < previous:
                raise SeriesError(
                    f"{name} line {number}: date {day} is earlier than {previous} on the line "
                    "before; the dates must be in increasing order"
                )
            missing = (day - previous).days - 1
            if missing:
                first = previous + timedelta(days=1)
                last = day - timedelta(days=1)
                span = f"{first}" if missing == 1 else f"{first} to {last}"
                raise SeriesError(
                    f"{name} line {number}: gap before {day}: {missing} missing day(s) "
                    f"({span}); give every day, with 0 for a day without any"
                )
        seen[day] = number
        series.append((day, count))
    if not series:
        raise SeriesError(f"{name}: no data rows (expected lines of date,count)")
    return series


def _is_int(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit()


def read_csv(path_or_file: str | Path | IO[str]) -> list[tuple[date, int]]:
    """Read ``date,count`` rows (header optional, ISO dates, consecutive days)."""
    if isinstance(path_or_file, (str, Path)):
        name = str(path_or_file)
        try:
            text = Path(path_or_file).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise SeriesError(f"{name}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SeriesError(f"{name}: cannot be read ({exc})") from None
        return _parse_rows(io.StringIO(text), name)
    return _parse_rows(path_or_file, getattr(path_or_file, "name", "input"))
