"""The embedded default model: held-out EM/F1, the Super Bowl answer, disjoint names, determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from qaport.default_model import (
    CHECKPOINT_DIR,
    HELDOUT_PATH,
    SUPER_BOWL_ANSWER,
    SUPER_BOWL_CONTEXT,
)


def test_heldout_is_squad_v11_with_500_questions() -> None:
    doc = json.loads(HELDOUT_PATH.read_text(encoding="utf-8"))
    assert doc["version"] == "1.1"
    n = 0
    for article in doc["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                for ans in qa["answers"]:
                    assert para["context"][ans["answer_start"] : ans["answer_start"] + len(ans["text"])] == ans["text"]
                n += 1
    assert n >= 500


def _names(split: str) -> set[str]:
    from qaport.default_model.corpus import make_pools

    pools = make_pools(split)
    return set(pools.first + pools.last + pools.places + pools.words + pools.mascots)


def test_heldout_names_never_occur_in_training() -> None:
    train_names, held_names = _names("train"), _names("heldout")
    assert not train_names & held_names
    # and the held-out file really uses held-out names
    text = HELDOUT_PATH.read_text(encoding="utf-8")
    words = set(re.findall(r"[A-Z][a-z]+", text))
    assert len(words & held_names) > 100
    assert not (words & train_names) - {"Cup", "Bowl"}


def test_training_corpus_excludes_the_super_bowl_paragraph() -> None:
    from convert.train_default import build_corpus
    from qaport.default_model.corpus import BANNED

    corpus = build_corpus(0, 2000, "train")
    text = " ".join(t + " " + " ".join(q for q, _, _ in qas) for t, qas in corpus)
    for banned in BANNED:
        assert banned not in text
    assert "Who won the" in text  # the question itself is trained, on other events
    assert " champion " in text and " defeated the " in text


def test_checkpoint_files_config_and_size() -> None:
    names = {p.name for p in CHECKPOINT_DIR.iterdir()}
    assert {"config.json", "tf_model.h5", "tokenizer.json", "tokenizer_config.json", "vocab.txt"} <= names
    assert sum(p.stat().st_size for p in CHECKPOINT_DIR.iterdir()) <= 20 * 1024 * 1024
    config = json.loads((CHECKPOINT_DIR / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "distilbert"
    assert config["architectures"] == ["DistilBertForQuestionAnswering"]
    assert config["max_position_embeddings"] >= 384
    tok_config = json.loads((CHECKPOINT_DIR / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["do_lower_case"] is False  # cased WordPiece, as in distilbert-base-cased
    vocab = (CHECKPOINT_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocab) == config["vocab_size"]


def test_corpus_is_seeded() -> None:
    import random

    from qaport.default_model.corpus import Generator, make_pools

    def sample(seed: str) -> list[tuple[str, list[tuple[str, str, int]]]]:
        gen = Generator(make_pools("train"), random.Random(seed))
        return [gen.paragraph() for _ in range(50)]

    assert sample("a") == sample("a")
    assert sample("a") != sample("b")


def test_heldout_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    from convert.train_default import build_corpus, write_squad

    # what --check compares after a rebuild, checked here without training: the generator still writes it
    write_squad(build_corpus(1, 400, "heldout"), tmp_path / "heldout.json", 600)
    assert (tmp_path / "heldout.json").read_bytes() == HELDOUT_PATH.read_bytes()


def test_corpus_covers_every_question_kind() -> None:
    import random

    from qaport.default_model.corpus import Generator, make_pools

    gen = Generator(make_pools("train"), random.Random("kinds"))
    questions = [q for _ in range(300) for q, _, _ in gen.paragraph()[1]]
    for kind in ("Who ", "What ", "When ", "Where ", "How many "):
        assert any(q.startswith(kind) for q in questions), kind


def test_importing_the_trainer_leaves_the_environment_alone() -> None:
    import os
    import subprocess
    import sys

    from convert.train_default import TRAINING_ENV

    # set at import, oneDNN leaked into tensorflowjs' converter (started by later tests) and broke it
    env = {k: v for k, v in os.environ.items() if k not in TRAINING_ENV}
    code = "import os, convert.train_default as t; print(sorted(set(t.TRAINING_ENV) & set(os.environ)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr[-2000:]


def test_batches_have_one_shape_per_bucket() -> None:
    import numpy as np

    from convert.train_default import BUCKETS, batches

    rng = np.random.RandomState(0)
    lengths = rng.randint(20, 300, size=700)
    feats = [(list(range(1, n + 1)), 1, n - 2) for n in lengths]
    out = batches(feats, 1024, np.random.RandomState(3))
    shapes = {b[0].shape for b in out}
    # the XLA-compiled step compiles once per shape: one row count per width, even for a bucket's last batch
    assert {w for _, w in shapes} <= set(BUCKETS), shapes
    assert all(rows == max(1, 1024 // w) for rows, w in shapes), shapes
    seen = {tuple(ids[m.astype(bool)]) for ids, mask, _, _ in out for ids, m in zip(ids, mask, strict=True)}
    assert len(seen) == len(set(lengths)), "every example is in some batch"
    for ids, mask, starts, ends in out:
        lens = mask.sum(axis=1)
        assert (ids[np.arange(len(ids)), lens - 1] == lens).all()  # rows are whole examples, left-aligned
        assert (starts == 1).all() and (ends == lens - 2).all()
    assert batches(feats, 1024, np.random.RandomState(3))[5][0].tolist() == out[5][0].tolist()  # seeded


@pytest.fixture(scope="module")
def scores() -> dict[str, Any]:
    """The committed checkpoint on the held-out set and the Super Bowl question (what train.py reports)."""
    from convert.train_default import evaluate_checkpoint

    return evaluate_checkpoint(CHECKPOINT_DIR, HELDOUT_PATH)


@pytest.mark.tf
def test_heldout_em_f1(scores: dict[str, Any]) -> None:
    assert scores["count"] >= 500
    # Measured on the committed model: EM 92.67, F1 95.12 (600 questions); issue 2's targets are EM 90 and F1 95
    assert scores["exact_match"] >= 90.0, scores
    assert scores["f1"] >= 95.0, scores


@pytest.mark.tf
def test_super_bowl(scores: dict[str, Any]) -> None:
    ans = scores["super_bowl"]
    assert ans["text"] == SUPER_BOWL_ANSWER
    assert SUPER_BOWL_CONTEXT[ans["start"] : ans["end"]] == SUPER_BOWL_ANSWER


@pytest.mark.tf
@pytest.mark.slow
def test_same_seed_same_weights(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from convert.train_default import TRAINING_ENV, weights_equal

    def tiny(out: Path, seed: int) -> None:
        # one process per run, as for a real rebuild (Keras numbers its models within a process)
        code = "from pathlib import Path; from convert.train_default import train; "
        code += f"train(Path({str(out)!r}), {seed}, paragraphs=60, epochs=1, batch_tokens=1024, log=lambda _: None)"
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **TRAINING_ENV}
        proc = subprocess.run(
            [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-2000:]

    tiny(tmp_path / "a", 7)
    tiny(tmp_path / "b", 7)
    tiny(tmp_path / "c", 8)
    same, worst = weights_equal(tmp_path / "a", tmp_path / "b")
    assert same, worst
    assert not weights_equal(tmp_path / "a", tmp_path / "c")[0]


@pytest.mark.tf
def test_killed_training_leaves_the_committed_model_alone(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "checkpoint"
    out.mkdir()
    (out / "tf_model.h5").write_text("the committed weights")
    (tmp_path / "heldout.json").write_text("the committed held-out set")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [
        sys.executable,
        "-m",
        "convert.train_default",
        "--out",
        str(out),
        "--paragraphs",
        "300",
        "--epochs",
        "50",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(tmp_path.glob(".checkpoint.staging-*/vocab.txt")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert any(tmp_path.glob(".checkpoint.staging-*")), "training never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert not list(tmp_path.glob(".checkpoint.staging-*"))
    assert (out / "tf_model.h5").read_text() == "the committed weights"
    assert sorted(p.name for p in out.iterdir()) == ["tf_model.h5"]
    assert (tmp_path / "heldout.json").read_text() == "the committed held-out set"


@pytest.mark.tf
def test_weight_decay_covers_only_the_weight_matrices_and_block_layer_norms() -> None:
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from transformers import DistilBertConfig, TFDistilBertForQuestionAnswering

    from convert.train_default import make_optimizer

    model = TFDistilBertForQuestionAnswering(
        DistilBertConfig(vocab_size=50, dim=16, n_layers=1, n_heads=2, hidden_dim=32, max_position_embeddings=64)
    )
    model(model.dummy_inputs)
    opt = make_optimizer(10)
    decayed = {v.name.split("/", 1)[1] for v in model.trainable_variables if opt._use_weight_decay(v)}
    assert decayed == {
        *(f"distilbert/transformer/layer_._0/attention/{m}/kernel:0" for m in ("q_lin", "k_lin", "v_lin", "out_lin")),
        "distilbert/transformer/layer_._0/ffn/lin1/kernel:0",
        "distilbert/transformer/layer_._0/ffn/lin2/kernel:0",
        *(
            f"distilbert/transformer/layer_._0/{n}/{w}:0"
            for n in ("sa_layer_norm", "output_layer_norm")
            for w in ("gamma", "beta")
        ),
        "qa_outputs/kernel:0",
    }, decayed


def test_dev_set_is_separate_from_the_heldout_set(tmp_path: Path) -> None:
    from convert.train_default import write_dev_set

    assert write_dev_set(tmp_path / "dev.json") >= 500
    contexts = [
        {p["context"] for a in json.loads(path.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"]}
        for path in (tmp_path / "dev.json", HELDOUT_PATH)
    ]
    assert not contexts[0] & contexts[1]
    words = set(re.findall(r"[A-Z][a-z]+", " ".join(contexts[0])))
    assert not (words & _names("train")) - {"Cup", "Bowl"}
