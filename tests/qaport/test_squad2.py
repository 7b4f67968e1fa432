"""SQuAD 2.0: unanswerable questions read, scored like evaluate-v2.0.py, and the no-answer verdict compared."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qaport import decode, squad
from validate import compare, judge, report


def _squad2(tmp_path: Path, version: str | None = "v2.0", flag: bool = True) -> Path:
    qas = [
        {"id": "a", "question": "Who won?", "answers": [{"text": "Tigers", "answer_start": 0}]},
        {
            "id": "b",
            "question": "Who lost?",
            "answers": [],
            "plausible_answers": [{"text": "Lions", "answer_start": 19}],
        },
    ]
    if flag:
        qas[0]["is_impossible"], qas[1]["is_impossible"] = False, True
    doc: dict[str, object] = {
        "data": [{"title": "t", "paragraphs": [{"context": "Tigers defeated the Lions.", "qas": qas}]}]
    }
    if version:
        doc["version"] = version
    path = tmp_path / "dev-v2.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("version", "flag"), [("v2.0", True), ("v2.0", False), (None, True)])
def test_squad2_json_is_read_with_its_unanswerable_questions(tmp_path: Path, version: str | None, flag: bool) -> None:
    a, b = squad.load_examples(_squad2(tmp_path, version, flag))
    assert (a.answers, a.is_impossible, a.has_gold) == (["Tigers"], False, True)
    assert (b.answers, b.is_impossible, b.has_gold) == ([], True, True)
    assert squad.has_unanswerable([a, b]) and not squad.has_unanswerable([a])


def test_squad11_json_without_answers_is_not_unanswerable(tmp_path: Path) -> None:
    path = _squad2(tmp_path, "1.1", flag=False)
    _, b = squad.load_examples(path)
    assert not b.is_impossible and not b.has_gold  # v1.1: an unscored question, as before


def test_jsonl_empty_answers_or_is_impossible_mean_no_answer(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    lines = [
        {"id": "1", "question": "Who?", "context": "Tigers won."},  # no gold: answered, not scored
        {"id": "2", "question": "Who?", "context": "Tigers won.", "answers": []},
        {"id": "3", "question": "Who?", "context": "Tigers won.", "is_impossible": True},
        {"id": "4", "question": "Who?", "context": "Tigers won.", "answers": ["Tigers"], "is_impossible": False},
        {"id": "5", "question": "Who?", "context": "Tigers won.", "answers": [""]},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines))
    got = {ex.id: (ex.is_impossible, ex.has_gold) for ex in squad.load_examples(path)}
    assert got == {"1": (False, False), "2": (True, True), "3": (True, True), "4": (False, True), "5": (True, True)}


def test_is_impossible_with_answers_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps({"question": "Who?", "context": "Tigers.", "answers": ["Tigers"], "is_impossible": True})
    )
    with pytest.raises(squad.ExamplesError, match="line 1: is_impossible is true but answers lists"):
        squad.load_examples(path)
    path.write_text(json.dumps({"question": "Who?", "context": "Tigers.", "is_impossible": "yes"}))
    with pytest.raises(squad.ExamplesError, match="is_impossible must be true or false"):
        squad.load_examples(path)


def test_scored_like_the_official_v2_script() -> None:
    exs = [
        squad.Example("a", "q", "c", ["Denver Broncos"]),
        squad.Example("b", "q", "c", [], is_impossible=True),
        squad.Example("c", "q", "c", [], is_impossible=True),
        squad.Example("d", "q", "c"),  # no gold: not scored
    ]
    res = squad.evaluate({"a": "Denver Broncos", "b": "", "c": "the Lions", "d": "x"}, exs)
    assert res["count"] == 3
    assert res["exact_match"] == pytest.approx(200 / 3) and res["f1"] == pytest.approx(200 / 3)
    assert res["has_answer"] == {"exact_match": 100.0, "f1": 100.0, "count": 1}
    assert res["no_answer"] == {"exact_match": 50.0, "f1": 50.0, "count": 2}
    # an article alone normalises to no answer, as evaluate-v2.0.py's normalize_answer has it
    assert squad.evaluate({"b": "The"}, exs[1:2])["exact_match"] == 100.0
    # a missing prediction is no answer
    assert squad.evaluate({}, exs[1:2])["f1"] == 100.0
    # answering an answerable question with nothing scores 0, and v1.1 results keep their keys
    v1 = squad.evaluate({"a": ""}, exs[:1])
    assert v1 == {"exact_match": 0.0, "f1": 0.0, "count": 1}


def _encoded(word_tokenizer, context: str) -> decode.Encoded:  # type: ignore[no-untyped-def]
    return decode.encode(word_tokenizer, "Who won?", context)


def test_null_answer_as_the_pipeline_scores_it(word_tokenizer) -> None:  # type: ignore[no-untyped-def]
    context = " ".join(f"Tigers{i % 7} defeated Lions in {1900 + i}." for i in range(120))
    enc = decode.encode(word_tokenizer, "Who won?", context, max_length=64, stride=16)
    rng = np.random.default_rng(3)
    start = rng.standard_normal(enc.input_ids.shape).astype(np.float32)
    end = rng.standard_normal(enc.input_ids.shape).astype(np.float32)
    start[:, 0] += 6.0
    end[:, 0] += 6.0
    per_window = []
    for w, window in enumerate(enc.windows):
        allowed = decode.candidate_mask(window, enc.cls_id)
        n = len(window.input_ids)
        ps = np.exp(np.where(allowed, start[w, :n], -1e4) - np.where(allowed, start[w, :n], -1e4).max())
        pe = np.exp(np.where(allowed, end[w, :n], -1e4) - np.where(allowed, end[w, :n], -1e4).max())
        per_window.append(ps[0] / ps.sum() * pe[0] / pe.sum())
    assert decode.null_score(enc, start, end) == pytest.approx(min(per_window))
    best = decode.decode(enc, start, end, context, handle_impossible_answer=True)
    assert (best.text, best.start, best.end) == ("", 0, 0) and best.score == pytest.approx(min(per_window))
    assert decode.decode(enc, start, end, context).text != ""  # without it, the best span as before
    top = decode.decode_answers(enc, start, end, context, top_k=3, handle_impossible_answer=True)
    assert len(top) == 3 and top[0].text == "" and top[1].score >= top[2].score
    spans = decode.decode_answers(enc, start, end, context, top_k=3)
    assert [a.text for a in spans] == [a.text for a in top[1:]] + [spans[2].text]
    with pytest.raises(decode.DecodeError, match="top_k"):
        decode.decode_answers(enc, start, end, context, top_k=0)


def test_a_different_no_answer_verdict_is_a_disagreement(word_tokenizer) -> None:  # type: ignore[no-untyped-def]
    context = "Tigers defeated the Lions in Paris."
    enc = _encoded(word_tokenizer, context)
    start = np.zeros(enc.input_ids.shape, np.float32)
    end = np.zeros(enc.input_ids.shape, np.float32)
    start[0, 0] = end[0, 0] = 8.0  # the reference says: no answer
    ref = decode.decode(enc, start, end, context, handle_impossible_answer=True)
    assert ref.text == ""
    span = decode.decode(enc, start, end, context)
    kind = compare.classify(ref, span, enc, start, end, context, max_answer_len=15, handle_impossible_answer=True)
    assert kind == "disagree"
    ex = squad.Example("x", "Who won?", context, [], is_impossible=True)
    stats = compare.compare_outputs(
        [ex, ex],
        [enc, enc],
        [(start, end), (start, end)],
        [ref, ref],
        [(start, end), (start, end)],
        [ref, span],
        scored=[ex],
        ref_gold={"exact_match": 100.0, "f1": 100.0, "count": 1},
        max_answer_len=15,
        handle_impossible_answer=True,
    )
    assert stats["answers"]["no_answer"] == {"reference": 2, "target": 1, "flipped": 1}
    assert (stats["answers"]["agree"], stats["answers"]["disagree"]) == (1, 1)
    assert stats["gold"]["no_answer"]["count"] == 1
    crit = judge.Policy().criteria("onnx@ort", "onnx", "ort", "float32")
    verdict = judge.judge(stats, crit)
    assert not verdict.passed and "1 of them a different no-answer verdict" in verdict.reason
    cell = report._answers({"answers": stats["answers"]})
    assert cell == "1 / 0 / 1 (no answer 2 / 1, 1 flipped)"
    # without handle_impossible_answer nothing changes: no no-answer tally
    plain = compare.AnswerTally(1).as_dict()
    assert "no_answer" not in plain
