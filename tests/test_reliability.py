"""Issue 7, reliability and security: bad inputs, faults, integrity of what is published, long runs.

What other files already cover is not repeated here (see the survey in each section's comment):
tests/convert/test_sources.py (missing/empty checkpoint, truncated h5, config/weights and vocabulary mismatch),
tests/qaport/test_squad.py (bad JSON lines), tests/validate/test_validate.py (modified/extra files, ``../`` and absolute
manifest paths in validation), tests/convert/test_convert.py (SIGTERM/SIGINT/SIGKILL midway),
tests/validate/test_node_bridge.py (the bridge's own hang/crash detection), tests/publish/test_publish.py (flipped bytes
and ``../`` in the installed client, refused checksums and unlisted files before packaging).

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT, copy_artifacts, error_lines, resign, run_cli

NODE_DIR = ROOT / "validate" / "node"
HAVE_NODE = shutil.which("node") is not None and (NODE_DIR / "node_modules").is_dir()
HAVE_NPM = shutil.which("npm") is not None
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="needs node on PATH and `npm ci` in validate/node")
needs_npm = pytest.mark.skipif(not (HAVE_NODE and HAVE_NPM), reason="needs node and npm on PATH")


# -- shared fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The embedded default model converted to every format (conftest's session fixture)."""
    src = os.environ.get("QAPORT_RELIABILITY_DIR")
    return Path(src) if src else Path(request.getfixturevalue("default_artifacts"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def passed_report(root: Path, *, write: bool = True) -> dict[str, Any]:
    """A report.json saying every target passed (packaging mechanics are under test, not validation)."""
    from publish.checks import SHIPPABLE

    doc = json.loads((root / "manifest.json").read_text())
    targets = [
        {
            "id": tid,
            "format": tid.split("@")[0],
            "runtime": tid.split("@")[1],
            "status": "passed",
            "answers": {"agree": 1, "tie": 0, "disagree": 0, "agreement": 1.0},
            "logits": {},
        }
        for fmt, tids in SHIPPABLE.items()
        if fmt in doc["formats"]
        for tid in tids
    ]
    report = {"schema_version": 1, "model": doc["source"].get("spec"), "passed": True, "targets": targets}
    if write:
        (root / "report.json").write_text(json.dumps(report))
    return report


def stage(root: Path, dest: Path, *, link_modules: bool) -> Path:
    """The npm package tree of ``root`` (as python -m publish stages it), runnable in place if linked."""
    from publish.contents import stage_package
    from qaport.manifest import load_manifest

    report = passed_report(root, write=False)
    stage_package(root, load_manifest(root), report, dest, "qaport-reliability", "0.0.0")
    if link_modules:  # the client's require() finds onnxruntime-node, tfjs and tokenizers here
        (dest / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    return dest


@pytest.fixture(scope="module")
def package(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stage(artifacts, tmp_path_factory.mktemp("pkg") / "package", link_modules=True)


def run_node(script: str, job: Any, cwd: Path, timeout: float = 600) -> Any:
    path = cwd / f"job-{os.getpid()}-{time.monotonic_ns()}.mjs"
    path.write_text(script)
    try:
        proc = subprocess.run(
            ["node", str(path)],
            input=json.dumps(job),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        path.unlink()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# =======================================================================================================
# 1. Model side. Covered in test_sources: missing dir, empty dir, no weights, truncated h5, config that
#    does not match the weights, tokenizer vocabulary != vocab_size. Added: weights that are not HDF5 at
#    all, an empty weights file, a damaged safetensors file, a config.json that is not JSON, a file
#    given as the directory.
# =======================================================================================================
@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory: pytest.TempPathFactory, word_tokenizer) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    from tests.test_sources import _save_tiny

    base = tmp_path_factory.mktemp("bad-ckpt")
    vocab = base / "vocab.txt"
    vocab.write_text("\n".join(t for t, _ in sorted(word_tokenizer.get_vocab().items(), key=lambda kv: kv[1])) + "\n")
    good = _save_tiny(base / "good", "TFDistilBertForQuestionAnswering", vocab)
    out: dict[str, Path] = {}

    def variant(name: str) -> Path:
        out[name] = base / name
        shutil.copytree(good, out[name])
        return out[name]

    weights = variant("garbage-h5") / "tf_model.h5"
    weights.write_bytes(np.random.default_rng(0).bytes(weights.stat().st_size))
    (variant("empty-h5") / "tf_model.h5").write_bytes(b"")
    (variant("config-not-json") / "config.json").write_text('{"model_type": "distilbert", ')
    safetensors = variant("truncated-safetensors")
    import tensorflow as tf
    from transformers import TFDistilBertForQuestionAnswering

    tf.keras.utils.set_random_seed(0)
    model = TFDistilBertForQuestionAnswering.from_pretrained(str(good))
    (safetensors / "tf_model.h5").unlink()
    model.save_pretrained(str(safetensors), safe_serialization=True)
    out["intact-safetensors"] = base / "intact-safetensors"
    shutil.copytree(safetensors, out["intact-safetensors"])
    data = (safetensors / "model.safetensors").read_bytes()
    (safetensors / "model.safetensors").write_bytes(data[: len(data) // 2])
    out["a-file"] = base / "a-file.h5"
    out["a-file"].write_bytes(b"\x89HDF\r\n")
    return out


BAD_MODELS = {
    "garbage-h5": r"weights file .*tf_model\.h5 is unreadable \(truncated or corrupt\?\)",
    "empty-h5": r"weights file .*tf_model\.h5 is empty; re-save the checkpoint",
    "config-not-json": r"config\.json is not valid JSON",
    "truncated-safetensors": r"model\.safetensors is unreadable \(truncated or corrupt\?\)",
    "a-file": r"is a file; pass the checkpoint directory that holds config\.json",
}


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_damaged_checkpoint_is_one_line_exit_2(case: str, bad_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    proc = run_cli("convert", "--model", str(bad_checkpoints[case]), cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr[-2000:]
    (line,) = error_lines(proc.stderr)
    print(f"\n{case}: {line}")
    assert re.search(BAD_MODELS[case], line), line
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.tf
def test_intact_safetensors_checkpoint_still_loads(bad_checkpoints: dict[str, Path]) -> None:
    from convert.sources import load_model

    loaded = load_model(str(bad_checkpoints["intact-safetensors"]))
    assert loaded.source.weights_file == "model.safetensors"


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
import { QAClient } from './index.js';

const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const hwm = () => Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
// TF.js on wasm: its memory bound is the one under test (tfjs-node, installed here too, would be the default)
const options = job.runtime === 'tfjs' ? { runtime: 'tfjs', backend: 'wasm' } : { runtime: job.runtime };
const qa = await QAClient.fromOptions(options);
const infer = qa._runtime.infer.bind(qa._runtime);
let maxRows = 0;
qa._runtime.infer = (ids, mask, shape) => { maxRows = Math.max(maxRows, shape[0]); return infer(ids, mask, shape); };
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
    # 5x the text, same peak memory (+ the tokenised windows); one call over all ~120 windows raised the
    # peak by ~550 MB on this 2-layer model (measured before the client called the model in chunks)
    assert big["hwmGrowth"] < 50e6, big


# =======================================================================================================
# 3. Files. Covered: bad JSON line / missing field at the loader (test_squad); modified and extra files
#    and ../ or absolute manifest paths in validation (test_validate); modified and extra files before
#    packaging (test_publish). Added: the examples file through the CLI (SQuAD entries named, wrong
#    types and non-UTF-8 files without a traceback), missing files (validation and packaging), unsafe
#    manifest paths before packaging and in the npm client, unlisted or truncated files in the client.
# =======================================================================================================
BAD_EXAMPLES = {
    "jsonl-bad-line.jsonl": (
        '{"question": "Who?", "context": "Tigers."}\n\n{"question": "Who?", "context": "x"\n',
        r"line 3: not valid JSON",
    ),
    "jsonl-missing-context.jsonl": (
        '{"question": "Who?", "context": "Tigers."}\n{"question": "Who won?"}\n',
        r"line 2: field 'context' is missing",
    ),
    "jsonl-not-object.jsonl": ('["Who?", "Tigers."]\n', r"line 1: expected an object with 'question' and 'context'"),
    "squad-truncated.json": ('{"data": [\n {"paragraphs": [\n', r"not valid JSON at line 3"),
    "squad-missing-question.json": (
        json.dumps({"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q?"}, {"id": "b"}]}]}]}),
        r"data\[0\]\.paragraphs\[0\]\.qas\[1\]: field 'question' is missing",
    ),
    "squad-paragraph-not-object.json": (
        json.dumps({"data": [{"paragraphs": ["just text"]}]}),
        r"data\[0\]\.paragraphs\[0\] must be an object",
    ),
    "squad-answers-string.json": (
        json.dumps({"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q?", "answers": "x"}]}]}]}),
        r"data\[0\]\.paragraphs\[0\]\.qas\[0\] must be an object whose 'answers' is a list",
    ),
    "latin1.jsonl": (None, r"line 2 is not UTF-8 text \(byte 0xe9\)"),
    "empty.jsonl": ("", r"no questions found"),
}


@pytest.mark.parametrize("name", sorted(BAD_EXAMPLES))
def test_bad_examples_file_is_one_line_naming_the_entry(artifacts: Path, tmp_path: Path, name: str) -> None:
    text, pattern = BAD_EXAMPLES[name]
    path = tmp_path / name
    if text is None:
        path.write_bytes(b'{"question": "Who?", "context": "Tigers."}\n{"question": "Qui?", "context": "Caf\xe9"}\n')
    else:
        path.write_text(text)
    proc = run_cli("validate", str(artifacts), "--examples", str(path), timeout=300)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr[-2000:]
    (line,) = error_lines(proc.stderr)
    print(f"\n{name}: {line}")
    assert str(path) in line and re.search(pattern, line), line
    assert "Traceback" not in proc.stderr


@pytest.mark.tf
@pytest.mark.node
def test_missing_file_fails_validation_naming_it(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "m")
    (root / "vocab.txt").unlink()
    shard = sorted((root / "tfjs").glob("*.bin"))[0]
    shard.unlink()
    proc = run_cli("validate", str(root), "--only", "tfjs", "--limit", "1", "--warmup", "0", timeout=900)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((root / "report.json").read_text())
    ran = [t for t in report["targets"] if not t.get("excluded")]
    assert [t["id"] for t in ran] == ["tfjs@tfjs-wasm", "tfjs@tfjs-node"]
    for target in ran:
        assert target["status"] == "failed"
        assert "vocab.txt is listed in the manifest but missing" in target["reason"]
    (root / "vocab.txt").write_bytes((artifacts / "vocab.txt").read_bytes())  # now only the shard is missing
    proc = run_cli("validate", str(root), "--only", "tfjs", "--limit", "1", "--warmup", "0", timeout=900)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((root / "report.json").read_text())
    for target in [t for t in report["targets"] if not t.get("excluded")]:
        assert f"tfjs/{shard.name} is listed in the manifest but missing" in target["reason"]


@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("missing", r"onnx/model\.onnx is listed in the manifest but missing; refusing to publish"),
        ("dotdot", r"manifest names '\.\./outside\.bin', which is outside .*; refusing"),
        ("absolute", r"manifest names an absolute or empty path '/etc/hostname'; refusing"),
    ],
)
def test_packaging_refuses_missing_files_and_unsafe_paths(tmp_path: Path, how: str, pattern: str) -> None:
    from tests.test_publish import fake_dir

    root = fake_dir(tmp_path / "art")
    (tmp_path / "outside.bin").write_bytes(b"x")
    if how == "missing":
        (root / "onnx" / "model.onnx").unlink()
    else:
        doc = json.loads((root / "manifest.json").read_text())
        bad = "../outside.bin" if how == "dotdot" else "/etc/hostname"
        doc["formats"]["onnx"]["files"].append({"path": bad, "size": 1, "sha256": "0" * 64})
        (root / "manifest.json").write_text(json.dumps(doc))
    proc = run_cli("publish", str(root), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = error_lines(proc.stderr)
    print(f"\n{how}: {line}")
    assert re.search(pattern, line), line
    assert not (root / "npm").exists()


CLIENT_LOAD_SCRIPT = r"""
import fs from 'node:fs';
import { QAClient } from './index.js';

const out = [];
for (const [runtime, quantized, modelDir] of JSON.parse(fs.readFileSync(0, 'utf8'))) {
  try {
    const qa = await QAClient.fromOptions({ runtime, quantized, modelDir });
    out.push({ ok: true, text: (await qa.predict('Who won?', 'The Denver Broncos won.')).text });
    await qa.dispose();
  } catch (err) {
    out.push({ ok: false, name: err.name, message: err.message });
  }
}
console.log(JSON.stringify(out));
"""


@pytest.mark.node
@needs_node
def test_node_client_refuses_tampered_model_dirs(package: Path, tmp_path: Path) -> None:
    """Cases test_publish does not try: absolute path, missing file, unlisted shard, truncated file."""
    model = package / "model"

    def tampered(label: str) -> Path:
        d = tmp_path / label
        shutil.copytree(model, d)
        return d

    def edit_manifest(d: Path, fn: Any) -> None:
        doc = json.loads((d / "manifest.json").read_text())
        fn(doc)
        (d / "manifest.json").write_text(json.dumps(doc))

    absolute = tampered("absolute")
    edit_manifest(
        absolute, lambda doc: doc["formats"]["onnx"]["files"][0].update(path=str(absolute / "onnx/model.onnx"))
    )
    edit_manifest(absolute, lambda doc: doc["formats"]["onnx"].update(main_file=str(absolute / "onnx/model.onnx")))
    missing = tampered("missing")
    shard = sorted((missing / "tfjs").glob("*.bin"))[0]
    shard.unlink()
    truncated = tampered("truncated")
    data = (truncated / "onnx/model_quantized.onnx").read_bytes()
    (truncated / "onnx/model_quantized.onnx").write_bytes(data[:-1])
    unlisted = tampered("unlisted")  # model.json points at a shard the manifest does not list
    doc = json.loads((unlisted / "tfjs-fp16/model.json").read_text())
    doc["weightsManifest"][0]["paths"] = ["extra-shard.bin"]
    (unlisted / "tfjs-fp16/model.json").write_text(json.dumps(doc))
    shutil.copyfile(sorted((model / "tfjs-fp16").glob("*.bin"))[0], unlisted / "tfjs-fp16/extra-shard.bin")
    new = (unlisted / "tfjs-fp16/model.json").read_bytes()

    def relist(doc: dict[str, Any]) -> None:
        for e in doc["formats"]["tfjs-fp16"]["files"]:
            if e["path"] == "tfjs-fp16/model.json":
                e.update(size=len(new), sha256=hashlib.sha256(new).hexdigest())

    edit_manifest(unlisted, relist)
    cases = [
        ("onnx", False, absolute, r"manifest names the path \"/.*\"; only relative paths are allowed"),
        (
            "tfjs",
            False,
            missing,
            rf"tfjs/{re.escape(shard.name)} is listed in the manifest but cannot be read \(ENOENT\)",
        ),
        ("onnx", True, truncated, r"onnx/model_quantized\.onnx does not match its manifest checksum \(size \d+"),
        ("tfjs", True, unlisted, r"tfjs-fp16/extra-shard\.bin is not listed in .*refusing to load an unverified file"),
        ("onnx", False, model, None),
    ]
    results = run_node(CLIENT_LOAD_SCRIPT, [[r, q, str(d)] for r, q, d, _ in cases], package)
    for (runtime, quantized, _, pattern), res in zip(cases, results, strict=True):
        if pattern is None:
            assert res["ok"] and res["text"], res  # the untouched directory loads and answers
            continue
        print(f"\nclient {runtime} quantized={quantized}: {res['name']}: {res['message']}")
        assert not res["ok"] and res["name"] == "IntegrityError", (runtime, quantized, res)
        assert re.search(pattern, res["message"]), res["message"]


# =======================================================================================================
# 4. Faults. Covered (test_convert): SIGTERM, SIGINT and SIGKILL midway leave the previous directory
#    intact, and the next run removes SIGKILL's staging directory. Added: the disk filling up for real.
# =======================================================================================================
def _mount_tmpfs(path: Path, size: int) -> None:
    path.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {proc.stderr.strip()}")


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("headroom", [6_000_000, 40_000], ids=["fills-during-tfjs", "fills-before-any-format"])
def test_disk_full_leaves_previous_artifacts_and_no_staging(artifacts: Path, tmp_path: Path, headroom: int) -> None:
    """A real small file system (tmpfs) holding the previous artifacts, with ``headroom`` bytes free.

    With 6 MB the SavedModel fits and the TF.js files do not; with 40 kB not even tokenizer.json does.
    """
    small = tmp_path / "small"
    size = sum(p.stat().st_size for p in artifacts.rglob("*") if p.is_file()) + 1_000_000
    _mount_tmpfs(small, size + headroom)
    try:
        dest = copy_artifacts(artifacts, small / "dest")
        (small / "pad").write_bytes(b"\0" * max(0, shutil.disk_usage(small).free - headroom))
        before = tree(dest)
        proc = run_cli("convert", "--out", str(dest), timeout=900)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
        (line,) = error_lines(proc.stderr)
        print(f"\ndisk full ({headroom} bytes free): {line}")
        assert "No space left on device" in line and str(dest) in line, line
        assert "Traceback" not in proc.stderr
        assert tree(dest) == before
        assert sorted(p.name for p in small.iterdir()) == ["dest", "pad"]  # no staging, no half-swapped dir
    finally:
        subprocess.run(["umount", str(small)], check=False)


# =======================================================================================================
# 5. A Node.js runtime that crashes or hangs mid-validation. Covered (test_node_bridge): the bridge
#    detects a hang (timeout, kill) and a crash, with the stderr tail. Added: during a real validation
#    run, that format fails with the tail in its reason and the other formats still run and pass.
# =======================================================================================================
@pytest.mark.tf
@pytest.mark.node
@needs_node
def test_node_crash_and_hang_fail_only_their_format(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "v")
    fault = "crash:3:onnx/model.onnx,hang:3:tfjs/model.json"  # the 3rd request of those two runtimes
    started = time.monotonic()
    proc = run_cli(
        "validate",
        str(root),
        *("--only", "onnxruntime-node", "--only", "tfjs-wasm", "--limit", "3", "--node-timeout", "15"),
        *("--warmup", "0", "--runs-short", "1", "--runs-long", "1"),
        env={"QAPORT_NODE_FAULT": fault},
        timeout=900,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    targets = {t["id"]: t for t in json.loads((root / "report.json").read_text())["targets"]}
    crash, hang = targets["onnx@onnxruntime-node"], targets["tfjs@tfjs-wasm"]
    print(f"\ncrash: {crash['reason']}\nhang: {hang['reason']}\n({elapsed:.0f} s in all)")
    assert crash["status"] == "failed"
    assert re.search(r"node exited with code -11 before replying; node stderr tail: .*fault injected", crash["reason"])
    assert hang["status"] == "failed"
    assert re.search(r"no reply within 15 s; node killed; node stderr tail: .*hang on request 3", hang["reason"])
    assert targets["onnx-int8@onnxruntime-node"]["status"] == "passed"
    assert targets["tfjs-fp16@tfjs-wasm"]["status"] == "passed"
    assert elapsed < 600  # the hang cost its 15 s timeout, not the hour it would have blocked


# =======================================================================================================
# 6. Operation allowlist before packaging (publish/graph_ops.py): graphs that really hold such ops.
# =======================================================================================================
def test_shipped_graphs_pass_the_allowlist(artifacts: Path) -> None:
    """The real graphs pass; the SavedModel's checkpoint functions hold SaveV2/RestoreV2, which no signature reaches."""
    from publish.graph_ops import check_graph_ops, savedmodel_ops
    from qaport.manifest import load_manifest

    check_graph_ops(artifacts, load_manifest(artifacts))
    ops = savedmodel_ops(artifacts / "savedmodel/saved_model.pb")
    assert {"SaveV2", "RestoreV2"} <= {op for op, _, reached in ops if not reached}
    assert not {"SaveV2", "RestoreV2"} & {op for op, _, reached in ops if reached}


def _evil_onnx(src: Path, dst: Path, *, external: bool = False) -> Path:
    import onnx
    from onnx import helper

    model = onnx.load(str(src))
    if external:
        onnx.save_model(model, str(dst), save_as_external_data=True, location="weights.bin", size_threshold=1024)
        return dst
    model.graph.node.append(
        helper.make_node("PyOp", ["input_ids"], ["pyop_out"], name="evil", domain="ai.onnx.contrib")
    )
    model.opset_import.append(helper.make_opsetid("ai.onnx.contrib", 1))
    onnx.save(model, str(dst))
    return dst


def test_onnx_graph_with_python_op_or_external_file_is_refused(artifacts: Path, tmp_path: Path) -> None:
    from publish.graph_ops import GraphOpError, check_onnx

    evil = _evil_onnx(artifacts / "onnx/model.onnx", tmp_path / "evil.onnx")
    with pytest.raises(
        GraphOpError,
        match=r"onnx: onnx/model\.onnx holds op 'ai\.onnx\.contrib\.PyOp' \(main graph, node evil\), a file-system",
    ):
        check_onnx("onnx", "onnx/model.onnx", evil)
    (tmp_path / "ext").mkdir()
    external = _evil_onnx(artifacts / "onnx/model.onnx", tmp_path / "ext" / "model.onnx", external=True)
    with pytest.raises(GraphOpError, match=r"reads tensor .* from the external file 'weights\.bin'"):
        check_onnx("onnx", "onnx/model.onnx", external)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x03" * 80)
    with pytest.raises(GraphOpError, match=r"is not a readable ONNX model"):
        check_onnx("onnx", "onnx/model.onnx", garbage)


def _file_io(op: str, ids: Any, path: str) -> Any:
    import tensorflow as tf

    if op == "ReadFile":
        return tf.strings.length(tf.io.read_file(path))
    with tf.control_dependencies([tf.io.write_file(path, tf.strings.as_string(tf.reduce_sum(ids)))]):
        return tf.constant(0)


@pytest.mark.tf
@pytest.mark.parametrize("op", ["ReadFile", "WriteFile"])
def test_savedmodel_whose_function_does_file_io_is_refused(tmp_path: Path, op: str) -> None:
    import tensorflow as tf

    from publish.graph_ops import GraphOpError, check_format

    target = tmp_path / "victim.txt"
    target.write_text("secret")

    class Evil(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32, name="input_ids"),
                tf.TensorSpec([None, None], tf.int32, name="attention_mask"),
            ]
        )
        def serve(self, input_ids: Any, attention_mask: Any) -> dict[str, Any]:
            extra = tf.cast(_file_io(op, input_ids, str(target)), tf.float32)
            logits = tf.cast(input_ids + attention_mask, tf.float32) + extra
            return {"start_logits": logits, "end_logits": logits}

    module = Evil()
    root = tmp_path / "art"
    tf.saved_model.save(module, str(root / "savedmodel"), signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(str(root / "savedmodel")).signatures["serving_default"]
    loaded(input_ids=tf.ones((1, 2), tf.int32), attention_mask=tf.ones((1, 2), tf.int32))  # it really does I/O
    record = {"main_file": "savedmodel/saved_model.pb", "files": []}
    pattern = rf"savedmodel: savedmodel/saved_model\.pb holds op '{op}' \(function .*serve.*\), a file-system, I/O"
    with pytest.raises(GraphOpError, match=pattern):
        check_format(root, "savedmodel", record)


def test_tfjs_graph_with_read_file_or_escaping_shard_is_refused(artifacts: Path, tmp_path: Path) -> None:
    from publish.graph_ops import GraphOpError, check_format
    from qaport.manifest import load_manifest

    root = copy_artifacts(artifacts, tmp_path / "t")
    record = load_manifest(root)["formats"]["tfjs"]
    doc = json.loads((root / "tfjs/model.json").read_text())
    original = json.dumps(doc)
    doc["modelTopology"]["node"].append({"name": "evil", "op": "ReadFile", "input": ["evil/filename"], "attr": {}})
    (root / "tfjs/model.json").write_text(json.dumps(doc))
    with pytest.raises(GraphOpError, match=r"tfjs: tfjs/model\.json holds op 'ReadFile' \(node evil\), a file-system"):
        check_format(root, "tfjs", record)
    doc = json.loads(original)
    doc["weightsManifest"][0]["paths"] = ["../../../etc/hostname"]
    (root / "tfjs/model.json").write_text(json.dumps(doc))
    with pytest.raises(GraphOpError, match=r"loads weights from '\.\./\.\./\.\./etc/hostname', which is not one of"):
        check_format(root, "tfjs", record)


@pytest.mark.node
@needs_npm
def test_publish_refuses_a_graph_with_a_python_op(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "p")
    _evil_onnx(artifacts / "onnx/model.onnx", root / "onnx/model.onnx")
    resign(root, "onnx/model.onnx")
    passed_report(root)
    proc = run_cli("publish", str(root), timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "onnx: onnx/model.onnx holds op 'ai.onnx.contrib.PyOp'" in line and "refusing to package" in line, line
    assert not (root / "npm").exists()


# =======================================================================================================
# 7. What is published. Covered (test_publish): the client refuses flipped bytes and ../ paths; the fake
#    package has no "scripts". Added: npm pack --dry-run's list == the manifest (and refusals when not),
#    install scripts refused, the real model packaged end to end through those checks.
# =======================================================================================================
@pytest.fixture
def bare_package(artifacts: Path, tmp_path: Path) -> Path:
    return stage(artifacts, tmp_path / "package", link_modules=False)


@needs_npm
def test_npm_pack_list_equals_the_manifest(bare_package: Path) -> None:
    from publish.npm_package import check_pack_list, expected_files

    listed = check_pack_list(bare_package)
    assert listed == sorted(expected_files(bare_package))
    pkg = json.loads((bare_package / "package.json").read_text())
    assert "scripts" not in pkg and not (bare_package / "binding.gyp").exists()


@needs_npm
@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("extra", r"npm pack would ship model/onnx/extra\.onnx, which the manifest does not list"),
        ("npmignore", r"npm pack would leave out model/vocab\.txt, which the manifest lists"),
        ("gyp", r"npm pack would ship binding\.gyp"),
        ("postinstall", r"the package declares install scripts \(postinstall\)"),
    ],
)
def test_npm_pack_list_mismatch_or_install_script_is_refused(bare_package: Path, how: str, pattern: str) -> None:
    from publish.checks import NpmError
    from publish.npm_package import check_pack_list

    if how == "extra":
        (bare_package / "model/onnx/extra.onnx").write_bytes(b"\0")
    elif how == "npmignore":
        (bare_package / "model/.npmignore").write_text("vocab.txt\n")
    elif how == "gyp":  # npm would run `node-gyp rebuild` at install for this file alone
        (bare_package / "binding.gyp").write_text("{}")
        pkg = json.loads((bare_package / "package.json").read_text())
        pkg["files"].append("binding.gyp")
        (bare_package / "package.json").write_text(json.dumps(pkg))
    else:
        pkg = json.loads((bare_package / "package.json").read_text())
        pkg["scripts"] = {"postinstall": "node -e \"require('fs').writeFileSync('/tmp/pwned', '')\""}
        (bare_package / "package.json").write_text(json.dumps(pkg))
    with pytest.raises(NpmError, match=pattern):
        check_pack_list(bare_package)


@pytest.mark.node
@needs_npm
def test_publish_packs_exactly_the_manifest(artifacts: Path, tmp_path: Path) -> None:
    import tarfile

    root = copy_artifacts(artifacts, tmp_path / "ok")
    passed_report(root)
    proc = run_cli("publish", str(root), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every graph op is allowed" in proc.stdout
    doc = json.loads((root / "manifest.json").read_text())
    with tarfile.open(root / doc["npm"]["tarball"]) as tar:
        names = sorted(n.removeprefix("package/") for n in tar.getnames())
        packaged = json.load(tar.extractfile("package/model/manifest.json"))  # type: ignore[arg-type]
        pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
    entries = [*packaged["files"], *(e for f in packaged["formats"].values() for e in f["files"])]
    code = ["README.md", "index.d.ts", "index.js", "package.json", "qa.mjs", "runtimes.mjs", "model/manifest.json"]
    assert names == sorted([*code, *(f"model/{e['path']}" for e in entries)])
    assert "scripts" not in pkg


# =======================================================================================================
# 8. Under load: many questions through each Node.js runtime (python -m validate.soak).
# =======================================================================================================
@pytest.mark.node
@needs_node
def test_soak_memory_flat_and_answers_match(artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    proc = run_cli("validate.soak", str(artifacts), "--questions", "150", "--json", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    print(proc.stdout)
    assert "RSS first" in proc.stdout and "tensors start/min/max" in proc.stdout
    report = json.loads(out.read_text())
    assert [r["format"] for r in report["results"]] == ["tfjs", "onnx"]
    for r in report["results"]:
        assert r["questions"] == 150 and r["passed"], r
        assert r["answers"]["disagree"] == 0, r
        assert r["rss_growth"] < 0.05, r
    tfjs = report["results"][0]
    assert tfjs["tensors_start"] > 0 and tfjs["tensors_min"] == tfjs["tensors_max"] == tfjs["tensors_start"]


def test_soak_command_refuses_bad_arguments(artifacts: Path, tmp_path: Path) -> None:
    for name in ("validate.soak", "validate.load"):  # the former name keeps working
        proc = run_cli(name, str(tmp_path / "nothing"), "--questions", "10", timeout=120)
        assert proc.returncode == 2, name
        (line,) = error_lines(proc.stderr)
        assert "does not exist; convert first" in line, name
    proc = run_cli("validate.soak", str(artifacts), "--formats", "tfjs,savedmodel", timeout=120)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "--formats savedmodel: not a Node.js format" in line
