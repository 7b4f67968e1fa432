"""SQuAD v1.1 metrics and example loading (no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qaport import squad


def test_official_normalisation() -> None:
    assert squad.normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert squad.exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert squad.exact_match("Broncos", ["Denver Broncos"]) == 0.0
    assert squad.f1("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert squad.f1("Carolina", ["Denver Broncos", "Broncos"]) == 0.0


def test_evaluate_percentages() -> None:
    exs = [squad.Example("a", "q", "c", ["Denver Broncos"]), squad.Example("b", "q", "c", ["1999"])]
    res = squad.evaluate({"a": "Denver Broncos", "b": "in 1999 and 2000"}, exs)
    assert res["exact_match"] == 50.0 and res["count"] == 2
    assert 50.0 < res["f1"] < 100.0


def test_load_squad_json(tmp_path: Path) -> None:
    doc = {
        "version": "1.1",
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "Tigers won.",
                        "qas": [
                            {"id": "x", "question": "Who won?", "answers": [{"text": "Tigers", "answer_start": 0}]}
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    (ex,) = squad.load_examples(path)
    assert (ex.id, ex.answers, ex.answer_starts) == ("x", ["Tigers"], [0])


def test_load_jsonl_names_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"question": "Who?", "context": "Tigers."}\n{not json}\n')
    with pytest.raises(squad.ExamplesError, match="line 2: not valid JSON"):
        squad.load_examples(path)


def test_load_jsonl_names_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"question": "Who?"}\n')
    with pytest.raises(squad.ExamplesError, match="line 1: field 'context' is missing"):
        squad.load_examples(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(squad.ExamplesError, match="cannot read examples file"):
        squad.load_examples(tmp_path / "nope.json")
