"""The installed npm client on BERT and RoBERTa packages answers as Python does: a converted, validated
and packed random:tiny-bert (WordPiece, token_type_ids fed) and random:tiny-roberta (byte-level BPE, no
token types), each installed from its tarball into a fresh project, against qaport.decode on Keras."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.publish.test_publish import VALIDATE_FAST, _node, _project, publish

NEEDS_NODE = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm on PATH"
)
QUESTIONS = [
    ("Who won the game?", "The Tigers defeated the Lions 24-10 to win the Northern Cup in Paris in 1999."),
    ("Where was the game played?", "The Tigers defeated the Lions 24-10 to win the Northern Cup in Paris in 1999."),
    ("Who founded Northwind Labs?", "Maria Lindqvist founded Northwind Labs in Rostock; 4,200 people came."),
    ("When was she born?", "Zoë Ångström was born in Kraków in 1971 and later joined the committee."),
    ("What did the committee decide?", " ".join(["The committee met again and decided to stop printing."] * 60)),
]
SCRIPT = """\
import fs from 'node:fs';
import { QAClient } from '%(name)s';

const [questionsFile, outFile] = process.argv.slice(2);
const items = JSON.parse(fs.readFileSync(questionsFile, 'utf8'));
const out = {};
for (const [runtime, backend] of [['onnx', undefined], ['tfjs', 'wasm']]) {
  const qa = await QAClient.fromOptions({ runtime, backend });
  const single = [];
  for (const { question, context } of items) single.push(await qa.predict(question, context));
  out[`${qa.info.format}@${qa.info.runtimeId}`] = { info: qa.info, single };
  await qa.dispose();
}
fs.writeFileSync(outFile, JSON.stringify(out));
"""


@pytest.fixture(scope="module", params=["tiny-bert", "tiny-roberta"])
def package(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    name = request.param
    root = tmp_path_factory.mktemp(name) / "art"
    proc = run_cli("convert", "--model", f"random:{name}", "--out", str(root), "--formats", "onnx,tfjs", timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = run_cli("validate", str(root), *VALIDATE_FAST, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    proc = publish(root, "--name", f"qaport-{name}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((root / "manifest.json").read_text())
    project = _project(tmp_path_factory.mktemp(f"{name}-client") / "consumer", str(root / manifest["npm"]["tarball"]))
    return {"name": name, "root": root, "manifest": manifest, "project": project}


def _python_answers(root: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    from tokenizers import Tokenizer

    from qaport import decode
    from validate.runners.keras_runner import KerasRunner

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    runner = KerasRunner("keras", root, manifest["source"], root / "tokenizer.json")
    runner.activate()
    try:
        out = []
        types = runner.uses_token_types
        for question, context in QUESTIONS:
            enc = decode.encode(tokenizer, question, context)
            start, end = runner.infer(enc.input_ids, enc.attention_mask, enc.token_type_ids if types else None)
            answer = decode.answer(runner.infer, tokenizer, question, context, token_types=types)  # type: ignore[arg-type]
            out.append({"answer": answer, "encoded": enc, "start": start, "end": end, "context": context})
        return out
    finally:
        runner.deactivate()


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@NEEDS_NODE
def test_installed_bert_and_roberta_packages_answer_like_python(package: dict[str, Any]) -> None:
    from qaport import decode
    from validate import compare

    project = package["project"]
    (project / "questions.json").write_text(json.dumps([{"question": q, "context": c} for q, c in QUESTIONS]))
    (project / "answer.mjs").write_text(SCRIPT % {"name": package["manifest"]["npm"]["name"]})
    _node(project / "answer.mjs", str(project / "questions.json"), str(project / "answers.json"), cwd=project)
    got = json.loads((project / "answers.json").read_text())
    assert set(got) == {"onnx@onnxruntime-node", "tfjs@tfjs-wasm"}, sorted(got)
    uses_types = package["name"] == "tiny-bert"  # BERT takes token_type_ids, RoBERTa does not
    reference = _python_answers(package["root"], package["manifest"])
    assert any(len(r["encoded"].windows) > 1 for r in reference)  # the long context is windowed
    for key, result in got.items():
        assert result["info"]["tokenTypes"] is uses_types, result["info"]
        tally: Counter[str] = Counter()
        for ref, single in zip(reference, result["single"], strict=True):
            mine = decode.Answer(single["text"], single["score"], single["start"], single["end"])
            assert ref["context"][mine.start : mine.end] == mine.text
            r = ref["answer"]
            kind = compare.classify(
                r, mine, ref["encoded"], ref["start"], ref["end"], ref["context"], max_answer_len=decode.MAX_ANSWER_LEN
            )
            tally[kind] += 1
            if kind == "agree":  # the same span: the same score, to float32 precision
                assert mine.score == pytest.approx(r.score, rel=1e-3, abs=1e-6), (key, mine, r)
        # random weights make near-equal spans common: a tie (within the comparison's tolerance of the
        # reference's own score) is allowed, a real disagreement is not
        assert tally["disagree"] == 0, (package["name"], key, dict(tally))
        assert tally["agree"] >= 3, (package["name"], key, dict(tally))
