"""Hard questions and contexts (empty, huge, Unicode, long questions), in Python (qaport.decode on
onnxruntime) and in the npm client: the same answers, with offsets into the original text.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import (
    needs_node,
    run_node,
)

# =======================================================================================================
# 2. Questions and contexts, in Python (qaport.decode on onnxruntime) and in the npm client
#    (publish/js, as installed): the same answers, offsets that index the original string.
# =======================================================================================================
SB = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football "
    "League (NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos "
    "defeated the National Football Conference (NFC) champion Carolina Panthers 24–10 to earn their "
    "third Super Bowl title. The game was played on February 7, 2016, at Levi's Stadium in the San "
    "Francisco Bay Area at Santa Clara, California."
)
LONG_QUESTION = "who " * 500
SB_LONG = ((SB + " ") * 300)[:100_000]
EDGE_CASES: dict[str, tuple[str, str]] = {
    "empty question": ("", SB),
    "empty context": ("Who won?", ""),
    "whitespace context": ("Who won?", "  \n\t \u3000 "),
    "question longer than the window": (LONG_QUESTION, SB),
    "CJK": (
        "Who won Super Bowl 50?",
        "第50回スーパーボウルでは、デンバー・ブロンコスが勝った。 The Denver Broncos won in 東京 24–10.",
    ),
    "emoji": ("Who won?", "🎉🏈 The Denver Broncos 🐴 won 😀 24–10 against the Carolina Panthers 🐾 in 2016."),
    "RTL": ("Who won?", "فاز فريق دنفر برونكوس. The Denver Broncos won the title. הקבוצה ניצחה 24–10."),
    "combining accents": (
        "Who won?",
        "The De\u0301nver Bronco\u0308s won against the Cafe\u0301 Panthers in Zu\u0308rich.",
    ),
    "control characters and NUL": (
        "Who\x00 won?",
        "The\x00 Denver\x07 Broncos\x1b won\r\n against the\u200b Carolina\x00Panthers\x7f in\x0b 2016.",
    ),
    "100,000 characters": ("Who won Super Bowl 50?", SB_LONG),
}


@pytest.fixture(scope="module")
def python_answers(artifacts: Path) -> dict[str, Any]:
    """Python's answers (qaport.decode on onnxruntime's float32 logits), in 16-window model calls."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from qaport import decode

    session = ort.InferenceSession(str(artifacts / "onnx/model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    tokenizer = Tokenizer.from_file(str(artifacts / "tokenizer.json"))
    calls: list[int] = []

    def infer(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        for r in range(0, len(ids), 16):  # bounded memory: at most 16 windows per call
            calls.append(len(ids[r : r + 16]))
            feeds = {"input_ids": ids[r : r + 16].astype(np.int64), "attention_mask": mask[r : r + 16].astype(np.int64)}
            parts.append(dict(zip(names, session.run(None, feeds), strict=True)))
        return (
            np.concatenate([p["start_logits"] for p in parts]),
            np.concatenate([p["end_logits"] for p in parts]),
        )

    out: dict[str, Any] = {}
    for name, (question, context) in EDGE_CASES.items():
        try:
            out[name] = decode.answer(infer, tokenizer, question, context)
        except decode.DecodeError as exc:
            out[name] = exc
    out["_windows_100k"] = len(decode.encode(tokenizer, *EDGE_CASES["100,000 characters"]).windows)
    out["_max_rows"] = max(calls)
    return out


def test_python_edge_cases_answer_with_offsets_into_the_original(python_answers: dict[str, Any]) -> None:
    from qaport import decode

    for name, (_, context) in EDGE_CASES.items():
        got = python_answers[name]
        if name == "question longer than the window":
            assert isinstance(got, decode.DecodeError)
            assert "shorten the question" in str(got) and "\n" not in str(got)
            continue
        assert isinstance(got, decode.Answer), (name, got)
        assert 0 <= got.start <= got.end <= len(context), (name, got)
        assert context[got.start : got.end] == got.text, (name, got)
        if context.strip():
            assert got.text and got.score > 0, (name, got)
        else:
            assert (got.text, got.start, got.end) == ("", 0, 0), (name, got)
    assert python_answers["_windows_100k"] > 100  # answered through windows ...
    assert python_answers["_max_rows"] <= 16  # ... in bounded model calls
    assert python_answers["100,000 characters"].text  # the fact repeats in every window


def test_python_windows_are_independent(artifacts: Path, python_answers: dict[str, Any]) -> None:
    """Chunked model calls (bounded memory) give the answer of one call over every window."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from qaport import decode

    session = ort.InferenceSession(str(artifacts / "onnx/model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    question, context = EDGE_CASES["100,000 characters"]
    context = context[:20_000]  # ~25 windows: one call is affordable here

    def whole(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = dict(
            zip(
                names,
                session.run(None, {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)}),
                strict=True,
            )
        )
        return out["start_logits"], out["end_logits"]

    def chunked(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [whole(ids[r : r + 4], mask[r : r + 4]) for r in range(0, len(ids), 4)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    tokenizer = Tokenizer.from_file(str(artifacts / "tokenizer.json"))
    a = decode.answer(whole, tokenizer, question, context)
    b = decode.answer(chunked, tokenizer, question, context)
    assert (a.text, a.start, a.end) == (b.text, b.start, b.end)
    assert a.score == pytest.approx(b.score, rel=1e-4)


CLIENT_EDGE_SCRIPT = r"""
import fs from 'node:fs';
import { QAClient } from './client/index.js';

const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const hwm = () => Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
// TF.js on wasm: its memory bound is the one under test (tfjs-node, installed here too, would be the default)
const options = job.runtime === 'tfjs' ? { runtime: 'tfjs', backend: 'wasm' } : { runtime: job.runtime };
const qa = await QAClient.fromOptions(options);
const infer = qa._runtime.infer.bind(qa._runtime);
let maxRows = 0;
qa._runtime.infer = (ids, mask, shape, ...rest) => {
  maxRows = Math.max(maxRows, shape[0]);
  return infer(ids, mask, shape, ...rest);
};
const out = {};
for (const [name, [question, context]] of Object.entries(job.cases)) {
  const before = hwm();
  maxRows = 0;
  try {
    const a = await qa.predict(question, context);
    out[name] = { ok: true, ...a, slice: context.slice(a.startUtf16, a.endUtf16), maxRows, hwmGrowth: hwm() - before };
  } catch (err) {
    out[name] = { ok: false, name: err.name, message: err.message };
  }
}
await qa.dispose();
console.log(JSON.stringify(out));
"""


@pytest.mark.node
@needs_node
@pytest.mark.parametrize("runtime", ["onnx", "tfjs"])
def test_node_client_edge_cases_match_python(package: Path, python_answers: dict[str, Any], runtime: str) -> None:
    from qaport import decode

    names = list(EDGE_CASES)  # the 100,000-character context last: its memory is measured on its own
    cases = {n: EDGE_CASES[n] for n in names}
    # ~23 windows: model calls of 16 windows bring the runtime to its working size before the 100,000 characters
    cases = {**dict(list(cases.items())[:-1]), "20,000 characters": (EDGE_CASES[names[-1]][0], SB_LONG[:20_000])}
    cases[names[-1]] = EDGE_CASES[names[-1]]
    got = run_node(CLIENT_EDGE_SCRIPT, {"runtime": runtime, "cases": cases}, package)
    # full-length windows run one per call (decode.call_plan / qa.mjs callPlan), TF.js graph models in
    # calls of at most maxBatchWindows (16) windows
    assert got["20,000 characters"]["ok"] and got["20,000 characters"]["maxRows"] == (16 if runtime == "tfjs" else 1)
    for name in names:
        context = EDGE_CASES[name][1]
        js, py = got[name], python_answers[name]
        if isinstance(py, decode.DecodeError):
            assert not js["ok"] and js["name"] == "DecodeError", js
            assert "shorten the question" in js["message"] and "\n" not in js["message"]
            continue
        assert js["ok"], (name, js)
        assert js["slice"] == js["text"], (name, js)  # UTF-16 offsets index the JS string
        assert context[js["start"] : js["end"]] == js["text"], (name, js)  # code points, as in Python
        assert (js["text"], js["start"], js["end"]) == (py.text, py.start, py.end), (name, runtime, js, py)
        assert js["score"] == pytest.approx(py.score, rel=1e-3, abs=1e-6)
    big = got["100,000 characters"]
    print(f"\n{runtime}: 100,000 characters -> {big['text']!r}, peak RSS +{big['hwmGrowth'] / 1e6:.1f} MB")
    assert big["maxRows"] <= 16, big  # at most maxBatchWindows windows per model call
    # 5x the text, same peak memory (+ the tokenised windows and the GC's slack); one call over all ~120
    # windows raised the peak by ~550 MB on this 2-layer model (measured before the client called the
    # model in chunks). Chunked, the growth measured 44 to 56 MB on the 2-core machine, moving with
    # V8's collection timing, so the bound sits well above that and well below the failure it guards.
    assert big["hwmGrowth"] < 120e6, big
