"""TF.js on libtensorflow (@tensorflow/tfjs-node), its addon built offline by js/node/build_tfjs_node.py.

Nothing here is skipped: a missing node, npm install or addon build is a failure that says what to run,
since the benchmark's tfjs-node system depends on it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qaport import decode
from qaport.default_model import HELDOUT_PATH, SUPER_BOWL_ANSWER, SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION
from qaport.squad import load_examples
from validate.node_bridge import NODE_DIR, TFJS_NODE_ADDON, NodeRuntime

pytestmark = pytest.mark.node
BUILD = NODE_DIR / "node" / "build_tfjs_node.py"
HOW = "run: npm ci --ignore-scripts in js/, then python js/node/build_tfjs_node.py (nox does both)"


def require_addon() -> Path:
    assert shutil.which("node") is not None, "node (Node.js 20) is not on PATH"
    package = NODE_DIR / "node_modules" / "@tensorflow" / "tfjs-node" / "package.json"
    assert package.is_file(), f"@tensorflow/tfjs-node is not installed in {NODE_DIR}: {HOW}"
    addon = NODE_DIR / "node_modules" / TFJS_NODE_ADDON
    assert addon.is_file(), f"tfjs-node's addon {addon} is not built: {HOW}"
    return addon


def test_build_is_idempotent_and_the_addon_runs_on_libtensorflow() -> None:
    addon = require_addon()
    mtime = addon.stat().st_mtime_ns
    proc = subprocess.run([sys.executable, str(BUILD)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout or "built" in proc.stdout, proc.stdout
    if "up to date" in proc.stdout:
        assert addon.stat().st_mtime_ns == mtime  # nothing rebuilt
    # a second call has nothing to do
    again = subprocess.run([sys.executable, str(BUILD)], capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and "up to date" in again.stdout, again.stdout + again.stderr

    script = (
        "const tf = require('@tensorflow/tfjs-node');"
        "const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));"
        "console.log(JSON.stringify({backend: tf.getBackend(), y: Array.from(y.dataSync()),"
        " tf: tf.backend().binding.TF_Version}));"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = subprocess.run(
        ["node", "-e", script], cwd=NODE_DIR, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    import tensorflow as tf

    assert got == {"backend": "tensorflow", "y": [19, 22, 43, 50], "tf": tf.__version__}

    # On Linux x86-64 the addon links to the CPU-only tensorflow-cpu wheel's libtensorflow, kept in the
    # build script's cache: no CUDA plugin registers at load, so errors-only logging leaves stderr empty.
    sys.path.insert(0, str(BUILD.parent))
    try:
        import build_tfjs_node as build
    finally:
        sys.path.remove(str(BUILD.parent))
    stamp = json.loads(addon.with_name("qaport-build.json").read_text())
    assert stamp["libtensorflow"] == build.default_libtensorflow()
    assert addon.with_name(build.TFLOG).is_file()
    if build.cpu_wheel_available():
        lib = (addon.parents[2] / "deps" / "lib" / "libtensorflow_cc.so.2").resolve()
        assert lib.parent == build.cache_dir().resolve() / "libtensorflow-cpu-2.19.0", lib
        assert run.stderr == ""


def _windows(tokenizer: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Real windows: held-out questions one by one, a batch of several, and a random padded batch."""
    examples = load_examples(HELDOUT_PATH)[:6]
    batches = []
    for ex in examples[:3]:
        enc = decode.encode(tokenizer, ex.question, ex.context)
        batches.append((enc.input_ids, enc.attention_mask))
    encs = [decode.encode(tokenizer, ex.question, ex.context) for ex in examples[3:]]
    width = max(e.input_ids.shape[1] for e in encs)
    pad = [np.pad(e.input_ids, ((0, 0), (0, width - e.input_ids.shape[1]))) for e in encs]
    padm = [np.pad(e.attention_mask, ((0, 0), (0, width - e.attention_mask.shape[1]))) for e in encs]
    batches.append((np.concatenate(pad), np.concatenate(padm)))
    rng = np.random.default_rng(7)
    ids = rng.integers(5, tokenizer.get_vocab_size(), size=(4, 57)).astype(np.int32)
    mask = np.ones_like(ids)
    for row, n in enumerate((57, 40, 12, 1)):
        mask[row, n:] = 0
        ids[row, n:] = 0
    batches.append((ids, mask))
    return batches


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tfjs", "savedmodel"])
def test_tfjs_node_equals_onnxruntime(default_artifacts: Path, fmt: str) -> None:
    """The converted default model's tfjs graph model and its SavedModel (tf.node.loadSavedModel, the
    original post's path), run by runner.mjs on tfjs-node: logits and answers equal onnxruntime's."""
    from tokenizers import Tokenizer

    from validate.runners.ort_runner import OnnxRuntimeRunner

    require_addon()
    root = default_artifacts
    manifest = json.loads((root / "manifest.json").read_text())
    tokenizer_path = root / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    record = manifest["formats"][fmt]
    questions = [(ex.question, ex.context) for ex in load_examples(HELDOUT_PATH)[:8]]
    questions.append((SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT))
    with (
        OnnxRuntimeRunner("onnx", root, manifest["formats"]["onnx"], tokenizer_path) as ort,
        NodeRuntime(
            fmt,
            root / record["main_file"],
            backend="tensorflow" if fmt == "tfjs" else None,
            tokenizer=tokenizer_path,
            output_map=record["output_names"],
        ) as rt,
    ):
        assert rt.ready["backend"] == "tensorflow" and rt.ready["runtime_id"] == "tfjs-node"
        if fmt == "savedmodel":  # the serving signature, by its own input names and int32
            assert {i["name"]: i["dtype"] for i in rt.ready["inputs"]} == {
                "input_ids": "int32",
                "attention_mask": "int32",
            }
            assert rt.ready["signature"] == "serving_default"
        assert rt.ready["versions"]["tfjs-node"] == "4.22.0"
        assert rt.ready["versions"]["libtensorflow"], rt.ready["versions"]
        worst = 0.0
        for ids, mask in _windows(tokenizer):
            want_start, want_end = ort.infer(ids, mask)
            start, end, times = rt.infer(ids, mask, warmup=1, runs=2)
            assert start.shape == end.shape == ids.shape and len(times) == 2
            np.testing.assert_allclose(start, want_start, atol=1e-4, rtol=0)
            np.testing.assert_allclose(end, want_end, atol=1e-4, rtol=0)
            worst = max(worst, float(np.abs(start - want_start).max()), float(np.abs(end - want_end).max()))
        print(f"{fmt} on tfjs-node vs onnxruntime: max |logit diff| {worst:.3g}")

        for question, context in questions:
            got, times = rt.answer(question, context, warmup=0, runs=1)
            ref = decode.answer(ort.infer, tokenizer, question, context)
            assert (got["text"], got["start"], got["end"]) == (ref.text, ref.start, ref.end), (question, got, ref)
            assert got["score"] == pytest.approx(ref.score, abs=1e-4)
            assert len(times) == 1
        assert got["text"] == SUPER_BOWL_ANSWER
        assert rt.stats()["num_tensors"] == rt.ready["num_tensors"]  # nothing leaked on libtensorflow either


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("system_id", ["tfjs-node", "savedmodel-node"])
def test_benchmark_runs_tfjs_node(default_artifacts: Path, system_id: str) -> None:
    """bench's tfjs-node systems (graph model; the post's SavedModel) answer on the tensorflow backend."""
    from bench.systems import SYSTEMS, load, unavailable_reason

    require_addon()
    manifest = json.loads((default_artifacts / "manifest.json").read_text())
    system = SYSTEMS[system_id]
    assert unavailable_reason(system, manifest, default_artifacts) is None
    answerer: Any = load(system, default_artifacts, manifest)
    try:
        assert answerer.runtime == "tfjs-node" and answerer._node.ready["backend"] == "tensorflow"
        # the graph model's weights are TF.js tensors; the SavedModel's live inside libtensorflow's session
        assert answerer.stats()["num_tensors"] > 0 if system_id == "tfjs-node" else answerer.stats()["num_tensors"] == 0
        got, times = answerer.answer(SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT, warmup=1, runs=2)
        assert got.text == SUPER_BOWL_ANSWER and len(times) == 2 and all(t > 0 for t in times)
    finally:
        answerer.deactivate()
