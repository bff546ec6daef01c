"""Chinese text triage of free text (call notes, mailbox messages, worker reports) — pure.

Issue #7 item 4; MISSION.md R-HOTLINE, R-MAILBOX; seed 002 篇6 三(二)3 (及时识别有自伤、自杀、
冲动伤人风险 … 的个体). ``triage(text)`` finds the terms of the curated lexicon
(xinqiao/hotline/lexicon.py, with its sources), reads each in its clause — negated, past,
hypothetical, said of someone else — and returns the highest level found:

  high    now, of oneself: suicidal ideation, method, plan, preparation or farewell
          (C-SSRS 2-5 and preparatory behaviour), self-harm, intent to harm others, a threat
          to one's life → the caller raises a crisis alert.
  medium  a wish to be dead (C-SSRS 1), acute distress or hopelessness, a past attempt or
          self-harm (WHO 2014: the strongest single risk factor), a conditional ("如果我死了"),
          someone else at risk (the writer's worry: 朋友说想死) → first in the queue.
  low     ordinary distress (sleep, worry, low mood: seed 002 篇6's epidemic worries), acute
          distress in the past, in a hypothetical or of someone else.
  none    nothing of the above; a negated term ("不想死", "从没想过自杀", "不会做傻事"), an
          idiom ("笑死", "累死了", "想死你了"), a story, song or the news.

It sorts a queue; it never replaces a person reading every message (docs/triage.md).

Spans are character offsets into the ORIGINAL text (end exclusive), whatever normalisation
did: HTML tags, full-width forms, traditional characters (zhconv), zero-width characters,
spaces between Chinese characters. Segmentation (jieba, never ``enable_paddle()``) reads the
words before each term, so that a negator or marker inside a longer word does not count
("不知道" is not "不", "其他" is not "其").
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from xinqiao.hotline import lexicon

RISKS = ("none", "low", "medium", "high")
_RANK = {risk: i for i, risk in enumerate(RISKS)}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CURRENT, PAST, HYPOTHETICAL = "current", "past", "hypothetical"
SELF, OTHER, GENERIC = "self", "other", "generic"


@dataclass(frozen=True)
class Signal:
    kind: str  # suicide | self_harm | harm_to_others | acute_distress | distress | abuse
    span: tuple[int, int]  # into the original text, end exclusive
    term: str  # the text matched, normalised (the lexicon's term, or what its pattern matched)
    temporal: str  # current | past | hypothetical
    subject: str = SELF  # self | other (someone the writer tells of) | generic ("想自杀的人")
    level: str = "none"  # what this signal alone gives, after the readings above


@dataclass(frozen=True)
class Triage:
    risk: str  # none | low | medium | high
    signals: tuple[Signal, ...]

    def as_json(self) -> dict[str, Any]:
        """The stable contract (DESIGN.md "Text triage")."""
        return {
            "risk": self.risk,
            "signals": [{"kind": s.kind, "span": [s.span[0], s.span[1]]} for s in self.signals],
        }


# --- Context words. Negation scope: a negator, then only modal or aspect words, then the
# term, within the clause ("从没想过要自杀" is negated, "我不想上班，想死" is not).
NEGATORS = _words(
    "不 没 没有 从没 从没有 从来不 从来没 从来没有 从未 未 未曾 并不 "
    "并没有 不会 别 不要 绝不 决不 绝对不会 不是 不想 不再 再也不 没想过 "
    "无 否认 打消"
)
GAP = _words(
    "想 要 想要 想过 会 会去 打算 准备 再 去 有 有过 过 曾 曾经 真的 "
    "真 是 愿意 考虑 考虑过 产生 出现 起 动过 的 任何 这种 这个 什么 "
    "很 能 可能 想到 想着 再去 还 也 因此 就 自己 做 一点 半点 想要去 "
    "念头"
)
_EN_NEGATION = re.compile(
    r"\b(not|never|don't|dont|do not|won't|wont|no longer|no)\b[\w\s']{0,16}$"
)
# "但/但是/可是" ends a negation's reach as punctuation does.
CONTRAST = frozenset(["但", "但是", "可是", "不过", "却", "然而", "只是", "就是"])

# Temporal markers: the nearest one before the term in its clause, else "…过" right after it,
# else the nearest in the earlier clauses of the sentence. Recent days count as now: the
# C-SSRS screener counts behaviour in the past 3 months as high risk.
PAST_MARKERS = _words(
    "以前 之前 曾经 曾 去年 前年 小时候 那时 那时候 当时 当年 过去 早年 "
    "多年前 几年前 很久以前 读书时 上学时 初中 高中 小学 大学时 年轻时 "
    "以往 从前"
)
CURRENT_MARKERS = _words(
    "现在 今天 今晚 今夜 马上 立刻 正在 已经 此刻 这会儿 这几天 最近 "
    "近来 近日 近期 明天 等会 一会儿 又 还是 仍然 还在 再次 昨天 昨晚 "
    "前天 前几天 上周 刚才 刚刚 刚 这周 本周 周末 今年 这次 now "
    "tonight today again"
)
_PAST_RE = re.compile(
    r"([0-9]+|[一二两三四五六七八九十几半]+)(年|个月|岁)(以前|之前|前|时|的时候)"
    r"|used to|years ago|last year|when i was"
)
HYPOTHETICAL_MARKERS = _words(
    "如果 假如 万一 要是 假设 倘若 如若 若是 假使 哪怕 即使 就算 if 怕 害怕 担心 怕自己 担心自己"
)

# Who the term is about: the last person named before it in its clause (after a verb of
# saying, the person after the verb); else the first named in the earlier clauses, where "我/
# 其 + 女儿" is the daughter. Call notes speak of the caller as 来电者/其: that is the subject.
SELF_MARKERS = _words(
    "我 俺 本人 来电者 来访者 求助者 当事人 来信人 患者 其 该生 该居民 "
    "居民 服务对象 该女士 该男子 i"
)
OTHER_MARKERS = _words(
    "他 她 他们 她们 朋友 同学 同事 室友 舍友 孩子 儿子 女儿 老公 丈夫 "
    "老婆 妻子 爱人 男朋友 女朋友 男友 女友 前男友 前女友 对象 爸爸 妈妈 "
    "父亲 母亲 爸 妈 奶奶 爷爷 外婆 姥姥 外公 哥哥 姐姐 弟弟 妹妹 哥 "
    "姐 弟 妹 邻居 网友 亲戚 家人 学生 闺蜜 婆婆 公公 有人 别人 人家 "
    "某人 你 您 你们 he she they"
)
MEDIA_MARKERS = _words(
    "新闻 电视 电视剧 电影 剧 剧里 小说 视频 抖音 微博 热搜 报道 明星 "
    "歌 歌词 首歌 游戏 动漫 书里 故事 主角 女主角 男主角 女主 男主 听说 "
    "据说 讲座 心理课"
)
SPEECH = frozenset(
    ["称", "说", "表示", "反映", "诉", "讲", "提到", "告诉我", "跟我说", "对我说", "写道", "承认"]
)
_GENERIC_AFTER = re.compile(r"^(的人|者|的朋友|的同学|的孩子|的学生|的新闻|新闻|的心情|的故事)")

# Ideation said with its intent denied ("有轻生的念头，但我不会去做的"): C-SSRS ideation
# without intent (2-3), not with intent (4-5) → at most medium.
_DENIED_INTENT = re.compile(
    r"(但|但是|可是|不过)[^。！？!?\n]{0,6}(不会(去|真的)?(做|实施|这样做|那样做)|忍住了|没有去做)"
)

CLAUSE_BREAKS = frozenset("，。！？；：,.!?;:\n、…～~()（）[]【】“”\"'《》")
SENTENCE_BREAKS = frozenset("。！？!?\n")
_WINDOW = 16  # characters of a clause read before a term
_SENTENCE_BACK = 40  # characters of earlier clauses read for temporal marker and subject

_TAG = re.compile(r"<[^<>]{0,200}>")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad")


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def normalise(text: str) -> tuple[str, list[int]]:
    """The text triage reads, and for each of its characters the index in ``text``.

    HTML tags become one space; each character is NFKC-folded (full-width → half-width) and
    lower-cased, zero-width characters dropped, spaces between two Chinese characters
    dropped, and traditional characters converted to simplified (zhconv, zh-cn)."""
    chars: list[str] = []
    origin: list[int] = []
    pos = 0
    for match in _TAG.finditer(text):
        _fold(text, pos, match.start(), chars, origin)
        chars.append(" ")
        origin.append(match.start())
        pos = match.end()
    _fold(text, pos, len(text), chars, origin)
    # Spaces between two Chinese characters ("自 杀") go.
    keep = [
        not (
            c.isspace()
            and 0 < i < len(chars) - 1
            and _is_cjk(chars[i - 1])
            and _is_cjk(chars[i + 1])
        )
        for i, c in enumerate(chars)
    ]
    chars = [c for c, k in zip(chars, keep, strict=True) if k]
    origin = [o for o, k in zip(origin, keep, strict=True) if k]
    return _to_simplified("".join(chars)), origin


def _fold(text: str, start: int, end: int, chars: list[str], origin: list[int]) -> None:
    for i in range(start, end):
        ch = text[i]
        if ch in _ZERO_WIDTH:
            continue
        folded = unicodedata.normalize("NFKC", ch).lower() if not ch.isascii() else ch.lower()
        for out in folded:
            chars.append(out)
            origin.append(i)


def _to_simplified(text: str) -> str:
    """zhconv converts phrase by phrase; a piece whose length changes is done char by char,
    so that the offset map stays one to one."""
    import zhconv

    converted = str(zhconv.convert(text, "zh-cn"))
    if len(converted) == len(text):
        return converted
    pieces = re.findall(r"[^。！？\n]*[。！？\n]?", text)
    out: list[str] = []
    for piece in pieces:
        conv = str(zhconv.convert(piece, "zh-cn"))
        if len(conv) != len(piece):
            conv = "".join(
                c if len(c := str(zhconv.convert(ch, "zh-cn"))) == 1 else ch for ch in piece
            )
        out.append(conv)
    return "".join(out)


# --- The lexicon, indexed.
@dataclass(frozen=True)
class _Term:
    term: str
    kind: str
    level: str
    category: str


_IDIOM = "idiom"


def _index() -> tuple[dict[str, list[_Term]], list[tuple[re.Pattern[str], _Term]]]:
    literal: dict[str, list[_Term]] = {}
    patterns: list[tuple[re.Pattern[str], _Term]] = []
    entries: list[_Term] = [_Term(*e) for e in lexicon.ENTRIES]
    entries += [_Term(t, _IDIOM, "none", _IDIOM) for t in lexicon.IDIOMS]
    for entry in entries:
        if entry.term.startswith("re:"):
            patterns.append((re.compile(entry.term[3:]), entry))
        else:
            literal.setdefault(entry.term[0], []).append(entry)
    for terms in literal.values():
        terms.sort(key=lambda t: -len(t.term))
    return literal, patterns


_LITERAL, _PATTERNS = _index()


def _matches(norm: str) -> list[tuple[int, int, _Term]]:
    """The terms found, longest first at each place: a term inside an idiom ("笑死",
    "想死你了", "自杀干预") or inside a longer term ("自杀" in "想自杀") is not reported;
    terms that only overlap ("我死了" and "死了算了") both are."""
    found: list[tuple[int, int, _Term]] = []
    for i, ch in enumerate(norm):
        for entry in _LITERAL.get(ch, ()):
            if norm.startswith(entry.term, i) and _bounded(norm, i, i + len(entry.term)):
                found.append((i, i + len(entry.term), entry))
                break
    for pattern, entry in _PATTERNS:
        found += [
            (m.start(), m.end(), entry) for m in pattern.finditer(norm) if m.end() > m.start()
        ]
    idiom = bytearray(len(norm))
    for start, end, entry in found:
        if entry.kind == _IDIOM:
            idiom[start:end] = b"\x01" * (end - start)
    terms = sorted(
        (m for m in found if m[2].kind != _IDIOM and not any(idiom[m[0] : m[1]])),
        key=lambda m: (m[0], -(m[1] - m[0])),
    )
    chosen: list[tuple[int, int, _Term]] = []
    reach = 0
    for match in terms:
        if match[1] > reach:
            chosen.append(match)
            reach = match[1]
    return chosen


def _bounded(norm: str, start: int, end: int) -> bool:
    """ASCII terms ("zs", "kms", "suicide") only as whole words."""
    if (
        _is_ascii_alnum(norm[start])
        and start > 0
        and norm[start - 1].isascii()
        and norm[start - 1].isalpha()
    ):
        return False
    return not (
        _is_ascii_alnum(norm[end - 1])
        and end < len(norm)
        and norm[end].isascii()
        and norm[end].isalpha()
    )


# --- Segmentation (jieba): a tokenizer of our own, its dictionary cached in ``cache_dir``.
_TOKENIZERS: dict[str, Any] = {}


def _tokenizer(cache_dir: str | None) -> Any:
    key = cache_dir or ""
    if key not in _TOKENIZERS:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter
        tk = jieba.Tokenizer()
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            tk.tmp_dir = cache_dir
        words = {e[0] for e in lexicon.ENTRIES} | set(lexicon.IDIOMS)
        words |= NEGATORS | PAST_MARKERS | CURRENT_MARKERS | HYPOTHETICAL_MARKERS
        words |= SELF_MARKERS | OTHER_MARKERS | MEDIA_MARKERS | SPEECH
        for word in sorted(words):
            if not word.startswith("re:") and not word.isascii() and len(word) > 1:
                tk.add_word(word, freq=200_000)
        _TOKENIZERS[key] = tk
    return _TOKENIZERS[key]


@lru_cache(maxsize=4096)
def _tokens(cache_dir: str | None, text: str) -> tuple[str, ...]:
    return tuple(t for t in _tokenizer(cache_dir).lcut(text, HMM=False) if t.strip())


# --- Reading a term in its clause.
def _clause_start(norm: str, i: int) -> int:
    j = i - 1
    while j >= 0 and norm[j] not in CLAUSE_BREAKS:
        j -= 1
    return j + 1


def _sentence_start(norm: str, i: int) -> int:
    j = i - 1
    while j >= 0 and i - j <= _SENTENCE_BACK and norm[j] not in SENTENCE_BREAKS:
        j -= 1
    return j + 1


def _negated(before: Sequence[str], window: str) -> bool:
    for tok in reversed(before):
        if tok in NEGATORS:
            return True
        if tok not in GAP:
            break
    return bool(_EN_NEGATION.search(window))


def _temporal(before: Sequence[str], window: str, after: str, earlier: Sequence[str]) -> str:
    for tok in reversed(before):
        if tok in CURRENT_MARKERS:
            return CURRENT
        if tok in PAST_MARKERS:
            return PAST
    if _PAST_RE.search(window) or after.startswith("过") or (before and before[-1] == "想过"):
        return PAST
    for tok in reversed(earlier):
        if tok in CURRENT_MARKERS:
            return CURRENT
        if tok in PAST_MARKERS:
            return PAST
    if _PAST_RE.search("".join(earlier)):
        return PAST
    return CURRENT


def _subject(
    before: Sequence[str], earlier: Sequence[str], after: str, *, actor_first: bool = False
) -> str | None:
    """SELF, OTHER, GENERIC, or None for a story, song or the news (not reported).

    ``actor_first``: harm to others names its victim before the term ("跟她同归于尽"), so
    the first person named in the clause, the actor, is the subject."""
    if any(t in MEDIA_MARKERS for t in before):
        return None
    if _GENERIC_AFTER.match(after):
        return None if after.startswith(("的新闻", "新闻", "的心情", "的故事")) else GENERIC
    if actor_first:
        first = _first_person(before)
        if first:
            return first
    for tok in reversed(before):
        if tok in SELF_MARKERS:
            return SELF
        if tok in OTHER_MARKERS:
            return OTHER
    clauses: list[list[str]] = [[]]
    for tok in earlier:
        if tok in CLAUSE_BREAKS:
            clauses.append([])
        else:
            clauses[-1].append(tok)
    for tokens in reversed(clauses):  # the nearest clause that names someone
        first = _first_person(tokens)
        if first:
            return first
    return SELF


def _first_person(tokens: Sequence[str]) -> str | None:
    """The first person named, "我/其 (的/家) 女儿" being the daughter; after a verb of
    saying, the first person after it if any."""
    for i, tok in enumerate(tokens):
        if tok in SPEECH:
            later = _first_person(tokens[i + 1 :])
            if later:
                return later
    for i, tok in enumerate(tokens):
        if tok in SELF_MARKERS:
            rest = [t for t in tokens[i + 1 : i + 3] if t not in ("的", "家")]
            return OTHER if rest and rest[0] in OTHER_MARKERS else SELF
        if tok in OTHER_MARKERS:
            return OTHER
    return None


def _level(term: _Term, temporal: str, subject: str, denied_intent: bool) -> str:
    level = term.level
    serious = term.kind in (lexicon.SUICIDE, lexicon.SELF_HARM, lexicon.HARM_TO_OTHERS)
    if term.kind == lexicon.ABUSE:
        # A threat against the writer is serious whoever makes it; a conditional one less so.
        return _min(level, "medium") if temporal == HYPOTHETICAL else level
    if subject == GENERIC:
        return _min(level, "low")
    if subject == OTHER:
        level = _min(level, "medium" if serious else "low")
    if temporal == PAST:
        level = _min(
            level, "medium" if term.kind in (lexicon.SUICIDE, lexicon.SELF_HARM) else "low"
        )
    if temporal == HYPOTHETICAL:
        level = _min(level, "medium" if serious else "low")
    if denied_intent:
        level = _min(level, "medium")
    return level


def _min(a: str, b: str) -> str:
    return a if _RANK[a] <= _RANK[b] else b


def triage(text: str, *, cache_dir: str | None = None) -> Triage:
    """Triage ``text``. ``cache_dir``: where jieba keeps its dictionary cache (the data dir)."""
    if not text or not text.strip():
        return Triage("none", ())
    norm, origin = normalise(text)
    signals: list[Signal] = []
    for start, end, term in _matches(norm):
        clause = _clause_start(norm, start)
        window = norm[max(clause, start - _WINDOW) : start]
        before = _tokens(cache_dir, window)
        cut = len(before)
        for i in range(len(before) - 1, -1, -1):
            if before[i] in CONTRAST:
                cut = i
                break
        if cut < len(before):
            scoped: Sequence[str] = before[cut + 1 :]
        else:
            scoped = before
        if _negated(scoped, window):
            continue
        sentence = _sentence_start(norm, clause)
        earlier = _tokens(cache_dir, norm[sentence:clause]) if sentence < clause else ()
        clause_end = end
        while (
            clause_end < len(norm)
            and clause_end - end < 6
            and norm[clause_end] not in CLAUSE_BREAKS
        ):
            clause_end += 1
        after = norm[end:clause_end]
        subject = _subject(before, earlier, after, actor_first=term.kind == lexicon.HARM_TO_OTHERS)
        if subject is None:
            continue
        temporal = _temporal(before, window, after, earlier)
        if any(t in HYPOTHETICAL_MARKERS for t in before):
            temporal = HYPOTHETICAL
        rest = norm[end : end + _SENTENCE_BACK]
        rest = re.split(r"[。！？!?\n]", rest, maxsplit=1)[0]
        level = _level(term, temporal, subject, bool(_DENIED_INTENT.search(rest)))
        if level == "none":
            continue
        span = (origin[start], origin[end - 1] + 1)
        signals.append(Signal(term.kind, span, norm[start:end], temporal, subject, level))
    risk = max((s.level for s in signals), key=_RANK.__getitem__, default="none")
    return Triage(risk, tuple(signals))


# --- Evaluation over a labelled set (tests/data/triage_labelled.tsv; docs/triage.md).
@dataclass(frozen=True)
class Evaluation:
    count: int
    confusion: dict[str, dict[str, int]]  # confusion[label][predicted]

    def recall(self, risk: str) -> float:
        row = self.confusion[risk]
        total = sum(row.values())
        return row[risk] / total if total else 0.0

    def precision(self, risk: str) -> float:
        predicted = sum(self.confusion[label][risk] for label in RISKS)
        return self.confusion[risk][risk] / predicted if predicted else 0.0

    def support(self, risk: str) -> int:
        return sum(self.confusion[risk].values())

    def table(self) -> str:
        lines = [
            "| class | n | recall | precision |",
            "| --- | ---: | ---: | ---: |",
        ]
        for risk in RISKS:
            recall, precision = self.recall(risk), self.precision(risk)
            lines.append(f"| {risk} | {self.support(risk)} | {recall:.2f} | {precision:.2f} |")
        lines += [
            "",
            "| label \\ predicted | " + " | ".join(RISKS) + " |",
            "| --- |" + " ---: |" * 4,
        ]
        for risk in RISKS:
            lines.append(
                f"| {risk} | " + " | ".join(str(self.confusion[risk][p]) for p in RISKS) + " |"
            )
        accurate = sum(self.confusion[r][r] for r in RISKS)
        lines += [
            "",
            f"{self.count} sentences, {accurate} exactly right"
            f" ({accurate / max(self.count, 1):.2f}).",
        ]
        return "\n".join(lines)


def read_labelled(path: str | Path, split: str | None = None) -> list[tuple[str, str]]:
    """``(label, text)`` rows of a ``label<TAB>split<TAB>text`` file with a header line."""
    rows: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] not in RISKS:
                raise ValueError(
                    f"{path}:{number}: expected label<TAB>split<TAB>text, label in {RISKS}"
                )
            if split is None or parts[1] == split:
                rows.append((parts[0], parts[2]))
    return rows


def evaluate(rows: Iterable[tuple[str, str]], *, cache_dir: str | None = None) -> Evaluation:
    confusion = {label: dict.fromkeys(RISKS, 0) for label in RISKS}
    count = 0
    for label, text in rows:
        confusion[label][triage(text, cache_dir=cache_dir).risk] += 1
        count += 1
    return Evaluation(count, confusion)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m xinqiao.hotline.triage --evaluate FILE [--split dev|heldout]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m xinqiao.hotline.triage")
    parser.add_argument("--evaluate", required=True, metavar="FILE")
    parser.add_argument("--split", default=None, help="only the rows of this split")
    parser.add_argument("--errors", action="store_true", help="also list the misclassified rows")
    args = parser.parse_args(argv)
    rows = read_labelled(args.evaluate, args.split)
    print(evaluate(rows).table())
    if args.errors:
        for label, text in rows:
            got = triage(text)
            if got.risk != label:
                why = [(s.term, s.temporal, s.subject, s.level) for s in got.signals]
                print(f"{label}\t{got.risk}\t{text}\t{why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
