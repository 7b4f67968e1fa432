"""The Node.js runtimes and their Python bridge.

- fast: the wire encoding and the bridge's own checks (no node, no TensorFlow);
- ``node``: the JS windowing/decoding (qa.mjs) against qaport/decode.py with random logits, and the
  runner protocol (errors, hang and crash detection) on a tiny hand-written ONNX graph;
- ``node`` + ``tf``: a tiny random DistilBERT QA model converted here to TF.js and ONNX, whose logits
  and answers in node must equal Keras' (logits) and Python's decoding (answers).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qaport import decode
from validate.node_bridge import (
    NODE_DIR,
    NodeRequestError,
    NodeRuntime,
    NodeRuntimeError,
    NodeUnavailableError,
    decode_array,
    encode_array,
)

HAVE_NODE = shutil.which("node") is not None and (NODE_DIR / "node_modules").is_dir()
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="needs node on PATH and `npm ci` in js/")

# -- texts: a multi-window context, and one with emoji (non-BMP), CJK and accents ---------------------
TEAMS = ["Tigers", "Lions", "Eagles", "Sharks", "Wolves", "Bears", "Falcons"]
CITIES = ["Paris", "Rostock", "Lima", "Oslo", "Cairo", "Quito"]
LONG_CONTEXT = " ".join(
    f"In {1980 + i}, the {TEAMS[i % 7]} defeated the {TEAMS[(i + 3) % 7]} {10 + i}–{i % 9} in "
    f"{CITIES[i % 6]} before {1000 + 37 * i} fans."
    for i in range(40)
)
EMOJI_CONTEXT = (
    "The 🎉 party in 東京 drew 4,200 fans 😀; the Tigers won the cup in 京都 after 🐯 celebrations. "
    "Café owners in Zürich cheered 𝒳 times, and 🎉🎉 Maria Lindqvist (リンドクヴィスト) founded Northwind Labs."
)
SHORT_CONTEXT = "The Tigers defeated the Lions 24–10 to win the Northern Cup in Paris in 1999."
QUESTIONS = [
    ("Who won the cup?", SHORT_CONTEXT),
    ("Where was the party? 🎉", EMOJI_CONTEXT),
    ("Who founded Northwind Labs?", EMOJI_CONTEXT),
    ("Who defeated the Bears in Oslo?", LONG_CONTEXT),
]


# -- fast: wire format and bridge checks ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
@pytest.mark.parametrize("shape", [(2, 3), (1, 384), (0, 5), (7,), ()])
def test_array_round_trip(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal(shape) * 1000).astype(dtype)
    wire = encode_array(arr)
    assert wire["dtype"] == dtype
    assert wire["shape"] == list(shape)
    json.dumps(wire)  # plain JSON
    back = decode_array(wire)
    assert back.dtype == np.dtype(dtype)
    assert back.shape == shape
    np.testing.assert_array_equal(back, arr)
    back[...] = 0  # writable, not a view of the base64 buffer


def test_wire_is_little_endian_whatever_the_input() -> None:
    big = np.array([[1, -2]], dtype=">i4")
    non_contiguous = np.array([[1, 3], [-2, 4]], dtype=np.int32).T[:1]
    expected = np.array([1, -2], dtype="<i4").tobytes()
    for arr in (big, non_contiguous):
        wire = encode_array(arr)
        assert wire["dtype"] == "int32"
        assert decode_array(wire).tobytes() == expected


def test_encode_rejects_unsupported_dtypes() -> None:
    with pytest.raises(ValueError, match="float64 cannot be sent to node; supported: int32, int64, float32"):
        encode_array(np.zeros(3))


def test_decode_rejects_bad_arrays() -> None:
    wire = encode_array(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"24 bytes do not hold shape \[2, 4\] of float32"):
        decode_array({**wire, "shape": [2, 4]})
    with pytest.raises(ValueError, match="array dtype 'float16' is not one of"):
        decode_array({**wire, "dtype": "float16"})


def test_node_missing_is_unavailable(tmp_path: Path) -> None:
    rt = NodeRuntime("onnx", tmp_path / "model.onnx", node="no-such-node-binary-qaport")
    with pytest.raises(NodeUnavailableError, match=r"not found on PATH: install Node\.js 20"):
        rt.start()


def test_node_modules_missing_is_unavailable(tmp_path: Path) -> None:
    # any executable stands in for node: the packages are checked before anything runs
    rt = NodeRuntime("tfjs", tmp_path / "model.json", backend="wasm", node=sys.executable, node_dir=tmp_path)
    with pytest.raises(NodeUnavailableError, match=r"lacks .*tfjs-backend-wasm.*: run: npm ci --ignore-scripts"):
        rt.start()


def test_bridge_checks_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="runtime 'tflite' is not one of tfjs, onnx"):
        NodeRuntime("tflite", tmp_path)
    with pytest.raises(ValueError, match="backend 'wasm' needs runtime tfjs"):
        NodeRuntime("onnx", tmp_path, backend="wasm")
    rt = NodeRuntime("onnx", tmp_path)
    with pytest.raises(ValueError, match=r"must be equal 2-D shapes"):
        rt.infer(np.zeros((1, 4), np.int32), np.zeros((1, 5), np.int32))
    with pytest.raises(ValueError, match="input_ids must be an integer array"):
        rt.infer(np.zeros((1, 4)), np.zeros((1, 4), np.int32))
    with pytest.raises(NodeRuntimeError, match="is not running: call start"):
        rt.stats()


# -- shared fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cased WordPiece vocabulary that knows some emoji/CJK characters and not others ([UNK] words)."""
    from tokenizers import BertWordPieceTokenizer
    from tokenizers.processors import BertProcessing

    texts = [LONG_CONTEXT, EMOJI_CONTEXT, SHORT_CONTEXT, *(q for q, _ in QUESTIONS)] * 20
    tok = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    alphabet = [*string.ascii_letters, *string.digits, "東", "京", "🎉", "é"]
    tok.train_from_iterator(texts, vocab_size=500, initial_alphabet=alphabet, limit_alphabet=len(alphabet) + 30)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = BertProcessing(("[SEP]", sep), ("[CLS]", cls))
    path = tmp_path_factory.mktemp("node-tok") / "tokenizer.json"
    tok.save(str(path))
    return path


def py_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def utf16_index(text: str, code_points: int) -> int:
    return len(text[:code_points].encode("utf-16-le")) // 2


# -- node: qa.mjs against qaport/decode.py -------------------------------------------------------------
QA_SCRIPT = r"""
import * as qa from './core/qa.mjs';
import { createRequire } from 'node:module';
import { Tokenizer } from './core/tokenizer.mjs';
import { readFileSync } from 'node:fs';
let raw = '';
for await (const chunk of process.stdin) raw += chunk;
const job = JSON.parse(raw);
const tok = Tokenizer.fromJSON(readFileSync(job.tokenizer, 'utf8'));
const out = [];
for (const c of job.cases) {
  const enc = await qa.encode(tok, c.question, c.context, { maxLength: c.max_length, stride: c.stride });
  const item = { windows: enc.windows, shape: enc.shape, input_ids: Array.from(enc.inputIds) };
  if (c.start) {
    const start = { data: Float32Array.from(c.start.flat()), shape: enc.shape };
    const end = { data: Float32Array.from(c.end.flat()), shape: enc.shape };
    item.answer = qa.decode(enc, start, end, c.context);
    item.candidates = qa.decodeCandidates(enc, start, end, c.context);
  }
  out.push(item);
}
process.stdout.write(JSON.stringify(out));
"""


def run_qa_script(tokenizer: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    job = json.dumps({"tokenizer": str(tokenizer), "cases": cases})
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", QA_SCRIPT],
        input=job,
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return list(json.loads(proc.stdout))


@pytest.mark.node
@needs_node
def test_js_windows_equal_python_windows(tokenizer_path: Path) -> None:
    """Windowing is ported (tokenizers >= 0.23.1 truncation drops windows): it must match 0.22 exactly."""
    tok = py_tokenizer(tokenizer_path)
    settings = [(384, 128), (64, 16), (48, 24), (40, 8), (24, 5)]
    cases = [
        {"question": q, "context": c, "max_length": m, "stride": s}
        for q, c in [*QUESTIONS, ("Empty?", ""), ("Emoji only 😀", "😀🎉 東京")]
        for m, s in settings
    ]
    results = run_qa_script(tokenizer_path, cases)
    multi = 0
    for case, js in zip(cases, results, strict=True):
        enc = decode.encode(
            tok, case["question"], case["context"], max_length=case["max_length"], stride=case["stride"]
        )
        py = [
            {
                "inputIds": w.input_ids,
                "sequenceIds": w.sequence_ids,
                "wordIds": w.word_ids,
                "offsets": w.offsets,
                "typeIds": w.type_ids,
            }
            for w in enc.windows
        ]
        py = json.loads(json.dumps(py))  # tuples -> lists
        assert js["windows"] == py, (case["question"], case["max_length"], case["stride"])
        assert js["shape"] == list(enc.input_ids.shape)
        assert js["input_ids"] == enc.input_ids.ravel().tolist()
        multi += len(py) > 1
    assert multi >= 10  # the interesting part: many cases need several windows
    assert len(decode.encode(tok, *QUESTIONS[3]).windows) > 1  # the long context exceeds 384 tokens


@pytest.mark.node
@needs_node
def test_js_decoding_equals_python_decoding(tokenizer_path: Path) -> None:
    """Same windows + same logits -> same answer and candidates (texts, code-point offsets, scores)."""
    tok = py_tokenizer(tokenizer_path)
    rng = np.random.default_rng(7)
    cases, expected = [], []
    for i in range(60):
        question, context = QUESTIONS[i % len(QUESTIONS)]
        max_length, stride = [(384, 128), (40, 8), (64, 16)][i % 3]
        enc = decode.encode(tok, question, context, max_length=max_length, stride=stride)
        scale = [1.0, 3.0, 8.0][i % 3]
        start = (rng.standard_normal(enc.input_ids.shape) * scale).astype(np.float32)
        end = (rng.standard_normal(enc.input_ids.shape) * scale).astype(np.float32)
        if i % 4 == 0:  # plant an answer on a non-BMP character (emoji) when there is one
            for w, window in enumerate(enc.windows):
                for t, (a, b) in enumerate(window.offsets):
                    if window.sequence_ids[t] == 1 and any(ord(ch) > 0xFFFF for ch in context[a:b]):
                        start[w, t] += 20
                        end[w, min(t + 1, len(window.offsets) - 2)] += 20
                        break
        cases.append(
            {
                "question": question,
                "context": context,
                "max_length": max_length,
                "stride": stride,
                "start": start.tolist(),
                "end": end.tolist(),
            }
        )
        expected.append((enc, start, end, context))
    results = run_qa_script(tokenizer_path, cases)
    non_bmp = 0
    for (enc, start, end, context), js in zip(expected, results, strict=True):
        best = decode.decode(enc, start, end, context)
        got = js["answer"]
        assert (got["text"], got["start"], got["end"]) == (best.text, best.start, best.end)
        assert got["score"] == pytest.approx(best.score, abs=1e-9)
        assert context[best.start : best.end] == best.text
        assert (got["startUtf16"], got["endUtf16"]) == (
            utf16_index(context, best.start),
            utf16_index(context, best.end),
        )
        non_bmp += any(ord(ch) > 0xFFFF for ch in best.text)
        py_candidates = [c for c in decode.decode_candidates(enc, start, end, context) if c.score > 0]
        js_candidates = [c for c in js["candidates"] if c["score"] > 0]
        assert [(c["text"], c["start"], c["end"]) for c in js_candidates] == [
            (c.text, c.start, c.end) for c in py_candidates
        ]
        np.testing.assert_allclose([c["score"] for c in js_candidates], [c.score for c in py_candidates], atol=1e-9)
    assert non_bmp >= 3  # answers containing emoji were really exercised


# -- node: runner protocol on a tiny hand-written ONNX graph (no TensorFlow) ----------------------------
def _onnx_model(
    path: Path, nodes: list[Any], initializers: tuple[Any, ...] = (), sequence: str | int = "sequence"
) -> Path:
    import onnx
    from onnx import TensorProto, helper

    axes = ["batch", sequence]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, axes) for n in ("input_ids", "attention_mask")]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, axes) for n in ("end_logits", "start_logits")]
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def echo_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """start_logits = float(input_ids), end_logits = float(attention_mask): exact, and instant to load."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Cast", ["input_ids"], ["start_logits"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["attention_mask"], ["end_logits"], to=TensorProto.FLOAT),
    ]
    return _onnx_model(tmp_path_factory.mktemp("echo") / "echo.onnx", nodes)


@pytest.fixture(scope="module")
def mixing_onnx(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Logits that depend on token and position (sin/cos mixes), so no two spans tie like an echo would.

    Two variants: dynamic sequence length, and fixed at 384 (node must pad the windows itself).
    """
    from onnx import TensorProto, helper, numpy_helper

    consts = {
        "axis": np.array(1, np.int64),
        **{k: np.array(v, np.float32) for k, v in [("a", 0.37), ("b", 1.1), ("c", 0.53), ("d", 0.7), ("g", 4.0)]},
    }
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    mk = helper.make_node
    nodes = [
        mk("Cast", ["input_ids"], ["x"], to=TensorProto.FLOAT),
        mk("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        mk("CumSum", ["m", "axis"], ["pos"]),
        mk("Mul", ["x", "a"], ["xa"]),
        mk("Mul", ["pos", "b"], ["pb"]),
        mk("Add", ["xa", "pb"], ["u"]),
        mk("Sin", ["u"], ["su"]),
        mk("Mul", ["su", "g"], ["start_logits"]),
        mk("Mul", ["x", "c"], ["xc"]),
        mk("Mul", ["pos", "d"], ["pd"]),
        mk("Add", ["xc", "pd"], ["v"]),
        mk("Cos", ["v"], ["cv"]),
        mk("Mul", ["cv", "g"], ["end_logits"]),
    ]
    out = tmp_path_factory.mktemp("mixing")
    return {
        "dynamic": _onnx_model(out / "mixing.onnx", nodes, tuple(inits)),
        "fixed": _onnx_model(out / "mixing384.onnx", nodes, tuple(inits), sequence=decode.MAX_LENGTH),
    }


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child that is not yet reaped would still answer; the bridge reaps it, so this is final
    return True


@pytest.mark.node
@needs_node
def test_protocol_infer_is_exact_and_int64_is_fed(echo_onnx: Path) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 1 << 24, size=(3, 17)).astype(np.int32)
    mask = (rng.random((3, 17)) > 0.3).astype(np.int32)
    with NodeRuntime("onnx", echo_onnx, timeout=30) as rt:
        assert rt.ready["runtime"] == "onnx"
        assert {i["name"]: i["dtype"] for i in rt.ready["inputs"]} == {"input_ids": "int64", "attention_mask": "int64"}
        assert rt.ready["versions"]["onnxruntime-node"]
        start, end, times = rt.infer(ids, mask, warmup=2, runs=5)
        assert start.dtype == np.float32
        np.testing.assert_array_equal(start, ids.astype(np.float32))  # not swapped although ORT lists end first
        np.testing.assert_array_equal(end, mask.astype(np.float32))
        assert len(times) == 5
        assert all(t >= 0 for t in times)
        stats = rt.stats()
        assert stats["rss_bytes"] > 0
        assert stats["num_tensors"] is None


@pytest.mark.node
@needs_node
def test_peak_rss_is_nodes_own_not_the_parents(echo_onnx: Path) -> None:
    """getrusage's maxRSS survives exec on Linux: a node started by a 400 MB Python would report 400 MB."""
    ballast = np.ones(400 * 2**20 // 8)  # resident in this (parent) process when node is spawned
    with NodeRuntime("onnx", echo_onnx, timeout=30) as rt:
        stats = rt.stats()
    del ballast
    assert stats["rss_bytes"] <= stats["peak_rss_bytes"] < 300 * 2**20
    if stats["peak_rss_source"] == "VmHWM":  # Linux
        assert stats["maxrss_bytes"] > 400 * 2**20  # the trap this avoids


@pytest.mark.node
@needs_node
def test_protocol_errors_keep_the_process_serving(echo_onnx: Path) -> None:
    with NodeRuntime("onnx", echo_onnx, timeout=30) as rt:
        pid = rt.ready["pid"]
        with pytest.raises(NodeRequestError, match='unknown op "bogus"'):
            rt.request("bogus")
        bad = {
            "input_ids": encode_array(np.zeros((1, 3), np.int32)),
            "attention_mask": encode_array(np.zeros((1, 4), np.int32)),
        }
        with pytest.raises(NodeRequestError, match="must be equal 2-D shapes"):
            rt.request("infer", inputs=bad)
        with pytest.raises(NodeRequestError, match=r"inputs.input_ids: 3 bytes do not hold shape"):
            rt.request("infer", inputs={**bad, "input_ids": {"shape": [1, 3], "dtype": "int32", "data": "AAAA"}})
        with pytest.raises(NodeRequestError, match="answer needs a tokenizer: start the runner with --tokenizer"):
            rt.answer("q?", "c.")
        with pytest.raises(NodeRequestError, match="runs must be an integer >= 1"):
            rt.infer(np.zeros((1, 2), np.int32), np.ones((1, 2), np.int32), runs=0)
        assert rt.stats()["rss_bytes"] > 0
        assert rt.ready["pid"] == pid
    assert not pid_alive(pid)


@pytest.mark.node
@needs_node
def test_hang_is_detected_killed_and_reported(echo_onnx: Path) -> None:
    rt = NodeRuntime("onnx", echo_onnx, timeout=1.0, load_timeout=60)
    rt.start()
    pid = rt.ready["pid"]
    with pytest.raises(NodeRuntimeError, match=r"'_sleep' .* no reply within 1 s; node killed") as info:
        rt.request("_sleep", ms=120_000)
    assert "node stderr, last" in str(info.value)
    assert "blocking for 120000 ms on request (_sleep)" in str(info.value)
    assert not pid_alive(pid)
    with pytest.raises(NodeRuntimeError, match=r"is not running \(it failed: request '_sleep'"):
        rt.stats()
    rt.close()  # idempotent after a failure


@pytest.mark.node
@needs_node
def test_crash_is_detected_and_reported(echo_onnx: Path) -> None:
    with NodeRuntime("onnx", echo_onnx, timeout=30) as rt:
        with pytest.raises(NodeRuntimeError, match=r"'_exit' .* node exited with code 3 before replying") as info:
            rt.request("_exit")
        assert "runner: exiting with code 3 on request (_exit)" in str(info.value)


@pytest.mark.node
@needs_node
def test_load_failures_are_reported(echo_onnx: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx file")
    with (
        pytest.raises(NodeRuntimeError, match=r"loading broken.onnx in node \(onnx\): .*"),
        NodeRuntime("onnx", broken),
    ):
        pass
    with pytest.raises(NodeRuntimeError, match="model not found"), NodeRuntime("onnx", tmp_path / "missing.onnx"):
        pass
    with (
        pytest.raises(
            NodeRuntimeError, match=r"the output map names nope; the model's outputs are: end_logits, start_logits"
        ),
        NodeRuntime("onnx", echo_onnx, output_map={"nope": "start_logits", "end_logits": "end_logits"}),
    ):
        pass


@pytest.mark.node
@needs_node
@pytest.mark.parametrize("variant", ["dynamic", "fixed"])
def test_answer_through_node_equals_python_without_tf(
    mixing_onnx: dict[str, Path], tokenizer_path: Path, variant: str
) -> None:
    """End to end in node (tokenise, one batched call, decode) == Python decoding of the same logits."""
    tok = py_tokenizer(tokenizer_path)
    with NodeRuntime("onnx", mixing_onnx[variant], tokenizer=tokenizer_path, timeout=60) as rt:
        assert rt.ready["versions"]["tokenizer"] == "js/core/tokenizer.mjs"  # the one the client and browser run
        fixed = rt.ready["fixed_length"]
        assert fixed == (decode.MAX_LENGTH if variant == "fixed" else None)

        def infer(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            width = ids.shape[1]
            pad = ((0, 0), (0, (fixed or width) - width))
            start, end, _ = rt.infer(np.pad(ids, pad), np.pad(mask, pad))
            return start[:, :width], end[:, :width]

        for question, context in QUESTIONS:
            got, times = rt.answer(question, context, warmup=1, runs=2)
            assert len(times) == 2
            want = decode.answer(infer, tok, question, context)
            assert (got["text"], got["start"], got["end"]) == (want.text, want.start, want.end)
            assert got["score"] == pytest.approx(want.score, abs=1e-9)


# -- node + tf: a tiny random DistilBERT QA model, converted here --------------------------------------
@dataclass
class TinyQA:
    model: Any
    tokenizer: Path
    tfjs: Path
    output_map: dict[str, str]
    onnx: Path

    def keras_logits(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.model(input_ids=ids, attention_mask=mask, training=False)
        return out.start_logits.numpy(), out.end_logits.numpy()


@pytest.fixture(scope="module")
def tiny_qa(tmp_path_factory: pytest.TempPathFactory, tokenizer_path: Path) -> TinyQA:
    """2 layers, dim 32, random weights (initializer_range 0.5 so spans do not tie) -> SavedModel, TF.js, ONNX."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    from transformers import DistilBertConfig, TFDistilBertForQuestionAnswering

    from convert import tfjs_export
    from convert.gelu import use_erf_gelu
    from convert.onnx_export import export_onnx
    from convert.savedmodel_export import export_savedmodel

    out = tmp_path_factory.mktemp("tiny-qa")
    tf.keras.utils.set_random_seed(0)
    vocab = py_tokenizer(tokenizer_path).get_vocab_size()
    config = DistilBertConfig(
        vocab_size=vocab,
        dim=32,
        hidden_dim=64,
        n_layers=2,
        n_heads=2,
        max_position_embeddings=512,
        initializer_range=0.5,
    )
    model = TFDistilBertForQuestionAnswering(config)
    model(input_ids=tf.zeros((1, 8), tf.int32), attention_mask=tf.ones((1, 8), tf.int32))
    assert use_erf_gelu(model) == 2

    # the project's own exporters, so the fixture converts exactly as `python -m convert` does (the converter
    # child included, with its environment)
    sm = out / "savedmodel"
    export_savedmodel(model, sm)
    tfjs = out / "tfjs"
    tfjs_export.export_tfjs(sm, tfjs)
    output_map = tfjs_export.output_map(sm)

    onnx_path = out / "model.onnx"
    export_onnx(model, onnx_path)
    return TinyQA(model, tokenizer_path, tfjs / "model.json", output_map, onnx_path)


RUNTIMES = {
    "tfjs-wasm": {"runtime": "tfjs", "backend": "wasm"},
    "tfjs-cpu": {"runtime": "tfjs", "backend": "cpu"},
    "onnx": {"runtime": "onnx"},
}


def open_runtime(qa: TinyQA, name: str, **kwargs: Any) -> NodeRuntime:
    spec = RUNTIMES[name]
    if spec["runtime"] == "tfjs":
        return NodeRuntime(
            model=qa.tfjs, output_map=qa.output_map, tokenizer=qa.tokenizer, timeout=120, **spec, **kwargs
        )
    return NodeRuntime(model=qa.onnx, tokenizer=qa.tokenizer, timeout=120, **spec, **kwargs)


def sample_batches(vocab: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    ids = rng.integers(5, vocab, size=(3, 40)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 25:] = 0
    mask[2, 9:] = 0
    ids[mask == 0] = 0
    long_ids = rng.integers(5, vocab, size=(1, 384)).astype(np.int32)
    return [(ids, mask), (long_ids, np.ones_like(long_ids))]


@pytest.mark.node
@pytest.mark.tf
@needs_node
@pytest.mark.parametrize("name", list(RUNTIMES))
def test_node_logits_equal_keras(tiny_qa: TinyQA, name: str) -> None:
    vocab = py_tokenizer(tiny_qa.tokenizer).get_vocab_size()
    with open_runtime(tiny_qa, name) as rt:
        for ids, mask in sample_batches(vocab):
            want_start, want_end = tiny_qa.keras_logits(ids, mask)
            start, end, times = rt.infer(ids, mask, warmup=1, runs=2)
            assert start.shape == end.shape == ids.shape
            np.testing.assert_allclose(start, want_start, atol=1e-4, rtol=0)
            np.testing.assert_allclose(end, want_end, atol=1e-4, rtol=0)
            assert len(times) == 2


@pytest.mark.node
@pytest.mark.tf
@needs_node
def test_swapped_output_map_would_be_caught(tiny_qa: TinyQA) -> None:
    assert sorted(tiny_qa.output_map.values()) == ["end_logits", "start_logits"]
    swapped = {name: ("start_logits" if v == "end_logits" else "end_logits") for name, v in tiny_qa.output_map.items()}
    ids, mask = sample_batches(py_tokenizer(tiny_qa.tokenizer).get_vocab_size())[0]
    want_start, want_end = tiny_qa.keras_logits(ids, mask)
    with NodeRuntime("tfjs", tiny_qa.tfjs, backend="wasm", output_map=swapped) as rt:
        start, end, _ = rt.infer(ids, mask)
    np.testing.assert_allclose(end, want_start, atol=1e-4, rtol=0)
    np.testing.assert_allclose(start, want_end, atol=1e-4, rtol=0)
    assert np.abs(start - want_start).max() > 1e-2
    with pytest.raises(NodeRuntimeError, match=r"no output mapped to start_logits, end_logits \(outputs: Identity"):
        NodeRuntime("tfjs", tiny_qa.tfjs, backend="wasm").start()


@pytest.mark.node
@pytest.mark.tf
@needs_node
@pytest.mark.parametrize("name", ["tfjs-wasm", "onnx"])
def test_node_answers_equal_python(tiny_qa: TinyQA, name: str) -> None:
    tok = py_tokenizer(tiny_qa.tokenizer)
    with open_runtime(tiny_qa, name) as rt:
        for question, context in QUESTIONS:
            got, times = rt.answer(question, context, warmup=1, runs=2)
            assert len(times) == 2
            # same logits (this runtime's, from calls of the same shapes: qa.mjs soloWidthFor batches
            # every window on TF.js), decoded in Python: must be identical
            solo = math.inf if name.startswith("tfjs") else decode.SOLO_WIDTH
            same = decode.answer(lambda i, m: rt.infer(i, m)[:2], tok, question, context, solo_width=solo)
            assert (got["text"], got["start"], got["end"]) == (same.text, same.start, same.end)
            assert got["score"] == pytest.approx(same.score, abs=1e-9)
            # Keras' logits, decoded in Python: the answer a Python user gets
            ref = decode.answer(tiny_qa.keras_logits, tok, question, context)
            assert (got["text"], got["start"], got["end"]) == (ref.text, ref.start, ref.end)
            assert got["score"] == pytest.approx(ref.score, abs=1e-4)
            assert context[got["start"] : got["end"]] == got["text"]
            assert got["startUtf16"] == utf16_index(context, got["start"])
            assert got["endUtf16"] == utf16_index(context, got["end"])


@pytest.mark.node
@pytest.mark.tf
@needs_node
def test_tfjs_tensor_count_returns_to_start(tiny_qa: TinyQA) -> None:
    ids, mask = sample_batches(py_tokenizer(tiny_qa.tokenizer).get_vocab_size())[0]
    with open_runtime(tiny_qa, "tfjs-wasm") as rt:
        before = rt.stats()["num_tensors"]
        assert before == rt.ready["num_tensors"]
        assert before > 0  # the weights
        rt.infer(ids, mask, warmup=2, runs=3)
        rt.answer(*QUESTIONS[3], runs=2)
        with pytest.raises(NodeRequestError):
            rt.request("infer", inputs={"input_ids": encode_array(ids)})
        assert rt.stats()["num_tensors"] == before
