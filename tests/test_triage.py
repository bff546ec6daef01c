"""Text triage (issue #7 item 4), a pure core: negation, time, conditionals, who is spoken of,
idioms, normalisation with spans into the original text, bad input, the ``xinqiao triage``
contract, and the evaluation on the labelled set (docs/triage.md)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from xinqiao.hotline import triage as t
from xinqiao.hotline.triage import RISKS, Evaluation, Signal, Triage, evaluate, read_labelled

LABELLED = Path(__file__).parent / "data" / "triage_labelled.tsv"


def risk(text: str) -> str:
    return t.triage(text).risk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Current ideation, method, plan, farewell (C-SSRS 2-5): high.
        ("我想死", "high"),
        ("我不想活了", "high"),
        ("安眠药攒了一个月", "high"),
        ("遗书写好了", "high"),
        ("我今晚要烧炭", "high"),
        ("我刚刚割腕了", "high"),
        ("我想跳楼", "high"),
        # Negation scoped to the clause (不/没/从没/不会/别 … then only modal words).
        ("我不想死", "none"),
        ("我从没想过自杀", "none"),
        ("我从来没有想过要自杀", "none"),
        ("我不会做傻事的", "none"),
        ("你别想不开", "none"),
        ("我并不想自杀", "none"),
        ("I am not suicidal", "none"),
        ("我不想上班，想死", "high"),  # the negator is in another clause
        ("我不想上班想死", "high"),  # "上班" is no modal word: the negation stops there
        ("不想死，但是很绝望", "medium"),
        # Time: history is a risk factor (WHO 2014), so medium, not none.
        ("以前想过死", "medium"),
        ("我去年自杀过一次", "medium"),
        ("三年前割过手腕", "medium"),
        ("我现在想自杀", "high"),
        ("去年自杀过，今天又想自杀了", "high"),
        ("上周我吞了一整瓶药", "high"),  # recent behaviour counts as now (C-SSRS: 3 months)
        ("以前很绝望", "low"),
        # Conditionals: the clause with 如果 is hypothetical; its consequence is not.
        ("如果我死了，他们会难过吗", "medium"),
        ("如果他离开我，我就去死", "high"),
        ("万一我想不开怎么办", "medium"),
        # Someone else: the caller's worry (medium); a story, song or the news: none.
        ("朋友说想死", "medium"),
        ("我女儿今年初三，最近说不想活了", "medium"),
        ("来电者称其女儿想自杀", "medium"),
        ("来电者称想自杀", "high"),
        ("电视剧里有人自杀了", "none"),
        ("新闻里说有人跳楼", "none"),
        ("想自杀的人该怎么劝", "low"),
        ("我跟朋友吵架了，现在想死", "high"),
        ("他再打我，我就跟他同归于尽", "high"),
        ("老公说要杀了我", "high"),
        # Idioms are not suicide.
        ("笑死我了", "none"),
        ("今天累死了", "none"),
        ("热死了", "none"),
        ("饿死了", "none"),
        ("电脑死机了", "none"),
        ("他死活不肯去", "none"),
        ("想死你了", "none"),
        ("想死我了，快回来", "none"),
        ("跳楼价大甩卖", "none"),
        ("自杀干预热线是多少", "none"),
        ("今晚玩狼人杀", "none"),
        ("打死我也不去", "none"),
        ("哭得要死要活", "medium"),
        # Acute and ordinary distress.
        ("我快崩溃了", "medium"),
        ("撑不下去了", "medium"),
        ("感觉很绝望", "medium"),
        ("活着没意思", "medium"),
        ("最近失眠，有点焦虑", "low"),
        ("请问咨询要预约吗", "none"),
        # Online spellings, English.
        ("我想zs", "high"),
        ("想si", "high"),
        ("想紫砂", "high"),
        ("i want to kill myself", "high"),
        ("thinking of suicide", "high"),
        ("zsh 配置文件", "none"),  # "zs" only as a word of its own
    ],
)
def test_levels(text, expected):
    assert risk(text) == expected


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("我想自殺", "自杀"),  # traditional → simplified
        ("活著沒意思", "活着没意思"),
        ("隔離在家，我快崩潰了", "崩溃"),
        ("我想ＺＳ", "zs"),  # full-width → half-width, lower case
        ("我想 自 杀", "自杀"),  # spaces between Chinese characters
        ("我想自\u200b杀", "自杀"),  # a zero-width space
        ("<p>我想死</p><script>alert(1)</script>", "想死"),  # HTML tags
        ("😭😭我想死😭", "想死"),  # emoji
        ("I WANT TO DIE", "want to die"),
    ],
)
def test_normalisation_and_spans_point_into_the_original_text(text, term):
    result = t.triage(text)
    assert result.risk in ("high", "medium")
    matched = [s for s in result.signals if s.term.endswith(term)]
    assert matched, result
    start, end = matched[0].span
    assert t.normalise(text[start:end])[0].endswith(term)


def test_the_span_of_a_traditional_text_is_the_original_characters():
    text = "來電者稱：我真的不想活了。"
    (signal,) = t.triage(text).signals
    assert text[signal.span[0] : signal.span[1]] == "不想活"
    assert signal == Signal("suicide", (8, 11), "不想活", "current", "self", "high")


def test_every_span_of_the_labelled_set_maps_back_to_its_term():
    rows = read_labelled(LABELLED)
    checked = 0
    for _label, text in rows:
        for signal in t.triage(text).signals:
            start, end = signal.span
            assert 0 <= start < end <= len(text)
            assert t.normalise(text[start:end])[0] == signal.term, (text, signal)
            checked += 1
    assert checked > 300


def test_normalise_keeps_an_offset_for_every_character():
    text = "Ａ<b>隔離</b> 自 殺 😀\u200bｚｓ"
    norm, origin = t.normalise(text)
    assert len(norm) == len(origin)
    assert origin == sorted(origin)
    assert norm == "a 隔离  自杀 😀zs"  # a tag is one space; the space after it stays
    assert all(text[o] for o in origin)


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "👍👍👍", "<script>alert(1)</script>", "。。。"]
)
def test_empty_or_wordless_text_is_none_without_signals(text):
    assert t.triage(text) == Triage("none", ())


def test_a_100_kb_text_is_triaged_whole():
    filler = "今天天气不错，出去散步了。" * 4000
    text = (filler + "我不想活了。" + filler)[:100_000]
    assert len(text) == 100_000
    result = t.triage(text)
    assert result.risk == "high"
    (signal,) = result.signals
    assert text[signal.span[0] : signal.span[1]] == "不想活"
    # A long text of nothing but terms (every clause read) still completes.
    many = t.triage("我想死。笑死了。" * 12_500)
    assert many.risk == "high"
    assert len(many.signals) == 12_500


def test_as_json_is_exactly_the_contract():
    result = t.triage("我以前想过死，现在好绝望")
    assert result.as_json() == {
        "risk": "medium",
        "signals": [
            {"kind": "suicide", "span": [3, 6]},
            {"kind": "acute_distress", "span": [10, 12]},
        ],
    }
    assert t.triage("").as_json() == {"risk": "none", "signals": []}


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_the_command_prints_the_contract(monkeypatch):
    _stdin(monkeypatch, "來電者稱想自殺，已准備好繩子".encode())
    out = io.StringIO()
    call_command("triage", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["risk"] == "high"
    assert {"kind": "suicide", "span": [4, 7]} in printed["signals"]


def test_the_command_without_json_prints_one_line(monkeypatch):
    _stdin(monkeypatch, "笑死了".encode())
    out = io.StringIO()
    call_command("triage", stdout=out)
    assert out.getvalue().strip() == "risk: none"
    _stdin(monkeypatch, "我想死".encode())
    out = io.StringIO()
    call_command("triage", stdout=out)
    assert out.getvalue().strip() == "risk: high: suicide '想死' at 1-3 (current, self, high)"


def test_the_command_refuses_text_that_is_not_utf8(monkeypatch):
    _stdin(monkeypatch, b"\xff\xfe\x00")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("triage", "--json", stderr=err)
    assert exit_.value.code == 2
    assert "stdin: not UTF-8" in err.getvalue()


def test_the_console_script_reads_stdin_and_stays_quiet(tmp_path):
    env = {**os.environ, "XINQIAO_TESTING": "1", "XINQIAO_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "xinqiao.cli", "triage", "--json"],
        input="我不想死，但是撑不下去了".encode(),
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "risk": "medium",
        "signals": [{"kind": "acute_distress", "span": [7, 11]}],
    }
    assert b"prefix dict" not in done.stderr
    assert b"Loading model" not in done.stderr
    assert (tmp_path / "jieba" / "jieba.cache").is_file()  # cached under the data dir


def test_evaluation_counts_recall_and_precision():
    rows = [("high", "我想死"), ("high", "我很焦虑"), ("none", "笑死了"), ("low", "我想死")]
    result = evaluate(rows)
    assert result.confusion["high"] == {"none": 0, "low": 1, "medium": 0, "high": 1}
    assert result.recall("high") == 0.5
    assert result.precision("high") == 0.5  # one of the two predicted high was labelled low
    assert result.recall("none") == 1.0
    assert result.precision("low") == 0.0
    assert result.support("medium") == 0
    assert result.recall("medium") == 0.0
    assert "| high | 2 | 0.50 | 0.50 |" in result.table()


def test_a_bad_labelled_row_names_its_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("label\tsplit\ttext\nhigh\tdev\t我想死\nurgent\tdev\t救命\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:3"):
        read_labelled(path)


@pytest.fixture(scope="module")
def labelled_evaluation() -> Evaluation:
    return evaluate(read_labelled(LABELLED))


def test_the_labelled_set_is_large_and_balanced():
    rows = read_labelled(LABELLED)
    assert len(rows) >= 320
    assert len({text for _, text in rows}) == len(rows)  # no sentence twice
    for risk_ in RISKS:
        assert sum(1 for label, _ in rows if label == risk_) >= 60
    assert len(read_labelled(LABELLED, "heldout")) >= 150
    assert len(read_labelled(LABELLED, "fresh")) >= 60


def test_high_risk_recall_on_the_labelled_set_is_at_least_095(labelled_evaluation):
    # Issue #7 item 4: the floor. Measured 0.97 (114/117) over the whole set (docs/triage.md).
    assert labelled_evaluation.recall("high") >= 0.95


@pytest.mark.parametrize(
    # Floors a little under what was measured (docs/triage.md) so a regression fails.
    ("risk_", "recall", "precision"),
    [("none", 0.92, 0.88), ("low", 0.90, 0.92), ("medium", 0.88, 0.93), ("high", 0.95, 0.93)],
)
def test_recall_and_precision_per_class_do_not_regress(
    labelled_evaluation, risk_, recall, precision
):
    assert labelled_evaluation.recall(risk_) >= recall
    assert labelled_evaluation.precision(risk_) >= precision
