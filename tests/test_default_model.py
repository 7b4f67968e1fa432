"""The embedded default model: its held-out accuracy, the Super Bowl answer, its data, its determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from convert.default_model import (
    CHECKPOINT_DIR,
    HELDOUT_PATH,
    SUPER_BOWL_ANSWER,
    SUPER_BOWL_CONTEXT,
    SUPER_BOWL_QUESTION,
)
from convert.default_model import corpus
from convert.default_model.pools import FORBIDDEN, pools

# --- data (no TensorFlow) ---


def test_checkpoint_files_and_size() -> None:
    names = {p.name for p in CHECKPOINT_DIR.iterdir()}
    expected = {"config.json", "tf_model.h5", "tokenizer.json", "tokenizer_config.json", "vocab.txt"}
    assert expected <= names
    assert sum(p.stat().st_size for p in CHECKPOINT_DIR.iterdir()) <= 20 * 2**20
    config = json.loads((CHECKPOINT_DIR / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["DistilBertForQuestionAnswering"]
    assert config["max_position_embeddings"] == 512
    tok_config = json.loads((CHECKPOINT_DIR / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["do_lower_case"] is False
    assert tok_config["model_max_length"] == 512


def test_heldout_is_squad_v11_with_500_questions() -> None:
    doc = json.loads(HELDOUT_PATH.read_text(encoding="utf-8"))
    assert doc["version"] == "1.1"
    ids: set[str] = set()
    for article in doc["data"]:
        assert isinstance(article["title"], str)
        for para in article["paragraphs"]:
            context = para["context"]
            for qa in para["qas"]:
                assert qa["id"] not in ids
                ids.add(qa["id"])
                assert qa["question"].endswith("?")
                for ans in qa["answers"]:
                    start = ans["answer_start"]
                    assert context[start : start + len(ans["text"])] == ans["text"], qa["id"]
    assert len(ids) >= 500


def test_heldout_names_never_occur_in_training() -> None:
    train, held = pools("train"), pools("heldout")
    assert not train.names() & held.names()
    sample = list(corpus.generate(0, 2000, "train"))
    text = " ".join(p.context + " " + " ".join(q.question for q in p.qas) for p in sample)
    train_words = set(re.findall(r"[A-Za-z]+", text))
    doc = json.loads(HELDOUT_PATH.read_text(encoding="utf-8"))
    held_answers = {qa["answers"][0]["text"] for a in doc["data"] for p in a["paragraphs"] for qa in p["qas"]}
    name_words = {w for ans in held_answers for w in ans.split() if w in held.names()}
    assert len(name_words) > 100  # the held-out answers really are made of held-out names
    assert not name_words & train_words


def test_super_bowl_stays_out_of_training() -> None:
    names = pools("train").names() | pools("heldout").names()
    for bad in FORBIDDEN:
        assert not any(bad in name for name in names), bad
    sample = list(corpus.generate(0, 3000, "train"))
    text = " ".join(p.context + " " + " ".join(q.question for q in p.qas) for p in sample)
    for word in ("Super Bowl", "Denver", "Broncos", "Carolina", "Panthers", "Levi", "Santa Clara"):
        assert word not in text
    assert "Who won the" in text  # the question form itself is trained, on other events


def test_corpus_is_seeded() -> None:
    a = [(p.context, p.qas) for p in corpus.generate(7, 50)]
    b = [(p.context, p.qas) for p in corpus.generate(7, 50)]
    c = [(p.context, p.qas) for p in corpus.generate(8, 50)]
    assert a == b
    assert a != c


def test_training_text_with_a_forbidden_name_is_rejected() -> None:
    from convert.default_model.pools import check_clean

    with pytest.raises(ValueError, match="Denver"):
        check_clean("The Denver Lions won the cup.")


# --- the committed model (TensorFlow) ---


@pytest.fixture(scope="module")
def scores() -> dict[str, Any]:
    from convert.default_model.evaluation import evaluate_checkpoint

    return evaluate_checkpoint(CHECKPOINT_DIR, HELDOUT_PATH)


@pytest.mark.tf
@pytest.mark.slow
def test_heldout_exact_match_and_f1(scores: dict[str, Any]) -> None:
    assert scores["count"] >= 500
    assert scores["exact_match"] >= 90.0, scores["exact_match"]
    assert scores["f1"] >= 95.0, scores["f1"]


@pytest.mark.tf
def test_super_bowl_answer() -> None:
    from convert.default_model.evaluation import load_infer
    from validate.decode import answer

    infer, tokenizer = load_infer(CHECKPOINT_DIR)
    result = answer(infer, tokenizer, SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT)
    assert result.text == SUPER_BOWL_ANSWER
    assert SUPER_BOWL_CONTEXT[result.start : result.end] == SUPER_BOWL_ANSWER


# --- determinism of training (TensorFlow, tiny budget) ---


@pytest.mark.tf
def test_training_is_deterministic(tmp_path: Path) -> None:
    from convert.default_model.evaluation import weight_diff
    from convert.default_model.train import train

    quiet = {"num_train_examples": 160, "epochs": 1, "log": lambda *_: None}
    train(tmp_path / "a", seed=3, **quiet)
    train(tmp_path / "b", seed=3, **quiet)
    train(tmp_path / "c", seed=4, **quiet)
    same = weight_diff(tmp_path / "a", tmp_path / "b")
    assert same["arrays"] > 0
    assert same["different"] == 0 and same["missing"] == 0 and same["tokenizer_same"]
    other = weight_diff(tmp_path / "a", tmp_path / "c")
    assert other["different"] > 0
