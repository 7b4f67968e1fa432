"""The npm package: refused for unfit directories, and proven by real Node.js clients.

- fast: ``python -m publish`` refuses a directory that was never validated, whose report failed or
  left a shipped format out, whose files no longer match their checksums, or a bad name/version;
- ``node``: a package built from a hand-made directory (no TensorFlow): contents, pinned
  dependencies, no install scripts, the manifest's ``npm`` entry, byte-identical rebuilds;
- ``node`` + ``tf`` + ``slow``: the default model converted, validated and packaged; the tarball
  installed into a fresh project where a plain Node script answers the validation questions with both
  runtimes (float32 answers equal to Python's reference, quantised ones at the documented agreement),
  tampered model files are refused, transformers.js loads the artifact directory and its answers are
  compared with ours, and TF.js' own ``loadGraphModel`` runs the shipped model.json.

Set QAPORT_PUBLISH_TEST_DIR to an already converted directory to use it instead of the default model.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from publish.contents import SHIPPED_JS
from tests.conftest import ROOT, error_lines, resign, run_cli

NODE = shutil.which("node") is not None and shutil.which("npm") is not None
needs_node = pytest.mark.skipif(not NODE, reason="needs node and npm on PATH")
NPM_ENV = {
    "ONNXRUNTIME_NODE_INSTALL": "skip",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}
TRANSFORMERS_JS = "@huggingface/transformers@4.3.2"
LIMIT = 20
VALIDATE_FAST = ("--warmup", "0", "--runs-short", "1", "--runs-long", "1", "--exclude", "browser")  # ships to Node.js
SHIPPED = {"onnx": "float32", "onnx-int8": "int8", "tfjs": "float32", "tfjs-fp16": "float16"}


# -- a hand-made artifact directory (no TensorFlow) -------------------------------------------------------


def _entry(root: Path, rel: str, data: bytes) -> dict[str, Any]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _tiny_onnx(marker: float) -> bytes:
    """A real, allowlisted ONNX graph (Cast + Add): packaging inspects the ops of every shipped graph."""
    from onnx import TensorProto, helper

    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
        for n in ("input_ids", "attention_mask")
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "sequence"])
        for n in ("start_logits", "end_logits")
    ]
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["start_logits"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["mask_f", "bias"], ["end_logits"]),
    ]
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [], [marker])
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializer=[bias])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def fake_dir(root: Path, *, passed: bool = True, report: bool = True, exclude: tuple[str, ...] = ()) -> Path:
    """Files, manifest and report shaped like the real ones; the models are tiny stand-ins (no SavedModel)."""
    root.mkdir(parents=True)
    shared = [
        _entry(root, "config.json", b'{"model_type": "distilbert"}'),
        _entry(root, "tokenizer.json", b'{"version": "1.0"}'),
        _entry(root, "tokenizer_config.json", b"{}"),
        _entry(root, "vocab.txt", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n"),
    ]
    formats = {
        "tfjs": [_entry(root, "tfjs/model.json", b"{}"), _entry(root, "tfjs/group1-shard1of1.bin", b"\x01" * 64)],
        "tfjs-fp16": [
            _entry(root, "tfjs-fp16/model.json", b"{}"),
            _entry(root, "tfjs-fp16/group1-shard1of1.bin", b"\x02" * 32),
        ],
        "onnx": [_entry(root, "onnx/model.onnx", _tiny_onnx(3.0))],
        "onnx-int8": [_entry(root, "onnx/model_quantized.onnx", _tiny_onnx(4.0))],
    }
    main = {
        "tfjs": "tfjs/model.json",
        "tfjs-fp16": "tfjs-fp16/model.json",
        "onnx": "onnx/model.onnx",
        "onnx-int8": "onnx/model_quantized.onnx",
    }
    tfjs_names = {"Identity": "end_logits", "Identity_1": "start_logits"}
    onnx_names = {"start_logits": "start_logits", "end_logits": "end_logits"}
    precision = SHIPPED
    doc = {
        "schema_version": 1,
        "created_by": "qaport",
        "source": {"kind": "local", "spec": "/somewhere/fake", "name": "fake", "path": "/somewhere/fake"},
        "tools": {"python": "3.11"},
        "fixed_length": None,
        "files": shared,
        "formats": {
            name: {
                "main_file": main[name],
                "precision": precision[name],
                "output_names": tfjs_names if name.startswith("tfjs") else onnx_names,
                "signature": {"inputs": {"input_ids": {"dtype": "int32", "shape": [-1, -1]}}},
                "files": files,
            }
            for name, files in formats.items()
        },
    }
    (root / "manifest.json").write_text(json.dumps(doc, indent=2))
    runtimes = {"tfjs": ["tfjs-wasm", "tfjs-node"], "tfjs-fp16": ["tfjs-wasm", "tfjs-node"]}
    targets = [
        {
            "id": f"{fmt}@{rt}",
            "format": fmt,
            "runtime": rt,
            "status": "not_run" if fmt in exclude else "passed",
            **({"excluded": True} if fmt in exclude else {}),
            "answers": {"agree": 10, "tie": 0, "disagree": 0, "agreement": 1.0, "required_agreement": 0.9},
            "logits": {"start_logits": {"max_abs_diff": 1e-6}, "end_logits": {"max_abs_diff": 1e-6}},
        }
        for fmt in formats
        for rt in runtimes.get(fmt, ["onnxruntime", "onnxruntime-node"])
    ]
    if not passed:
        targets[1]["status"] = "failed"
    if report:
        rep = {
            "schema_version": 1,
            "model": "/somewhere/fake",
            "passed": passed,
            "examples": {"count": 10},
            "targets": targets,
        }
        (root / "report.json").write_text(json.dumps(rep))
    return root


def publish(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("publish", str(root), *args, timeout=600)


def refused(proc: subprocess.CompletedProcess[str], pattern: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = error_lines(proc.stderr)
    assert len(errors) == 1, proc.stderr
    assert re.search(pattern, errors[0]), errors[0]


# -- fast: refusals ---------------------------------------------------------------------------------------


def test_refuses_a_directory_never_validated(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art", report=False)
    refused(publish(root), r"has no report\.json.*python -m validate")
    assert not (root / "npm").exists()


def test_refuses_a_failed_report(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art", passed=False)
    refused(publish(root), r"did not pass \(not passed: tfjs@tfjs-node \(failed\)")


def test_refuses_a_report_that_left_a_shipped_format_out(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art", exclude=("tfjs-fp16",))
    refused(publish(root), r"tfjs-fp16@tfjs-node \(not_run\)")


def test_formats_to_ship_are_checked(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art")
    refused(publish(root, "--formats", "onnx,tfjs16"), r"--formats names 'tfjs16'.*did you mean 'tfjs-fp16'")
    refused(publish(root, "--formats", "savedmodel"), r"asks for savedmodel, which the directory does not have")
    assert not (root / "npm").exists()


def test_a_format_left_out_of_validation_can_be_left_out_of_the_package(tmp_path: Path) -> None:
    """--formats ships only what was asked: a report that excluded tfjs-fp16 suffices for an ONNX package."""
    root = fake_dir(tmp_path / "art", exclude=("tfjs-fp16",))
    proc = publish(root, "--formats", "onnx,onnx-int8")
    if not NODE:
        assert proc.returncode == 1 and "npm is not on PATH" in proc.stderr
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((root / "manifest.json").read_text())
    assert doc["npm"]["formats"] == ["onnx", "onnx-int8"]
    assert doc["npm"]["client_formats"] == {"onnx": {"false": "onnx", "true": "onnx-int8"}}
    with tarfile.open(root / doc["npm"]["tarball"]) as tar:
        names = tar.getnames()
        pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
    assert not any(n.startswith("package/model/tfjs") for n in names)
    assert "peerDependencies" not in pkg  # no TF.js format shipped: tfjs-node is no peer


def test_refuses_a_checksum_mismatch(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art")
    data = bytearray((root / "onnx" / "model.onnx").read_bytes())
    data[-1] ^= 0xFF
    (root / "onnx" / "model.onnx").write_bytes(bytes(data))
    refused(publish(root), r"onnx/model\.onnx does not match its manifest checksum.*refusing to publish")
    assert not (root / "npm").exists()


def test_refuses_an_unlisted_file(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art")
    (root / "tfjs" / "group1-shard2of2.bin").write_bytes(b"x")
    refused(publish(root), r"tfjs/group1-shard2of2\.bin is not in the manifest")


def test_refuses_a_missing_directory(tmp_path: Path) -> None:
    refused(publish(tmp_path / "nothing"), r"does not exist")


@pytest.mark.parametrize(
    ("args", "pattern"),
    [(("--name", "Bad Name"), r"not a valid npm package name"), (("--version", "1.0"), r"not a semantic version")],
)
def test_refuses_bad_name_or_version(tmp_path: Path, args: tuple[str, str], pattern: str) -> None:
    refused(publish(fake_dir(tmp_path / "art"), *args), pattern)


def test_missing_npm_is_one_error_line_and_changes_nothing(tmp_path: Path) -> None:
    root = fake_dir(tmp_path / "art")
    before = (root / "manifest.json").read_bytes()
    proc = run_cli("publish", str(root), env={"PATH": str(tmp_path / "no-bin")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert error_lines(proc.stderr) == ["ERROR: npm is not on PATH; install Node.js 20 (with npm) to pack the package"]
    assert (root / "manifest.json").read_bytes() == before
    assert not (root / "npm").exists()
    assert not list(tmp_path.glob(".art.npm-*"))  # the staging directory is cleaned up


# -- node: the package built from a hand-made directory ---------------------------------------------------


def _sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


@needs_node
@pytest.mark.node
def test_package_contents_and_manifest_entry(tmp_path: Path) -> None:
    from qaport.manifest import load_manifest, verify_files

    root = fake_dir(tmp_path / "art")
    proc = publish(root, "--name", "@acme/qa-test", "--version", "1.2.3-rc.1", "--dry-run-publish")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--tag next" in proc.stdout  # npm refuses a prerelease without a dist-tag
    assert "+ @acme/qa-test@1.2.3-rc.1" in proc.stdout
    doc = load_manifest(root)
    npm = doc["npm"]
    tarball = root / npm["tarball"]
    assert npm["tarball"] == "npm/acme-qa-test-1.2.3-rc.1.tgz" and npm["dist_tag"] == "next"
    assert npm["integrity"] == _sha512(tarball) and npm["size"] == tarball.stat().st_size
    # the tarball is listed like every other file, so validation still accepts the directory
    verify_files(root, doc, allow_extra=("report.json", "report.md"))
    assert sorted(p.relative_to(root).as_posix() for p in (root / "npm").rglob("*")) == [npm["tarball"]]

    with tarfile.open(tarball) as tar:
        names = sorted(tar.getnames())
        pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
        packaged = json.load(tar.extractfile("package/model/manifest.json"))  # type: ignore[arg-type]
        shipped_js = {f: tar.extractfile(f"package/{f}").read() for f in SHIPPED_JS}  # type: ignore[union-attr]
    assert names == sorted(
        [
            "package/README.md",
            *(f"package/{f}" for f in SHIPPED_JS),
            "package/package.json",
            "package/model/manifest.json",
            *(f"package/model/{n}" for n in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt")),
            *(f"package/model/{e['path']}" for f in SHIPPED for e in doc["formats"][f]["files"]),
        ]
    )
    assert not any("savedmodel" in n for n in names)
    # one source of truth: the windowing/decoding and the model loading validation ran, byte for byte
    # the very files validation ran (js/core in Node.js and Chromium, js/node in Node.js), byte for byte
    for rel, data in shipped_js.items():
        assert data == (ROOT / "js" / rel).read_bytes(), rel
    callers = ("client/index.js", "client/browser.js", "node/runner.mjs", "browser/page.mjs")
    for caller in (ROOT / "js" / c for c in callers):
        text = caller.read_text()
        assert "loadRuntime(" in text  # the client and the validation runner load through it ...
        for loader in (
            "'onnxruntime-node'",
            "'@tensorflow/tfjs-converter'",
            "loadGraphModel(",
            "loadSavedModel(",
            "InferenceSession.",
        ):
            assert loader not in text, (caller.name, loader)  # ... and neither has a loader of its own
    node_pkg = json.loads((ROOT / "js" / "package.json").read_text())
    assert pkg["dependencies"] == node_pkg["dependencies"]
    assert "scripts" not in pkg
    tfjs_node = node_pkg["devDependencies"]["@tensorflow/tfjs-node"]
    assert pkg["peerDependencies"] == {"@tensorflow/tfjs-node": tfjs_node}  # optional: savedmodel / tensorflow backend
    assert pkg["peerDependenciesMeta"] == {"@tensorflow/tfjs-node": {"optional": True}}
    assert packaged["client_formats"] == {
        "onnx": {"false": "onnx", "true": "onnx-int8"},
        "tfjs": {"false": "tfjs", "true": "tfjs-fp16"},
    }
    assert pkg["name"] == "@acme/qa-test" and pkg["version"] == "1.2.3-rc.1" and pkg["type"] == "module"
    assert set(packaged["formats"]) == set(SHIPPED)
    assert packaged["formats"]["tfjs"]["output_names"] == {"Identity": "end_logits", "Identity_1": "start_logits"}
    assert "path" not in packaged["source"] and "spec" not in packaged["source"]  # no local paths leak
    assert packaged["validation"]["passed"] is True

    # a rebuild gives the same bytes (npm pack fixes mtimes; our files are copied unchanged)
    first = npm["integrity"]
    (root / npm["tarball"]).write_bytes(b"damaged")  # npm/ is ours: rebuilt, not a reason to refuse
    proc = publish(root, "--name", "@acme/qa-test", "--version", "1.2.3-rc.1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert load_manifest(root)["npm"]["integrity"] == first
    # a new version replaces the old tarball and its manifest entry
    assert publish(root).returncode == 0
    doc = load_manifest(root)
    assert [e["path"] for e in doc["files"] if e["path"].startswith("npm/")] == ["npm/qaport-distilbert-qa-0.1.0.tgz"]
    assert sorted(p.name for p in (root / "npm").iterdir()) == ["qaport-distilbert-qa-0.1.0.tgz"]
    verify_files(root, doc, allow_extra=("report.json", "report.md"))


# -- slow: the real model, real clients -------------------------------------------------------------------


def _npm(args: list[str], cwd: Path, timeout: float = 600) -> None:
    proc = subprocess.run(
        ["npm", *args],
        cwd=cwd,
        env={**os.environ, **NPM_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"npm {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


def _node(script: Path, *args: str, cwd: Path, timeout: float = 600) -> str:
    proc = subprocess.run(
        ["node", str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"node {script.name}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def _project(path: Path, *install: str) -> Path:
    path.mkdir(parents=True)
    (path / "package.json").write_text(json.dumps({"name": path.name, "private": True, "type": "module"}))
    _npm(["install", "--no-audit", "--no-fund", *install], path)
    return path


UNICODE_CONTEXT = (
    "The 🎉 festival in Kyōto drew 4,200 fans 😀 in 1999. Café owners in Zürich cheered, and "
    "Maria Lindqvist (リンドクヴィスト) founded Northwind Labs in Rostock in 2003."
)


def _questions(kind: str) -> list[Any]:
    """The validation questions: the model's held-out set (or protocol texts), plus non-BMP characters."""
    from qaport.squad import Example
    from validate.inputs import heldout_examples, protocol_examples, super_bowl_example

    if kind == "default":
        base = [*heldout_examples(LIMIT), super_bowl_example()]
    else:
        base = protocol_examples("short", LIMIT, seed=7)
    extra = [
        Example("unicode-1", "Who founded Northwind Labs?", UNICODE_CONTEXT),
        Example("unicode-2", "How many fans came to the festival?", UNICODE_CONTEXT),
    ]
    return [*base, *extra]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Any]:
    """A validated copy of the artifacts, packaged; the questions (as validate ran them) alongside."""
    from validate.inputs import protocol_examples

    src = os.environ.get("QAPORT_PUBLISH_TEST_DIR")
    source = Path(src) if src else request.getfixturevalue("default_artifacts")
    root = tmp_path_factory.mktemp("publish") / "art"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("report.*"))
    kind = json.loads((root / "manifest.json").read_text())["source"].get("kind")
    questions = _questions(kind)
    examples = tmp_path_factory.mktemp("q") / "examples.jsonl"
    examples.write_text(
        "".join(json.dumps({"id": q.id, "question": q.question, "context": q.context}) + "\n" for q in questions)
    )
    proc = run_cli("validate", str(root), "--examples", str(examples), *VALIDATE_FAST, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    proc = publish(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # validate adds the protocol's short and long texts (multi-window) to the examples: so do we
    questions += protocol_examples("short", 6) + protocol_examples("long", 3)
    return {"root": root, "questions": questions, "manifest": json.loads((root / "manifest.json").read_text())}


@pytest.fixture(scope="module")
def reference(published: dict[str, Any]) -> list[dict[str, Any]]:
    """Python's answers (qaport.decode on the Keras model), with the encodings and logits to judge ties."""
    from tokenizers import Tokenizer

    from qaport import decode
    from validate.runners.keras_runner import KerasRunner

    root = published["root"]
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    runner = KerasRunner("keras", root, published["manifest"]["source"], root / "tokenizer.json")
    runner.activate()
    try:
        out = []
        for q in published["questions"]:
            enc = decode.encode(tokenizer, q.question, q.context)
            start, end = runner.infer(enc.input_ids, enc.attention_mask)
            answer = decode.answer(runner.infer, tokenizer, q.question, q.context)
            out.append({"answer": answer, "encoded": enc, "start": start, "end": end})
        return out
    finally:
        runner.deactivate()


@pytest.fixture(scope="module")
def client(published: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh project with only the tarball installed from the registry's point of view."""
    tarball = published["root"] / published["manifest"]["npm"]["tarball"]
    return _project(tmp_path_factory.mktemp("client") / "consumer", str(tarball))


CLIENT_SCRIPT = """\
import fs from 'node:fs';
import { QAClient } from '%(name)s';

const [questionsFile, outFile, combos] = process.argv.slice(2);
const items = JSON.parse(fs.readFileSync(questionsFile, 'utf8'));
const out = {};
for (const [runtime, quantized] of JSON.parse(combos)) {
  let qa;
  try {
    qa = await QAClient.fromOptions({ runtime, quantized });
  } catch (err) {
    out[`${runtime}:${quantized}`] = { error: { name: err.name, message: err.message } };
    continue;
  }
  const single = [];
  for (const { question, context } of items) single.push(await qa.predict(question, context));
  const batch = await qa.predictBatch(items);
  out[`${qa.info.format}@${qa.info.runtimeId}`] = { info: qa.info, single, batch };
  await qa.dispose();
}
fs.writeFileSync(outFile, JSON.stringify(out));
"""
PLAIN_COMBOS = [["onnx", False], ["onnx", True], ["tfjs", False], ["tfjs", True], ["savedmodel", False]]
# TF.js is process-wide: the SavedModel sets the tensorflow backend, which TF.js then shares (its default
# once @tensorflow/tfjs-node is installed).
TFJS_NODE_COMBOS = [["savedmodel", False], ["tfjs", False], ["tfjs", True]]
# What each consumer must get: format@runtime -> precision.
PLAIN_EXPECTED = {
    "onnx@onnxruntime-node": "float32",
    "onnx-int8@onnxruntime-node": "int8",
    "tfjs@tfjs-wasm": "float32",
    "tfjs-fp16@tfjs-wasm": "float16",
}
TFJS_NODE_EXPECTED = {"savedmodel@tfjs-node": "float32", "tfjs@tfjs-node": "float32", "tfjs-fp16@tfjs-node": "float16"}


def _answer_all(published: dict[str, Any], project: Path, combos: list[list[Any]]) -> dict[str, Any]:
    qfile = project / "questions.json"
    qfile.write_text(json.dumps([{"question": q.question, "context": q.context} for q in published["questions"]]))
    script = project / "answer.mjs"
    script.write_text(CLIENT_SCRIPT % {"name": published["manifest"]["npm"]["name"]})
    _node(script, str(qfile), str(project / "answers.json"), json.dumps(combos), cwd=project)
    return dict(json.loads((project / "answers.json").read_text()))


@pytest.fixture(scope="module")
def answers(published: dict[str, Any], client: Path) -> dict[str, Any]:
    return _answer_all(published, client, PLAIN_COMBOS)


@pytest.fixture(scope="module")
def client_tfjs_node(published: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consumer that also installed the optional peer @tensorflow/tfjs-node the way the package README
    tells one where only the npm registry is reachable: --ignore-scripts, then qaport's addon build."""
    tarball = published["root"] / published["manifest"]["npm"]["tarball"]
    pkg = json.loads((ROOT / "js" / "package.json").read_text())
    tfjs_node = f"@tensorflow/tfjs-node@{pkg['devDependencies']['@tensorflow/tfjs-node']}"
    project = _project(tmp_path_factory.mktemp("client-tfjs-node") / "consumer", str(tarball))
    _npm(["install", "--ignore-scripts", "--no-audit", "--no-fund", tfjs_node], project)
    build = subprocess.run(
        [
            sys.executable,
            str(ROOT / "js" / "node" / "build_tfjs_node.py"),
            "--package",
            str(project / "node_modules" / "@tensorflow" / "tfjs-node"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return project


@pytest.fixture(scope="module")
def answers_tfjs_node(published: dict[str, Any], client_tfjs_node: Path) -> dict[str, Any]:
    return _answer_all(published, client_tfjs_node, TFJS_NODE_COMBOS)


# A web app built from the packed tarball: installed from npm with a real bundler, the package's own
# qaport-web-assets for the model and wasm files, served on 127.0.0.1 and run in headless Chromium.
WEB_APP = """\
import { QAClient, QAError, IntegrityError, DecodeError } from '%(name)s';

async function answerAll(combos, items) {
  const out = {};
  for (const [runtime, quantized, backend] of combos) {
    const qa = await QAClient.fromOptions({ runtime, quantized, backend });
    const single = [];
    for (const { question, context } of items) single.push(await qa.predict(question, context));
    const batch = await qa.predictBatch(items);
    out[`${qa.info.format}@${qa.info.runtimeId}`] = { info: qa.info, single, batch };
    await qa.dispose();
  }
  return out;
}

async function errorOf(options, question, context) {
  try {
    const qa = await QAClient.fromOptions(options);
    try {
      if (question !== null) await qa.predict(question, context);
    } finally {
      await qa.dispose();
    }
    return null;
  } catch (err) {
    const kind = [QAError, IntegrityError, DecodeError].find((k) => err instanceof k);
    return { name: err.name, message: err.message, kind: kind?.name ?? null };
  }
}

globalThis.qaportApp = { answerAll, errorOf };
"""
WEB_COMBOS = [["onnx", False, "wasm"], ["onnx", True, "wasm"], ["tfjs", False, "wasm"]]
WEB_EXPECTED = {"onnx@onnxruntime-web": "float32", "onnx-int8@onnxruntime-web": "int8", "tfjs@tfjs-wasm-web": "float32"}
# What a web developer runs (the package README says the same): bundle for browsers, code split per runtime.
ESBUILD_ARGS = (
    "--bundle",
    "--format=esm",
    "--splitting",
    "--platform=browser",
    "--outdir=public",
    "--log-level=warning",
)


@pytest.fixture(scope="module")
def web_app(published: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    tarball = published["root"] / published["manifest"]["npm"]["tarball"]
    esbuild = json.loads((ROOT / "js" / "package.json").read_text())["devDependencies"]["esbuild"]
    project = _project(tmp_path_factory.mktemp("web") / "app", str(tarball), f"esbuild@{esbuild}")
    (project / "app.js").write_text(WEB_APP % {"name": published["manifest"]["npm"]["name"]})
    _npm(["exec", "--", "qaport-web-assets", "public"], project)
    proc = subprocess.run(
        [str(project / "node_modules" / ".bin" / "esbuild"), "app.js", *ESBUILD_ARGS],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    (project / "public" / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>qa app</title>'
        '<script type="module" src="app.js"></script>\n'
    )
    return project


@pytest.fixture(scope="module")
def web_answers(published: dict[str, Any], web_app: Path) -> dict[str, Any]:
    from validate.browser import browser_unavailable, find_chromium

    problem = browser_unavailable()
    if problem:
        pytest.fail(f"the bundled web app cannot run: {problem}")
    items = [{"question": q.question, "context": q.context} for q in published["questions"]]
    super_bowl = next(i for i in items if "Super Bowl 50" in i["context"])
    errors = [
        {"name": "tampered", "options": {"runtime": "onnx", "quantized": True}, "tamper": "onnx/model_quantized.onnx"},
        {"name": "savedmodel", "options": {"runtime": "savedmodel"}},
        {"name": "no_model", "options": {"modelUrl": "missing/"}},
        {"name": "bad_backend", "options": {"runtime": "onnx", "backend": "webgl"}},
        {"name": "bad_model_file", "options": {"runtime": "onnx", "modelUrl": "badmodel/"}},
        # about 900 words: the question alone fills the 384-token window
        {"name": "long_question", "options": {}, "question": "why " * 900 + "?", "context": super_bowl["context"]},
        {"name": "not_text", "options": {}, "question": 42, "context": super_bowl["context"]},
    ]
    # a model file the runtime cannot parse, re-signed so its checksum passes (a converter's bug): the
    # runtime's own load error must reach the page as one QAError naming the format's files
    bad = web_app / "public" / "badmodel"
    if not bad.exists():
        shutil.copytree(web_app / "public" / "model", bad)
        (bad / "onnx" / "model.onnx").write_bytes(b"not an ONNX model " * 64)
        resign(bad, "onnx/model.onnx")
    job = web_app / "job.json"
    job.write_text(json.dumps({"combos": WEB_COMBOS, "items": items, "errors": errors}))
    out = web_app / "out.json"
    cmd = ["node", str(ROOT / "tests" / "publish" / "js" / "web_app.mjs"), "--browser", str(find_chromium())]
    cmd += ["--public", str(web_app / "public"), "--job", str(job), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return dict(json.loads(out.read_text()))


def _utf16_slice(text: str, a: int, b: int) -> str:
    return text.encode("utf-16-le")[2 * a : 2 * b].decode("utf-16-le")


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_installed_package_answers_like_python(
    published: dict[str, Any], reference: list[dict[str, Any]], answers: dict[str, Any]
) -> None:
    assert set(answers) == set(PLAIN_EXPECTED) | {"savedmodel:false"}, sorted(answers)
    # without the optional peer, the SavedModel is one QAError line naming the package and how to install it
    err = answers["savedmodel:false"]["error"]
    assert err["name"] == "QAError" and "\n" not in err["message"], err
    assert re.search(
        r"@tensorflow/tfjs-node is not installed; .*npm install @tensorflow/tfjs-node@4\.22\.0", err["message"]
    )
    assert "--ignore-scripts" in err["message"] and "build_tfjs_node.py" in err["message"]
    _check_answers(published, reference, answers, PLAIN_EXPECTED)


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_installed_package_with_tfjs_node_answers_like_python(
    published: dict[str, Any], reference: list[dict[str, Any]], answers_tfjs_node: dict[str, Any]
) -> None:
    """The original post's system: the SavedModel on tfjs-node in a consumer's project, and TF.js there."""
    assert set(answers_tfjs_node) == set(TFJS_NODE_EXPECTED), sorted(answers_tfjs_node)
    for got in answers_tfjs_node.values():
        assert got["info"]["backend"] == "tensorflow" and got["info"]["versions"]["libtensorflow"]
    _check_answers(published, reference, answers_tfjs_node, TFJS_NODE_EXPECTED)


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_bundled_web_app_answers_like_python(
    published: dict[str, Any], reference: list[dict[str, Any]], web_answers: dict[str, Any]
) -> None:
    """The packed tarball in a web app: esbuild picks the browser entry, the app serves the model and the
    runtimes' wasm itself (no other origin is asked), and onnxruntime-web and TF.js wasm answer as Python."""
    assert web_answers["offOrigin"] == [], web_answers["offOrigin"]
    assert web_answers["isolated"] is True
    requested = web_answers["requested"]
    assert "/model/manifest.json" in requested and "/model/onnx/model.onnx" in requested
    assert any(p.startswith("/qaport-wasm/ort/") for p in requested)
    assert any(p.startswith("/qaport-wasm/tfjs/") for p in requested)
    answers = web_answers["answers"]
    assert set(answers) == set(WEB_EXPECTED), sorted(answers)
    for got in answers.values():
        assert got["info"]["crossOriginIsolated"] is True and got["info"]["modelUrl"].endswith("/model/")
    assert answers["onnx@onnxruntime-web"]["info"]["threads"] == 2 or os.cpu_count() != 2
    _check_answers(published, reference, answers, WEB_EXPECTED)
    errors = web_answers["errors"]
    assert errors["tampered"]["kind"] == "IntegrityError", errors["tampered"]
    assert "onnx/model_quantized.onnx does not match its manifest checksum" in errors["tampered"]["message"]
    assert (
        errors["savedmodel"]["kind"] == "QAError"
        and "runtime must be one of onnx, tfjs" in errors["savedmodel"]["message"]
    )
    assert errors["no_model"]["kind"] == "QAError" and "HTTP 404" in errors["no_model"]["message"]
    assert errors["bad_backend"]["kind"] == "QAError" and "wasm, webgpu" in errors["bad_backend"]["message"]
    bad_file = errors["bad_model_file"]  # the runtime's own load error: one QAError naming the format's files
    assert bad_file["kind"] == "QAError" and "\n" not in bad_file["message"], bad_file
    assert "format onnx (onnx/model.onnx) could not be loaded by onnx on wasm" in bad_file["message"], bad_file
    assert errors["long_question"]["kind"] == "DecodeError", errors["long_question"]
    assert errors["not_text"]["kind"] == "QAError" and "question must be a string" in errors["not_text"]["message"]
    # and the page keeps answering afterwards
    (after,) = web_answers["after"].values()
    first = reference[0]["answer"]
    assert (after["single"][0]["text"], after["single"][0]["start"]) == (first.text, first.start)


def _check_answers(
    published: dict[str, Any], reference: list[dict[str, Any]], answers: dict[str, Any], expected: dict[str, str]
) -> None:
    from qaport import decode
    from validate import compare

    questions = published["questions"]
    assert any(len(r["encoded"].windows) > 1 for r in reference)  # long contexts were windowed
    summary = {}
    for key, precision in expected.items():
        fmt, runtime_id = key.split("@")
        got = answers[key]
        assert got["info"]["format"] == fmt and got["info"]["precision"] == precision
        assert got["info"]["runtimeId"] == runtime_id
        tally: Counter[str] = Counter()
        batch_tally: Counter[str] = Counter()
        for q, ref, single, batched in zip(questions, reference, got["single"], got["batch"], strict=True):
            mine = decode.Answer(single["text"], single["score"], single["start"], single["end"])
            assert q.context[mine.start : mine.end] == mine.text  # code points, as in Python
            assert _utf16_slice(q.context, single["startUtf16"], single["endUtf16"]) == mine.text
            r = ref["answer"]
            if precision == "float32":
                assert (mine.text, mine.start, mine.end) == (r.text, r.start, r.end), (key, q.id, mine, r)
                assert mine.score == pytest.approx(r.score, rel=1e-3, abs=1e-6)

            def judge(a: decode.Answer, r: decode.Answer = r, ref: dict[str, Any] = ref, ctx: str = q.context) -> str:
                return compare.classify(
                    r, a, ref["encoded"], ref["start"], ref["end"], ctx, max_answer_len=decode.MAX_ANSWER_LEN
                )

            tally[judge(mine)] += 1
            # predictBatch pads pairs together: logits move in the last float digits, so only ties may flip
            batch_tally[judge(decode.Answer(batched["text"], batched["score"], batched["start"], batched["end"]))] += 1
        n = len(questions)
        summary[key] = (
            f"predict: {tally['agree']} agree, {tally['tie']} tie, {tally['disagree']} disagree of {n}; "
            f"predictBatch: {batch_tally['agree']} / {batch_tally['tie']} / {batch_tally['disagree']}"
        )
        for t in (tally, batch_tally):
            assert (t["agree"] + t["tie"]) / n >= compare.DEFAULT_AGREEMENT[precision], (fmt, summary[key])
    print("\nnpm client vs Python reference:", json.dumps(summary, indent=1))


INTEGRITY_SCRIPT = """\
import { QAClient } from '%(name)s';

const results = [];
for (const [runtime, quantized, modelDir] of JSON.parse(process.argv[2])) {
  try {
    const qa = await QAClient.fromOptions({ runtime, quantized, modelDir });
    results.push({ ok: true, text: (await qa.predict('Who?', 'Maria did.')).text });
    await qa.dispose();
  } catch (err) {
    results.push({ ok: false, name: err.name, message: err.message });
  }
}
console.log(JSON.stringify(results));
"""


@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_installed_package_refuses_modified_model_files(published: dict[str, Any], client: Path) -> None:
    name = published["manifest"]["npm"]["name"]
    model = client / "node_modules" / name / "model"
    cases: list[tuple[str, bool, str, str]] = []

    def tampered(label: str, rel: str, how: str) -> str:
        d = client / f"tampered-{label}"
        shutil.copytree(model, d)
        path = d / rel
        if how == "flip":
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0x01
            path.write_bytes(bytes(data))
        elif how == "escape":
            doc = json.loads((d / "manifest.json").read_text())
            doc["formats"]["onnx"]["main_file"] = "../outside.onnx"
            doc["formats"]["onnx"]["files"][0]["path"] = "../outside.onnx"
            (d / "manifest.json").write_text(json.dumps(doc))
        return str(d)

    cases = [
        (
            "onnx",
            False,
            tampered("onnx", "onnx/model.onnx", "flip"),
            r"onnx/model\.onnx does not match its manifest checksum",
        ),
        ("onnx", True, tampered("int8", "onnx/model_quantized.onnx", "flip"), r"model_quantized\.onnx does not match"),
        (
            "tfjs",
            False,
            tampered("shard", "tfjs/group1-shard1of1.bin", "flip"),
            r"tfjs/group1-shard1of1\.bin does not match",
        ),
        ("tfjs", True, tampered("tok", "tokenizer.json", "flip"), r"tokenizer\.json does not match"),
        ("onnx", False, tampered("escape", "manifest.json", "escape"), r"outside"),
        ("onnx", False, str(model), r""),
    ]
    script = client / "integrity.mjs"
    script.write_text(INTEGRITY_SCRIPT % {"name": name})
    results = json.loads(_node(script, json.dumps([c[:3] for c in cases]), cwd=client))
    for (runtime, quantized, _, pattern), res in zip(cases, results, strict=True):
        if not pattern:
            assert res["ok"], res  # the untouched model still loads
            continue
        assert not res["ok"] and res["name"] == "IntegrityError", (runtime, quantized, res)
        assert re.search(pattern, res["message"]), res["message"]


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_installed_package_refuses_a_modified_savedmodel(published: dict[str, Any], client_tfjs_node: Path) -> None:
    """libtensorflow reads the SavedModel's directory itself: the client verifies every file there first."""
    name = published["manifest"]["npm"]["name"]
    model = client_tfjs_node / "node_modules" / name / "model"
    flipped = client_tfjs_node / "sm-flipped"
    shutil.copytree(model, flipped)
    data = sorted((flipped / "savedmodel" / "variables").glob("variables.data-*"))[0]
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))
    extra = client_tfjs_node / "sm-extra"
    shutil.copytree(model, extra)
    (extra / "savedmodel" / "assets").mkdir(exist_ok=True)
    (extra / "savedmodel" / "assets" / "smuggled.txt").write_text("not in the manifest")
    cases = [["savedmodel", False, str(flipped)], ["savedmodel", False, str(extra)], ["savedmodel", False, str(model)]]
    script = client_tfjs_node / "integrity.mjs"
    script.write_text(INTEGRITY_SCRIPT % {"name": name})
    flipped_res, extra_res, ok_res = json.loads(_node(script, json.dumps(cases), cwd=client_tfjs_node))
    assert flipped_res["name"] == "IntegrityError", flipped_res
    assert re.search(
        r"savedmodel/variables/variables\.data-\S+ does not match its manifest checksum", flipped_res["message"]
    )
    assert extra_res["name"] == "IntegrityError", extra_res
    assert re.search(r"savedmodel/assets/smuggled\.txt is not listed in .*refusing to load", extra_res["message"])
    assert ok_res["ok"], ok_res


QUIET_SCRIPT = """\
import { QAClient } from '%(name)s';

const [question, context] = process.argv.slice(2);
const qa = await QAClient.fromOptions({ runtime: 'savedmodel' });
const answer = await qa.predict(question, context);
console.log(JSON.stringify({ text: answer.text, format: qa.info.format, runtime: qa.info.runtimeId }));
await qa.dispose();
"""


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_savedmodel_client_keeps_the_console_quiet(published: dict[str, Any], client_tfjs_node: Path) -> None:
    """A consumer's console at default settings: runtime 'savedmodel' answers the Super Bowl question and
    libtensorflow (the CPU-only one js/node/build_tfjs_node.py builds against) writes nothing to stderr;
    a TF_CPP_MIN_LOG_LEVEL the user set is kept, for TF's own logger and for absl's."""
    from qaport.default_model import SUPER_BOWL_ANSWER, SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION

    script = client_tfjs_node / "quiet.mjs"
    script.write_text(QUIET_SCRIPT % {"name": published["manifest"]["npm"]["name"]})
    base = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the suite sets it

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["node", str(script), SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT],
            cwd=client_tfjs_node,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
        return proc

    quiet = run()
    assert quiet.stderr == ""
    got = json.loads(quiet.stdout.strip().splitlines()[-1])
    assert (got["format"], got["runtime"]) == ("savedmodel", "tfjs-node")
    if published["manifest"]["source"].get("kind") == "default":
        assert got["text"] == SUPER_BOWL_ANSWER
    chatty = run(TF_CPP_MIN_LOG_LEVEL="0")  # the user's level: info from both loggers
    assert json.loads(chatty.stdout.strip().splitlines()[-1]) == got
    assert "Reading SavedModel from" in chatty.stderr, chatty.stderr[-3000:]  # TF's logger
    assert "MLIR V1 optimization pass is not enabled" in chatty.stderr, chatty.stderr[-3000:]  # absl's


TRANSFORMERS_JS_SCRIPT = """\
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, env } from '@huggingface/transformers';

const [modelDir, questionsFile, outFile] = process.argv.slice(2);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(modelDir)) + path.sep;
const items = JSON.parse(fs.readFileSync(questionsFile, 'utf8'));
const out = {};
for (const dtype of ['fp32', 'q8']) {
  const qa = await pipeline('question-answering', path.basename(modelDir), { dtype });
  out[dtype] = [];
  for (const { question, context } of items) out[dtype].push(await qa(question, context));
  await qa.dispose();
}
fs.writeFileSync(outFile, JSON.stringify(out));
"""


# The replay of transformers.js' rules is the benchmark's (bench/transformers_js.py): one copy.


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_transformers_js_loads_the_directory_and_agrees(
    published: dict[str, Any],
    reference: list[dict[str, Any]],
    answers: dict[str, Any],
    client: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """transformers.js answers from the artifact directory; each difference from ours gets its cause.

    For pairs that fit one window, transformers.js' decoding rules are replayed in Python on
    onnxruntime's logits of the same ONNX file: its answer must be that replay's (so every difference
    from ours comes from its rules, listed below, not from the model files). Longer contexts differ by
    design: transformers.js truncates to one 512-token input, with no stride.
    """
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from bench.transformers_js import rules_span, squash

    root = published["root"]
    project = _project(tmp_path_factory.mktemp("tjs") / "transformersjs", TRANSFORMERS_JS)
    script = project / "tjs.mjs"
    script.write_text(TRANSFORMERS_JS_SCRIPT)
    _node(script, str(root), str(client / "questions.json"), str(project / "out.json"), cwd=project)
    theirs = json.loads((project / "out.json").read_text())

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    special = {i for i, tok in tokenizer.get_added_tokens_decoder().items() if tok.special}
    sep = tokenizer.token_to_id("[SEP]")
    unk = tokenizer.token_to_id("[UNK]")
    summary: dict[str, Counter[str]] = {}
    rows = []
    for dtype, fmt in (("fp32", "onnx"), ("q8", "onnx-int8")):
        session = ort.InferenceSession(str(root / published["manifest"]["formats"][fmt]["main_file"]))
        names = [o.name for o in session.get_outputs()]
        tally: Counter[str] = Counter()
        for q, ref, ours, tj in zip(
            published["questions"], reference, answers[f"{fmt}@onnxruntime-node"]["single"], theirs[dtype], strict=True
        ):
            assert isinstance(tj["answer"], str) and 0.0 <= tj["score"] <= 1.0, tj
            if ours["text"] == tj["answer"]:
                tally["same text"] += 1
                continue
            if squash(ours["text"]) == squash(tj["answer"]):
                tally["same span, text decoded from tokens"] += 1
                continue
            if len(ref["encoded"].windows) > 1:
                reason = "context longer than one 384-token window (transformers.js: one truncated input)"
            else:
                ids = ref["encoded"].windows[0].input_ids
                feed = np.asarray([ids], dtype=np.int64)
                out = dict(
                    zip(
                        names, session.run(None, {"input_ids": feed, "attention_mask": np.ones_like(feed)}), strict=True
                    )
                )
                a, b, score = rules_span(ids, out["start_logits"][0], out["end_logits"][0], special, sep)
                replay = tokenizer.decode(ids[a : b + 1], skip_special_tokens=True)
                same = squash(replay) == squash(tj["answer"]) or abs(score - tj["score"]) <= 1e-4 * max(score, 1e-12)
                if not same:
                    reason = "unexplained"
                elif b - a + 1 > 15:
                    reason = "no maximum answer length (ours: 15 tokens)"
                elif unk in ids:
                    reason = "[UNK] tokens masked as special tokens"
                else:
                    reason = "no word alignment / no merging of equal answers"
                if not same:
                    rows.append(f"  replay of transformers.js rules gave {replay!r} ({score:.6g} vs {tj['score']:.6g})")
            tally[reason] += 1
            rows.append(f"{dtype} {q.id}: ours {ours['text']!r} / transformers.js {tj['answer']!r}: {reason}")
        summary[dtype] = tally
    print("\ntransformers.js vs QAClient:", json.dumps(summary, indent=1), *rows[:40], sep="\n")
    for dtype, tally in summary.items():
        assert tally["unexplained"] == 0, (dtype, tally, [r for r in rows if "unexplained" in r or "replay" in r])


GRAPH_MODEL_SCRIPT = """\
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

// TF.js' own loader, over HTTP as a browser would fetch it (an ephemeral port on loopback).
const [modelDir, inputsFile] = process.argv.slice(2);
const server = http.createServer((req, res) => {
  const file = path.join(modelDir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(modelDir) || !fs.existsSync(file)) { res.writeHead(404).end(); return; }
  res.writeHead(200, {
    'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    connection: 'close', // no idle keep-alive socket for the server to reset while the model runs
  });
  res.end(fs.readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
await tf.setBackend('cpu');
const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8'));
const inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
const out = {};
try {
  for (const fmt of ['tfjs', 'tfjs-fp16']) {
    const record = manifest.formats[fmt];
    const model = await loadGraphModel(`${base}/${record.main_file}`);
    const byLogical = Object.fromEntries(Object.entries(record.output_names).map(([n, l]) => [l, n]));
    out[fmt] = [];
    for (const { ids, mask, shape } of inputs) {
      const feeds = { input_ids: tf.tensor(ids, shape, 'int32'), attention_mask: tf.tensor(mask, shape, 'int32') };
      const [s, e] = await model.executeAsync(feeds, [byLogical.start_logits, byLogical.end_logits]);
      out[fmt].push({ start: Array.from(await s.data()), end: Array.from(await e.data()) });
      tf.dispose([s, e, ...Object.values(feeds)]);
    }
    model.dispose();
  }
} finally {
  server.close();
}
console.log(JSON.stringify(out));
"""


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_tfjs_load_graph_model_runs_the_shipped_model(
    published: dict[str, Any], reference: list[dict[str, Any]], client: Path
) -> None:
    import numpy as np

    picked = [r for r in reference if len(r["encoded"].windows) == 1][:3] + [
        r for r in reference if len(r["encoded"].windows) > 1
    ][:1]
    inputs = [
        {
            "ids": r["encoded"].input_ids.ravel().tolist(),
            "mask": r["encoded"].attention_mask.ravel().tolist(),
            "shape": list(r["encoded"].input_ids.shape),
        }
        for r in picked
    ]
    (client / "graph-inputs.json").write_text(json.dumps(inputs))
    script = client / "graph.mjs"
    script.write_text(GRAPH_MODEL_SCRIPT)
    model = client / "node_modules" / published["manifest"]["npm"]["name"] / "model"
    out = json.loads(_node(script, str(model), str(client / "graph-inputs.json"), cwd=client))
    for fmt, atol in (("tfjs", 1e-4), ("tfjs-fp16", 5e-2)):
        for r, got in zip(picked, out[fmt], strict=True):
            mask = r["encoded"].attention_mask.astype(bool)
            for name in ("start", "end"):
                logits = np.asarray(got[name], dtype=np.float32).reshape(r[name].shape)
                assert np.isfinite(logits[mask]).all(), (fmt, name)
                np.testing.assert_allclose(logits[mask], r[name][mask], atol=atol, rtol=0, err_msg=f"{fmt} {name}")
