"""SQuAD 2.0 through ``python -m validate``: unanswerable questions turn the null answer on, are scored
like the official v2.0 script, and the "no answer" verdict is compared in every runtime (the Node.js
runner decodes in JavaScript, so the option must reach it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

QUESTIONS = ["Who won the game?", "Where was it held?", "When did it happen?", "How many people came?"]
CONTEXTS = [".", "Yes.", "No one.", "It rained.", "Paris", "1999"]  # almost nothing to answer from


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random BERT: its [CLS] logits often outscore every span, so the null answer really occurs."""
    out = tmp_path_factory.mktemp("sq2") / "tiny-bert"
    proc = run_cli("convert", "--model", "random:tiny-bert", "--out", str(out), "--formats", "onnx,tfjs", timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.tf
@pytest.mark.node
def test_unanswerable_questions_validate_with_the_null_answer_in_every_runtime(tiny_bert: Path, tmp_path: Path) -> None:
    rows = [
        {"id": f"q{i}-{j}", "question": q, "context": c, "answers": [], "is_impossible": True}
        for i, q in enumerate(QUESTIONS)
        for j, c in enumerate(CONTEXTS)
    ]
    rows.append(
        {"id": "has-answer", "question": "Where was it held?", "context": "It was held in Paris.", "answers": ["Paris"]}
    )
    examples = _write(tmp_path / "squad2.jsonl", rows)
    proc = run_cli(
        "validate",
        str(tiny_bert),
        "--examples",
        str(examples),
        "--warmup",
        "0",
        "--runs-short",
        "1",
        "--runs-long",
        "1",
        "--software-gpu-questions",  # every question of the file on the software-rendered browser backends too
        "40",  # (the 25 rows and 6 short protocol texts, and one of the 3 long ones)
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads((tiny_bert / "report.json").read_text())
    assert report["options"]["handle_impossible_answer"] is True  # on by itself: the file holds unanswerable questions
    assert "--handle-impossible-answer True" in (tiny_bert / "report.md").read_text()
    targets = [t for t in report["targets"] if t["status"] != "reference"]
    assert {t["runtime"] for t in targets} >= {"onnxruntime", "onnxruntime-node", "tfjs-wasm", "tfjs-webgpu"}
    for t in targets:
        assert t["status"] == "passed", t
        no_answer = t["answers"]["no_answer"]
        # the reference said "no answer" to some questions, and so did this runtime, to the same ones
        assert no_answer["reference"] > 0 and no_answer["flipped"] == 0, (t["id"], no_answer)
        gold = t["gold"]
        assert gold["count"] == len(rows) and gold["no_answer"]["count"] == len(rows) - 1
        # an unanswerable question scores 100 exactly when the prediction is empty (evaluate-v2.0.py):
        # some were predicted empty, so NoAns EM is above 0, and F1 equals EM there (all or nothing)
        assert 0 < gold["no_answer"]["exact_match"] <= 100
        assert gold["no_answer"]["f1"] == gold["no_answer"]["exact_match"]


@pytest.mark.tf
@pytest.mark.node
def test_without_unanswerable_questions_the_null_answer_stays_off(tiny_bert: Path, tmp_path: Path) -> None:
    rows = [
        {"id": f"q{j}", "question": "Who won the game?", "context": c, "answers": ["x"]} for j, c in enumerate(CONTEXTS)
    ]
    examples = _write(tmp_path / "squad1.jsonl", rows)
    proc = run_cli(
        "validate",
        str(tiny_bert),
        "--examples",
        str(examples),
        "--only",
        "onnx@onnxruntime-node",
        "--warmup",
        "0",
        "--runs-short",
        "1",
        "--runs-long",
        "1",
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads((tiny_bert / "report.json").read_text())
    assert report["options"]["handle_impossible_answer"] is False
    (t,) = [t for t in report["targets"] if t["id"] == "onnx@onnxruntime-node"]
    # no null answer was in play: the no-answer verdict is not even tallied
    assert t["status"] == "passed" and "no_answer" not in t["answers"], t["answers"]
